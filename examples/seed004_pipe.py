# Seed 004 ("python并行计算进程池通信_Python使用进程池管理进程和进程间通信"): a child sends a string through a Pipe, the parent receives it; each says which process it is.
import multiprocessing


def f(conn):
    print(f"({multiprocessing.current_process().name}) starts sending data...", flush=True)
    conn.send("Python")  # send through the child's end


if __name__ == "__main__":
    # Pipe() returns the two ends (Connection objects) of one pipe
    parent_conn, child_conn = multiprocessing.Pipe()
    p = multiprocessing.Process(target=f, args=(child_conn,))
    p.start()
    print(f"({multiprocessing.current_process().name}) starts receiving data...", flush=True)
    print(parent_conn.recv())  # Python: read from the other end
    p.join()
