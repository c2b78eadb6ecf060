# Seed 000 ("Python class library 32 [multi-process communication queue + pipe + value + array]"): a child sends one list through a Pipe and the parent receives it.
from multiprocessing import Pipe, Process


def f(conn):
    conn.send([42, None, "hello"])
    conn.close()


if __name__ == "__main__":
    parent_conn, child_conn = Pipe()
    p = Process(target=f, args=(child_conn,))
    p.start()
    p.join()
    print(parent_conn.recv())  # prints "[42, None, 'hello']"
