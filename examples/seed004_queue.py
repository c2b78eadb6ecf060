# Seed 004 ("python并行计算进程池通信_Python使用进程池管理进程和进程间通信"): a child puts a string on a Queue, the parent gets it; each says which process it is.
import multiprocessing


def f(q):
    print(f"({multiprocessing.current_process().name}) starts putting data...", flush=True)
    q.put("Python")


if __name__ == "__main__":
    # The Queue the two processes communicate through
    q = multiprocessing.Queue()
    p = multiprocessing.Process(target=f, args=(q,))
    p.start()
    print(f"({multiprocessing.current_process().name}) starts getting data...", flush=True)
    print(q.get())  # Python
    p.join()
