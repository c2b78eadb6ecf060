# Seed 003 ("Python Development Foundation---interprocess communication, process pooling, and co-process"): parent and child each send and receive on their own end of one two-way Pipe.
import multiprocessing


def foo(sk):
    sk.send("hello world")
    print(sk.recv(), flush=True)


if __name__ == "__main__":
    conn1, conn2 = multiprocessing.Pipe()  # two ends, both can send; Pipe(False) is one-way
    p = multiprocessing.Process(target=foo, args=(conn1,))  # the child uses conn1
    p.start()
    print(conn2.recv(), flush=True)  # the main process receives on conn2...
    conn2.send("hi son")  # ...and sends on it
    p.join()

# Output:
# hello world
# hi son
