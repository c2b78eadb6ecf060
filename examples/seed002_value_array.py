# Seed 002 ("【python学习】基础篇-常用模块-multiprocessing模块:多种进程间通信"): a child writes a shared Value and Array of doubles; the parent reads what it wrote.
from multiprocessing import Array, Process, Value


def worker(n, a):
    n.value = 3.1415926
    for i in range(len(a)):
        a[i] = -a[i]


if __name__ == "__main__":
    num = Value("d", 0.0)
    arr = Array("d", [1.0, 2.0, 3.0])
    p = Process(target=worker, args=(num, arr))
    p.start()
    p.join()
    print(num.value)  # 3.1415926
    print(arr[:])  # [-1.0, -2.0, -3.0]
