# Seed 004 ("python并行计算进程池通信_Python使用进程池管理进程和进程间通信"): a Pool of 4 processes used as a context manager runs map() over three inputs; results come back in input order.
import multiprocessing


def action(limit):
    my_sum = 0
    for i in range(limit):
        my_sum += i
    return my_sum


if __name__ == "__main__":
    # The with block closes the pool for us
    with multiprocessing.Pool(processes=4) as pool:
        # Three inputs, so three calls of action, each in a pool process
        results = pool.map(action, (50, 100, 150))
    print("--------------")
    for r in results:
        print(r)
