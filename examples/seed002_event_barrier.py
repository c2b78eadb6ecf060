# Seed 002 ("【python学习】基础篇-常用模块-multiprocessing模块:多种进程间通信"): three children wait for an Event, then meet at a Barrier before going on.
from multiprocessing import Barrier, Event, Process


def worker(event, barrier):
    event.wait()  # until the parent calls event.set()
    print("Worker", flush=True)
    barrier.wait()  # until all three have printed "Worker"
    print("Barrier", flush=True)


if __name__ == "__main__":
    event = Event()
    barrier = Barrier(3)
    p1 = Process(target=worker, args=(event, barrier))
    p2 = Process(target=worker, args=(event, barrier))
    p3 = Process(target=worker, args=(event, barrier))
    p1.start()
    p2.start()
    p3.start()
    event.set()
    p1.join()
    p2.join()
    p3.join()

# Output: three "Worker" lines, then three "Barrier" lines
