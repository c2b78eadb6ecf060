# Seed 004 ("python并行计算进程池通信_Python使用进程池管理进程和进程间通信"): submit three calls to a Pool of 4 processes with apply_async(): no argument, a positional one, a keyword one.
import multiprocessing
import time


def action(name="default"):
    process = multiprocessing.current_process().name
    print(f"({process}) process running, argument: {name}", flush=True)
    time.sleep(0.1)


if __name__ == "__main__":
    # A pool of 4 processes
    pool = multiprocessing.Pool(processes=4)
    # Submit action three times; apply_async() does not wait for the call to end
    pool.apply_async(action)
    pool.apply_async(action, args=("positional argument",))
    pool.apply_async(action, kwds={"name": "keyword argument"})
    pool.close()  # no more tasks: the workers end when the queued ones are done
    pool.join()  # wait for them
