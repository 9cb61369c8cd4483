"""The benchmark workloads done with the Python binding (``openaimodel``),
written as a user of it would write them. Run by bench/run.py with the same
interpreter as bench/sdk_bench.py; prints one JSON object on stdout.

    py_bench.py chat    BASE N      N sequential ask() calls after one warm-up
    py_bench.py cold    BASE        import, create a model, one ask()
    py_bench.py stream  BASE        one ask_stream(), every piece read
    py_bench.py image   BASE FILE   describe_image() of a local file
    py_bench.py train   BASE CSV    train(data_file=...)
    py_bench.py threads BASE T N    N asks on 1 thread, then N on each of T
                                    threads sharing the model

The model keeps its dialogue in memory only (save_dialogue=False), like the
SDK, which saves nothing; bench/run.py also measures the default.
"""

import sys
import time

import harness

MESSAGE = "Say hello to the benchmark."
IMAGE_PROMPT = "Describe this image as JSON."


def model(base, save_dialogue=False, data_dir=None):
    from openaimodel import OpenAIModel
    return OpenAIModel(api_key="sk-bench", base_url=base, model_name="gpt-4o-mini",
                       save_dialogue=save_dialogue, data_dir=data_dir)


def ask(m):
    reply = m.ask(MESSAGE)
    if not reply:
        raise SystemExit("py_bench: empty reply")
    return reply


def chat(base, n, data_dir=None):
    m = model(base, save_dialogue=data_dir is not None, data_dir=data_dir)
    ask(m)  # connection set up: not timed
    t0 = time.perf_counter()
    for _ in range(n):
        ask(m)
    t = time.perf_counter() - t0
    m.close()
    return {"seconds": t, "count": n}


def cold(base):
    m = model(base)
    ask(m)
    return {"count": 1}


def stream(base):
    m = model(base)
    t0 = time.perf_counter()
    pieces = []
    deltas = 0
    for piece in m.ask_stream(MESSAGE):
        pieces.append(piece)
        deltas += 1
    reply = "".join(pieces).strip()
    t = time.perf_counter() - t0
    m.close()
    return {"seconds": t, "deltas": deltas, "reply_bytes": len(reply.encode())}


def image(base, path):
    import json
    m = model(base)
    t0 = time.perf_counter()
    description = m.describe_image(path, IMAGE_PROMPT)
    t = time.perf_counter() - t0
    m.close()
    return {"seconds": t, "reply_bytes": len(json.dumps(description))}


def train(base, csv_path):
    m = model(base)
    t0 = time.perf_counter()
    job = m.train(data_file=csv_path)
    t = time.perf_counter() - t0
    m.close()
    return {"seconds": t, "job": job}


def threads(base, t, n):
    m = model(base)
    out = harness.threaded(lambda: ask(m), t, n)
    m.close()
    return out


WORKLOADS = {"chat": chat, "cold": cold, "stream": stream, "image": image, "train": train,
             "threads": threads}


if __name__ == "__main__":
    harness.main(sys.argv, "py_bench", WORKLOADS)
