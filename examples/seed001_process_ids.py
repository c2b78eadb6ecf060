# Seed 001 ("Multiprocessing process-based 'line program' interface python"): the parent and the child each print their module name, parent process id and process id.
import os
from multiprocessing import Process


def info(title):
    print(title)
    print("module name:", __name__)
    print("parent process:", os.getppid())
    print("process id:", os.getpid())


def f(name):
    info("function f")
    print("hello", name)


if __name__ == "__main__":
    info("main line")
    p = Process(target=f, args=("bob",))
    p.start()
    p.join()
