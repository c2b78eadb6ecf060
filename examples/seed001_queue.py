# Seed 001 ("Multiprocessing process-based 'line program' interface python"): a child puts one list on a Queue and the parent gets it.
from multiprocessing import Process, Queue


def f(q):
    q.put([42, None, "hello"])  # add one item to the queue


if __name__ == "__main__":
    q = Queue()
    p = Process(target=f, args=(q,))
    p.start()
    print(q.get())  # prints "[42, None, 'hello']"
    p.join()
