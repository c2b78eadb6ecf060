# Seed 000 ("Python class library 32 [multi-process communication queue + pipe + value + array]"): Process subclasses take tasks from a JoinableQueue until a poison pill and put their answers on a Queue.
"""Consumers written as Process subclasses with their own run().

The main process puts ten tasks on a JoinableQueue, then one poison pill
(None) per consumer, and waits in tasks.join() until every item has been
marked done with task_done(). The answers come back on a second Queue.
"""

import multiprocessing
import time


class Consumer(multiprocessing.Process):
    def __init__(self, task_queue, result_queue):
        super().__init__()
        self.task_queue = task_queue
        self.result_queue = result_queue

    def run(self):
        while True:
            next_task = self.task_queue.get()
            if next_task is None:
                # Poison pill means shutdown
                self.task_queue.task_done()
                break
            answer = next_task()  # Task.__call__()
            self.task_queue.task_done()
            self.result_queue.put(answer)


class Task:
    def __init__(self, a, b):
        self.a = a
        self.b = b

    def __call__(self):
        time.sleep(0.1)  # pretend to take some time to do the work
        return f"{self.a} * {self.b} = {self.a * self.b}"


if __name__ == "__main__":
    # Establish communication queues
    tasks = multiprocessing.JoinableQueue()
    results = multiprocessing.Queue()

    # Start consumers (the article starts multiprocessing.cpu_count() of them)
    num_consumers = 2
    print(f"Creating {num_consumers} consumers")
    consumers = [Consumer(tasks, results) for _ in range(num_consumers)]
    for w in consumers:
        w.start()

    # Enqueue jobs
    num_jobs = 10
    for i in range(num_jobs):
        tasks.put(Task(i, i))

    # Add a poison pill for each consumer
    for _ in range(num_consumers):
        tasks.put(None)

    # Wait for all of the tasks to finish
    tasks.join()

    # The consumers work side by side, so the answers arrive in any order:
    # sort them before printing
    answers = [results.get() for _ in range(num_jobs)]
    for answer in sorted(answers):
        print("Result:", answer)

    for w in consumers:
        w.join()
