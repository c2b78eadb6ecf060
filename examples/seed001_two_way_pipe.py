# Seed 001 ("Multiprocessing process-based 'line program' interface python"): two children talk both ways over the two ends of one Pipe.
import multiprocessing as mul


def proc1(pipe):
    pipe.send("hello")
    # flush: the two children print in turn, so each line goes out when printed
    print("proc1 rec:", pipe.recv(), flush=True)


def proc2(pipe):
    print("proc2 rec:", pipe.recv(), flush=True)
    pipe.send("hello, too")


if __name__ == "__main__":
    pipe1, pipe2 = mul.Pipe()  # two-way (duplex) by default
    p1 = mul.Process(target=proc1, args=(pipe1,))  # one end of the pipe to process 1
    p2 = mul.Process(target=proc2, args=(pipe2,))  # the other end to process 2
    p1.start()
    p2.start()
    p1.join()
    p2.join()

# Output:
# proc2 rec: hello
# proc1 rec: hello, too
