"""The benchmark workloads done with the official ``openai`` package, written
as a user of it would write them. Run by bench/run.py in bench/venv; prints
one JSON object on stdout, like bench/om_bench.c.

    sdk_bench.py chat    BASE N      N sequential completions after one warm-up
    sdk_bench.py cold    BASE        import, create a client, one completion
    sdk_bench.py stream  BASE        one streamed completion, every chunk read
    sdk_bench.py image   BASE FILE   describe a local image (base64 data URI)
    sdk_bench.py train   BASE CSV    csv + json to JSONL, files.create, jobs.create
    sdk_bench.py threads BASE T N    N completions on 1 thread, then N on each
                                     of T threads sharing the client

The requests carry what libopenaimodel sends: the same model, message,
temperature 0 and token limit.
"""

import sys
import time

import harness

MESSAGE = "Say hello to the benchmark."
IMAGE_PROMPT = "Describe this image as JSON."
MODEL = "gpt-4o-mini"


def client(base):
    from openai import OpenAI
    return OpenAI(api_key="sk-bench", base_url=base)


def ask(c):
    r = c.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": MESSAGE}],
                                  temperature=0, max_completion_tokens=8000)
    reply = (r.choices[0].message.content or "").strip()
    if not reply:
        raise SystemExit("sdk_bench: empty reply")
    return reply


def chat(base, n):
    c = client(base)
    ask(c)  # connection set up: not timed
    t0 = time.perf_counter()
    for _ in range(n):
        ask(c)
    t = time.perf_counter() - t0
    return {"seconds": t, "count": n}


def cold(base):
    c = client(base)
    ask(c)
    return {"count": 1}


def stream(base):
    c = client(base)
    t0 = time.perf_counter()
    pieces = []
    deltas = 0
    s = c.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": MESSAGE}],
                                  temperature=0, max_completion_tokens=8000, stream=True,
                                  stream_options={"include_usage": True})
    for chunk in s:
        if chunk.choices:
            piece = chunk.choices[0].delta.content
            if piece:
                pieces.append(piece)
                deltas += 1
    reply = "".join(pieces).strip()
    t = time.perf_counter() - t0
    return {"seconds": t, "deltas": deltas, "reply_bytes": len(reply.encode())}


def image(base, path):
    import base64
    import json
    c = client(base)
    t0 = time.perf_counter()
    with open(path, "rb") as f:
        data = base64.b64encode(f.read()).decode("ascii")
    r = c.chat.completions.create(
        model=MODEL, temperature=0, max_completion_tokens=800,
        messages=[{"role": "user", "content": [
            {"type": "text", "text": IMAGE_PROMPT},
            {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{data}", "detail": "auto"}},
        ]}])
    description = json.loads(r.choices[0].message.content)
    t = time.perf_counter() - t0
    return {"seconds": t, "reply_bytes": len(json.dumps(description))}


def train(base, csv_path):
    import csv
    import json
    import os
    import tempfile
    c = client(base)
    t0 = time.perf_counter()
    fd, jsonl = tempfile.mkstemp(suffix=".jsonl")
    try:
        examples = 0
        with open(csv_path, newline="", encoding="utf-8") as src, os.fdopen(fd, "w", encoding="utf-8") as out:
            rows = csv.reader(src)
            header = [h.strip().lower() for h in next(rows)]
            p, a = header.index("prompt"), header.index("completion")
            for row in rows:
                if len(row) != len(header) or not row[p].strip() or not row[a].strip():
                    raise SystemExit(f"sdk_bench: bad row {rows.line_num}")
                out.write(json.dumps({"messages": [{"role": "user", "content": row[p]},
                                                   {"role": "assistant", "content": row[a]}]}) + "\n")
                examples += 1
        with open(jsonl, "rb") as f:
            uploaded = c.files.create(file=f, purpose="fine-tune")
        job = c.fine_tuning.jobs.create(training_file=uploaded.id, model=MODEL)
    finally:
        os.unlink(jsonl)
    t = time.perf_counter() - t0
    return {"seconds": t, "job": job.id, "examples": examples}


def threads(base, t, n):
    c = client(base)
    out = harness.threaded(lambda: ask(c), t, n)
    return out


WORKLOADS = {"chat": chat, "cold": cold, "stream": stream, "image": image, "train": train,
             "threads": threads}


if __name__ == "__main__":
    harness.main(sys.argv, "sdk_bench", WORKLOADS)
