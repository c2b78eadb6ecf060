# Seed 001 ("Multiprocessing process-based 'line program' interface python"): a one-way Pipe(duplex=False): the child sends on one end, the parent receives on the other.
from multiprocessing import Pipe, Process


def f(conn):
    conn.send([42, None, "hello"])  # send on the child's end of the pipe
    conn.close()


if __name__ == "__main__":
    # One-way: parent_conn can only receive, child_conn can only send
    parent_conn, child_conn = Pipe(duplex=False)
    p = Process(target=f, args=(child_conn,))
    p.start()
    print(parent_conn.recv())  # prints "[42, None, 'hello']"
    p.join()
