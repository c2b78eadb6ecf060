# Seed 003 ("Python Development Foundation---interprocess communication, process pooling, and co-process"): five children append to one list held by a Manager.
from multiprocessing import Manager, Process


def foo(ml, i):
    ml.append(i**i)


if __name__ == "__main__":
    with Manager() as man:
        ml = man.list([11, 22, 33])
        processes = []
        for i in range(5):
            p = Process(target=foo, args=(ml, i))
            p.start()
            processes.append(p)
        for p in processes:  # join them all before reading the list
            p.join()
        print(ml)  # [11, 22, 33] then 1, 1, 4, 27, 256 in the order the children ran
