# Seed 003 ("Python Development Foundation---interprocess communication, process pooling, and co-process"): hand the Queue to the child as an argument; the child puts a list and prints the queue's size.
import multiprocessing


def foo(argument):
    argument.put([11, "hello", True])
    print(argument.qsize(), flush=True)  # 1: nobody has taken the item yet


if __name__ == "__main__":
    x = multiprocessing.Queue()  # made by the main process...
    p = multiprocessing.Process(target=foo, args=(x,))  # ...and passed to the child
    p.start()
    p.join()
    print(x.get())
