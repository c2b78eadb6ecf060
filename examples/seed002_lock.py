# Seed 002 ("【python学习】基础篇-常用模块-multiprocessing模块:多种进程间通信"): three children take turns with a Lock to add one to a shared Value.
import time
from multiprocessing import Lock, Process, Value


def worker(lock, num):
    with lock:  # lock.acquire() ... lock.release(), even if the body raises
        time.sleep(0.1)  # hold the lock a while: the others wait for it
        num.value += 1  # read, add, write: safe only while holding the lock


if __name__ == "__main__":
    num = Value("i", 0)
    lock = Lock()
    workers = [Process(target=worker, args=(lock, num)) for _ in range(3)]
    for p in workers:
        p.start()
    for p in workers:
        p.join()
    print(num.value)  # 3
