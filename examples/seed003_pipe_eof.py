# Seed 003 ("Python Development Foundation---interprocess communication, process pooling, and co-process"): every process closes the Pipe end it does not use, so the consumer gets EOFError when the producer is done.
from multiprocessing import Pipe, Process


def consumer(p, name):
    left, right = p
    left.close()  # the consumer only reads from right
    while True:
        try:
            baozi = right.recv()
            print(f"{name} received bun: {baozi}")
        except EOFError:  # every copy of left is closed: nothing more can come
            right.close()
            break


def producer(seq, p):
    left, right = p
    right.close()  # the producer only writes to left
    for i in seq:
        left.send(i)
    left.close()


if __name__ == "__main__":
    left, right = Pipe()
    c1 = Process(target=consumer, args=((left, right), "c1"))
    c1.start()

    seq = (i for i in range(10))
    producer(seq, (left, right))  # the main process is the producer
    right.close()
    left.close()

    c1.join()
    print("main process")
