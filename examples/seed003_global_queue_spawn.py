# Seed 003 ("Python Development Foundation---interprocess communication, process pooling, and co-process"): a child started by spawn does not see a Queue the parent made under if __name__ == "__main__".
"""Why the article passes the queue as an argument (see seed003_queue_argument.py).

A spawned child (the only start method on Windows, the default on macOS)
imports this file afresh as "__mp_main__", so the block under
if __name__ == "__main__" does not run in it and the global q does not exist
there: foo() fails with NameError (its traceback goes to stderr) and nothing
is ever put. With fork, the child would inherit q and it would work.
"""

import multiprocessing
import queue


def foo():
    q.put([11, "hello", True])  # q: a global of the parent's __main__ only


if __name__ == "__main__":
    ctx = multiprocessing.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=foo)
    p.start()
    p.join()
    print("child exit code:", p.exitcode)  # 1: NameError: name 'q' is not defined
    try:
        print(q.get(timeout=1))  # without a timeout, this would wait forever
    except queue.Empty:
        print("nothing arrived: the child had no q to put into")
