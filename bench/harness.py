"""What bench/py_bench.py and bench/sdk_bench.py share: the measurement
around the work, not the work (each does that as its users would). Imports
nothing at load, so it adds nothing to the cold start of either side."""


def emit(result):
    """Prints the result as a JSON object without importing json (its import
    would count in the cold start); values are numbers and plain strings."""
    items = []
    for k, v in result.items():
        items.append(f'"{k}": ' + (f'"{v}"' if isinstance(v, str) else repr(v)))
    print("{" + ", ".join(items) + "}")


def threaded(ask, t, n):
    """``n`` calls of ``ask()`` on one thread, then ``n`` on each of ``t``
    threads at once; each thread's first call (its connection) is not timed.
    Returns the workload's result."""
    import threading
    import time

    def run(count):
        ready = threading.Barrier(count + 1)

        def work():
            ask()
            ready.wait()
            for _ in range(n):
                ask()
        ts = [threading.Thread(target=work) for _ in range(count)]
        for th in ts:
            th.start()
        ready.wait()
        t0 = time.perf_counter()
        for th in ts:
            th.join()
        return time.perf_counter() - t0

    one = run(1)
    many = run(t)
    return {"one_seconds": one, "one_count": n, "many_seconds": many, "many_count": n * t, "threads": t}


def main(argv, name, workloads):
    """``<script> WORKLOAD BASE [ARGS]``: runs ``workloads[WORKLOAD]`` with its
    arguments (chat: N [--dialogue DIR]; image, train: FILE; threads: T N)
    and prints its result."""
    if len(argv) < 3 or argv[1] not in workloads:
        raise SystemExit(f"{name}: usage: {name} {'|'.join(workloads)} BASE_URL ...")
    mode, base, rest = argv[1], argv[2], argv[3:]
    work = workloads[mode]
    if mode == "chat":
        extra = {"data_dir": rest[2]} if rest[1:2] == ["--dialogue"] else {}
        out = work(base, int(rest[0]), **extra)
    elif mode in ("image", "train"):
        out = work(base, rest[0])
    elif mode == "threads":
        out = work(base, int(rest[0]), int(rest[1]))
    else:
        out = work(base)
    emit(out)
