# Seed 002 ("【python学习】基础篇-常用模块-multiprocessing模块:多种进程间通信"): a child sends one string through a Pipe; the parent waits for the child, then receives it.
from multiprocessing import Pipe, Process


def worker(conn):
    conn.send("hello")
    conn.close()


if __name__ == "__main__":
    parent_conn, child_conn = Pipe()
    p = Process(target=worker, args=(child_conn,))
    p.start()
    p.join()
    print(parent_conn.recv())
