# Seed 003 ("Python Development Foundation---interprocess communication, process pooling, and co-process"): a Pool of 5 processes runs ten calls one at a time with apply().
import time
from multiprocessing import Pool


def foo(n):
    print(n, flush=True)
    time.sleep(0.05)


if __name__ == "__main__":
    pool_obj = Pool(5)
    for i in range(10):
        # apply() waits for each call's result: one worker at a time runs foo.
        # pool_obj.apply_async(foo, args=(i,)) would run five at once.
        pool_obj.apply(foo, args=(i,))
    pool_obj.close()
    pool_obj.join()
    print("ending")
