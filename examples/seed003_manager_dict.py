# Seed 003 ("Python Development Foundation---interprocess communication, process pooling, and co-process"): five children each set a key of one dict held by a Manager.
from multiprocessing import Manager, Process


def foo(md, k, v):
    md[k] = v


if __name__ == "__main__":
    with Manager() as man:
        md = man.dict({"name": "Bob"})
        processes = []
        for i in range(5):
            p = Process(target=foo, args=(md, i, "a"))
            p.start()
            processes.append(p)
        for p in processes:  # join them all before reading the dict
            p.join()
        print(md)  # 'name' and the keys 0 to 4, in the order the children ran
