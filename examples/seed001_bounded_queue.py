# Seed 001 ("Multiprocessing process-based 'line program' interface python"): ten processes put into a Queue of at most 3 items, ten others get from it, a Lock keeps their lines whole.
import multiprocessing


def inputq(queue):
    """Put one item saying which process put it (blocks while the queue is full)."""
    info = f"{multiprocessing.current_process().name} (put)"
    queue.put(info)


def outputq(queue, lock):
    """Get one item and print it, one whole line at a time."""
    info = queue.get()
    with lock:
        print(f"{multiprocessing.current_process().name} (get): {info}", flush=True)


if __name__ == "__main__":
    record1 = []  # the input processes
    record2 = []  # the output processes
    lock = multiprocessing.Lock()  # so that the output lines do not mix
    queue = multiprocessing.Queue(3)  # at most 3 items in it at once

    for _ in range(10):
        process = multiprocessing.Process(target=inputq, args=(queue,))
        process.start()
        record1.append(process)

    for _ in range(10):
        process = multiprocessing.Process(target=outputq, args=(queue, lock))
        process.start()
        record2.append(process)

    for p in record1:
        p.join()
    queue.close()  # no more data will come from this process

    for p in record2:
        p.join()
