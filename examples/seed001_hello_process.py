# Seed 001 ("Multiprocessing process-based 'line program' interface python"): start one Process that runs a function, and wait for it.
from multiprocessing import Process


def f(name):
    print("hello", name)


if __name__ == "__main__":
    p = Process(target=f, args=("bob",))  # create a process
    p.start()  # start it
    p.join()  # wait for it to end
