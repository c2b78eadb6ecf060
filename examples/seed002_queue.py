# Seed 002 ("【python学习】基础篇-常用模块-multiprocessing模块:多种进程间通信"): a child puts one string on a Queue; the parent waits for the child, then gets it.
from multiprocessing import Process, Queue


def worker(q):
    q.put("hello")


if __name__ == "__main__":
    q = Queue()
    p = Process(target=worker, args=(q,))
    p.start()
    p.join()  # safe here: one small item; a child that puts a lot must be read before join
    print(q.get())
