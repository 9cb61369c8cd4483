#!/usr/bin/env python3
"""make bench: libopenaimodel side by side with the official ``openai``
package and a bare libcurl loop, in one run.

Starts nginx (bench/nginx.conf.in) on a free loopback port as an ordinary
process, installs the official SDK into bench/venv, builds the C programs
(bench/om_bench.c, bench/curl_floor.c, bench/peak.c) and generates the
inputs (an SSE stream file, a PNG image, a CSV file) in bench/work. Each
workload is run several times per side, each run in a fresh process whose
peak resident memory is read from wait4() by bench/peak.c; the order of the
sides rotates from round to round so that drift on a busy machine does not
favour one side. Figures are medians; a ratio is the median, over rounds, of
the two sides' ratio within the same round.

Sides: "C" (a C program using libopenaimodel), "binding" (the Python
package openaimodel), "SDK" (the official openai package), "floor" (a bare
libcurl C program doing the same HTTP exchange).

Environment:
    BENCH_QUICK=1        small sizes and fewer runs (development); results go
                         to bench/work/results-quick.json, README untouched
    BENCH_ONLY=a,b       only these workloads (cold, chat, stream, image,
                         train, threads); partial results go to
                         bench/work/results-partial.json
    BENCH_RUNS=n         runs per side for every workload
    BENCH_NO_README=1    do not rewrite the README's table

Writes bench/results.json and the table in README.md (between the
"bench:table" markers) after a full run.
"""

import datetime
import json
import os
import platform
import random
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
WORK = BENCH / "work"
VENV = BENCH / "venv"
BIN = WORK / "bin"
LIB = ROOT / ".build" / "release" / "libopenaimodel.so"
BINDING = ROOT / "bindings" / "python"
VPY = VENV / "bin" / "python"
ECHO_MODULE = Path("/usr/lib/nginx/modules/ngx_http_echo_module.so")

QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
ONLY = [w for w in os.environ.get("BENCH_ONLY", "").split(",") if w]
WORKLOADS = ["cold", "chat", "stream", "image", "train", "threads"]
# Table rows: the workloads, and the chat with the library's default dialogue
# file (measured in the chat rounds).
ROWS = ["cold", "chat", "chat_dialogue", "stream", "image", "train", "threads"]

FULL = dict(chat_n=2000, chat_runs=9, cold_runs=7, stream_events=100_000, stream_runs=7,
            image_mb=50, image_runs=5, train_mb=200, train_runs=3, threads=8, thread_n=30,
            thread_runs=3, latency_ms=50)
SMALL = dict(chat_n=300, chat_runs=3, cold_runs=3, stream_events=20_000, stream_runs=3,
             image_mb=10, image_runs=3, train_mb=20, train_runs=2, threads=8, thread_n=10,
             thread_runs=2, latency_ms=50)
P = dict(SMALL if QUICK else FULL)
if os.environ.get("BENCH_RUNS"):
    for k in list(P):
        if k.endswith("_runs"):
            P[k] = int(os.environ["BENCH_RUNS"])

SIDES = ["c", "py", "sdk", "floor"]
SIDE_NAMES = {"c": "C", "py": "binding", "sdk": "SDK", "floor": "floor",
              "c_file": "C (dialogue file)", "py_file": "binding (dialogue file)"}


def log(msg):
    print(msg, flush=True)


def die(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)
    sys.exit(1)


# ---------------------------------------------------------------------------
# Set-up: tools, venv, programs, inputs
# ---------------------------------------------------------------------------

def sh(argv, **kw):
    return subprocess.run(argv, check=True, **kw)


def ensure_nginx():
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if nginx and ECHO_MODULE.exists():
        return nginx
    pkgs = [] if nginx else ["nginx-light"]
    if not ECHO_MODULE.exists():
        pkgs.append("libnginx-mod-http-echo")
    log(f"bench: installing {' '.join(pkgs)} from Debian")
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    sh(sudo + ["apt-get", "update", "-qq"])
    sh(sudo + ["apt-get", "install", "-y", "-qq", *pkgs], env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists() or not ECHO_MODULE.exists():
        die("nginx with the echo module is needed (Debian: nginx-light libnginx-mod-http-echo)")
    return nginx


def ensure_venv():
    if VPY.exists() and subprocess.run([str(VPY), "-c", "import openai"], capture_output=True).returncode == 0:
        return
    log("bench: installing the official openai package into bench/venv")
    if not VPY.exists():
        sh([sys.executable, "-m", "venv", str(VENV)])
    sh([str(VPY), "-m", "pip", "install", "-q", "--disable-pip-version-check", "openai"])


def build_programs():
    BIN.mkdir(parents=True, exist_ok=True)
    if not LIB.exists():
        die(f"{LIB} is missing: run 'make lib' (make bench does)")
    curl = subprocess.run(["pkg-config", "--cflags", "--libs", "libcurl"], capture_output=True,
                          text=True, check=True).stdout.split()
    flags = ["-O2", "-std=c99", "-Wall", "-Wextra", "-Werror"]
    sh(["cc", *flags, f"-I{ROOT / 'include'}", str(BENCH / "om_bench.c"), "-o", str(BIN / "om_bench"),
        f"-L{LIB.parent}", "-lopenaimodel", f"-Wl,-rpath,{LIB.parent}", "-lpthread"])
    sh(["cc", *flags, str(BENCH / "curl_floor.c"), "-o", str(BIN / "curl_floor"), *curl, "-lpthread"])
    sh(["cc", *flags, str(BENCH / "peak.c"), "-o", str(BIN / "peak")])


def binding_available():
    return (BINDING / "openaimodel" / "__init__.py").exists()


# The canned answers. Shaped like OpenAI's (fields, headers, sizes).
COMPLETION = {
    "id": "chatcmpl-bench", "object": "chat.completion", "created": 1700000000,
    "model": "gpt-4o-mini-2024-07-18",
    "choices": [{"index": 0, "message": {"role": "assistant",
                                         "content": "Hello! How can I help you with the benchmark today?",
                                         "refusal": None, "annotations": []},
                 "logprobs": None, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 14, "completion_tokens": 12, "total_tokens": 26,
              "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
              "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                                            "accepted_prediction_tokens": 0,
                                            "rejected_prediction_tokens": 0}},
    "service_tier": "default", "system_fingerprint": "fp_bench",
}
IMAGE_COMPLETION = json.loads(json.dumps(COMPLETION))
IMAGE_COMPLETION["choices"][0]["message"]["content"] = (
    '{"description": "random noise in a very large PNG", "objects": [], "colors": ["grey"]}')
FILE_OBJECT = {"id": "file-bench", "object": "file", "bytes": 0, "created_at": 1700000000,
               "filename": "train.jsonl", "purpose": "fine-tune", "status": "processed",
               "status_details": None, "expires_at": None}
JOB_OBJECT = {"id": "ftjob-bench", "object": "fine_tuning.job", "created_at": 1700000000, "error": None,
              "fine_tuned_model": None, "finished_at": None,
              "hyperparameters": {"n_epochs": "auto", "batch_size": "auto", "learning_rate_multiplier": "auto"},
              "model": "gpt-4o-mini-2024-07-18", "organization_id": "org-bench", "result_files": [], "seed": 42,
              "status": "validating_files", "trained_tokens": None, "training_file": "file-bench",
              "validation_file": None, "estimated_finish": None, "integrations": [],
              "method": {"type": "supervised"}, "metadata": None, "user_provided_suffix": None}

WORDS = ("the a benchmark stream of tokens arrives quickly while every client reads each small piece "
         "and joins them into one reply that nobody will read but everyone will count carefully").split()


def write_if_changed(path, marker, make):
    """Regenerates `path` (with `make(path)`) unless `path`.marker says it was
    made with the same parameters."""
    tag = Path(str(path) + ".made")
    if path.exists() and tag.exists() and tag.read_text() == marker:
        return
    log(f"bench: generating {path.relative_to(ROOT)}")
    make(path)
    tag.write_text(marker)


def make_sse(path, events):
    """`events` SSE events in all: the role chunk, content chunks, the finish
    chunk, the usage chunk and [DONE]."""
    head = ('{"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,'
            '"model":"gpt-4o-mini-2024-07-18","service_tier":"default","system_fingerprint":"fp_bench","choices":')
    parts = ["data: " + head + '[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},'
             '"logprobs":null,"finish_reason":null}],"usage":null}\n\n']
    content = events - 4
    for i in range(content):
        w = WORDS[i % len(WORDS)]
        piece = (" " + w) if i else w.capitalize()
        parts.append("data: " + head + '[{"index":0,"delta":{"content":"' + piece
                     + '"},"logprobs":null,"finish_reason":null}],"usage":null}\n\n')
    parts.append("data: " + head + '[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],'
                 '"usage":null}\n\n')
    parts.append("data: " + head + '[],"usage":{"prompt_tokens":14,"completion_tokens":%d,"total_tokens":%d}}\n\n'
                 % (content, content + 14))
    parts.append("data: [DONE]\n\n")
    path.write_text("".join(parts))


def sse_reply_bytes(events):
    return len(" ".join(WORDS[i % len(WORDS)] for i in range(events - 4)).encode())


def make_png(path, megabytes):
    """A PNG of incompressible pixels (like a photograph's entropy) of about
    `megabytes` MB: 8-bit greyscale, one filter byte per row."""
    width = 4096
    rows = megabytes * 1_000_000 // (width + 1)
    rnd = random.Random(9)
    with open(path, "wb") as f:
        def chunk(kind, data):
            f.write(struct.pack(">I", len(data)) + kind + data
                    + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
        f.write(b"\x89PNG\r\n\x1a\n")
        chunk(b"IHDR", struct.pack(">IIBBBBB", width, rows, 8, 0, 0, 0, 0))
        # Stored (uncompressed) deflate blocks inside one zlib stream.
        comp = zlib.compressobj(0)
        block = 256
        for start in range(0, rows, block):
            n = min(block, rows - start)
            raw = b"".join(b"\x00" + rnd.randbytes(width) for _ in range(n))
            chunk(b"IDAT", comp.compress(raw))
        chunk(b"IDAT", comp.flush())
        chunk(b"IEND", b"")


def make_csv(path, megabytes):
    """prompt,completion rows of varied length; some fields quoted with
    commas, doubled quotes and line breaks, as exported spreadsheets have."""
    rnd = random.Random(7)
    vocab = ("customer order delivery refund account password invoice shipping address product "
             "warranty battery screen update login error payment card subscription cancel upgrade "
             "support ticket email phone store return policy size colour discount code").split()

    def text(lo, hi):
        return " ".join(rnd.choice(vocab) for _ in range(rnd.randint(lo, hi)))

    def field(s):
        if rnd.random() < 0.15:
            s = s.replace(" ", ", ", 1)
        if rnd.random() < 0.05:
            s = s + ' "quoted"'
        if rnd.random() < 0.05:
            s = s.replace(" ", "\n", 1)
        if any(c in s for c in ',"\n'):
            return '"' + s.replace('"', '""') + '"'
        return s

    pool = []
    for _ in range(4000):
        pool.append((text(6, 30) + "?", text(15, 70) + "."))
    target = megabytes * 1_000_000
    size = 0
    i = 0
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("prompt,completion\r\n")
        buf = []
        while size < target:
            q, a = pool[i % len(pool)]
            line = f"{field(f'#{i} ' + q)},{field(a)}\r\n"
            buf.append(line)
            size += len(line)
            i += 1
            if len(buf) >= 10000:
                f.write("".join(buf))
                buf = []
        f.write("".join(buf))


# ---------------------------------------------------------------------------
# The server
# ---------------------------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def conf_string(obj):
    """JSON text as an nginx single-quoted string's contents."""
    text = json.dumps(obj, separators=(",", ":"))
    return text.replace("\\", "\\\\").replace("'", "\\'")


class Nginx:
    def __init__(self, nginx, name="nginx", port=None):
        self.nginx = nginx
        self.dir = WORK / name
        self.port = port or free_port()
        self.conf = self.dir / "nginx.conf"

    def start(self):
        if self.dir.exists():
            self.stop_stale()
            shutil.rmtree(self.dir)
        (self.dir / "tmp").mkdir(parents=True)
        text = (BENCH / "nginx.conf.in").read_text()
        for k, v in {"@ECHO_MODULE@": f"load_module {ECHO_MODULE};", "@DIR@": str(self.dir), "@WORK@": str(WORK),
                     "@PORT@": str(self.port), "@COMPLETION@": conf_string(COMPLETION),
                     "@IMAGE_COMPLETION@": conf_string(IMAGE_COMPLETION),
                     "@FILE_OBJECT@": conf_string(FILE_OBJECT), "@JOB_OBJECT@": conf_string(JOB_OBJECT)}.items():
            text = text.replace(k, v)
        text = text.replace("echo_sleep 0.05;", f"echo_sleep {P['latency_ms'] / 1000:g};")
        self.conf.write_text(text)
        sh([self.nginx, "-p", str(self.dir), "-c", str(self.conf), "-e", str(self.dir / "error.log")])
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        die("nginx did not start: " + (self.dir / "error.log").read_text()[-2000:])

    def stop_stale(self):
        pid = self.dir / "nginx.pid"
        if pid.exists():
            try:
                os.kill(int(pid.read_text().strip()), 15)
                time.sleep(0.2)
            except (ValueError, OSError):
                pass

    def stop(self):
        if self.conf.exists():
            subprocess.run([self.nginx, "-p", str(self.dir), "-c", str(self.conf), "-e",
                            str(self.dir / "error.log"), "-s", "quit"], capture_output=True)

    def url(self, prefix=""):
        return f"http://127.0.0.1:{self.port}{prefix}/v1"

    def access_log(self):
        path = self.dir / "access.log"
        if not path.exists():
            return []
        out = []
        for line in path.read_text().splitlines():
            f = line.split()
            if len(f) == 6:
                out.append({"method": f[0], "uri": f[1], "status": int(f[2]), "request_length": int(f[3]),
                            "bytes_sent": int(f[4]), "seconds": float(f[5])})
        return out

    def clear_log(self):
        # nginx keeps the file open in append mode: truncating it is enough.
        path = self.dir / "access.log"
        if path.exists():
            os.truncate(path, 0)


# ---------------------------------------------------------------------------
# Running the sides
# ---------------------------------------------------------------------------

def side_env(side):
    env = {k: v for k, v in os.environ.items()
           if not k.lower().endswith("_proxy") and not k.startswith(("OPENAI_", "OPENAIMODEL_", "PYTHON"))}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env["TMPDIR"] = str(WORK / "tmp")
    env["OPENAIMODEL_DATA_DIR"] = str(WORK / "data")
    if side == "py":
        env["PYTHONPATH"] = str(BINDING)
        env["OPENAIMODEL_LIBRARY"] = str(LIB)
    return env


def argv_for(side, mode, base, args):
    if side == "c":
        return [str(BIN / "om_bench"), mode, base, *args]
    if side == "floor":
        return [str(BIN / "curl_floor"), mode, base, *args]
    if side == "py":
        return [str(VPY), str(BENCH / "py_bench.py"), mode, base, *args]
    return [str(VPY), str(BENCH / "sdk_bench.py"), mode, base, *args]


def run_once(side, mode, base, args=(), timeout=900):
    """One process, started through bench/peak.c (see there why): its JSON
    output, wall time from spawn to exit, peak resident memory."""
    out_path, err_path, peak_path = WORK / "run.out", WORK / "run.err", WORK / "run.peak"
    argv = [str(BIN / "peak"), str(peak_path), *argv_for(side, mode, base, [str(a) for a in args])]
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        p = subprocess.Popen(argv, stdout=out, stderr=err, env=side_env(side), cwd=str(WORK),
                             start_new_session=True)
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, 9)
            p.wait()
            die(f"{SIDE_NAMES[side]} {mode} took more than {timeout} s")
    if p.returncode != 0:
        die(f"{SIDE_NAMES[side]} {mode} failed ({p.returncode}): {err_path.read_text()[-3000:]}")
    try:
        result = json.loads(out_path.read_text().strip().splitlines()[-1])
        rss_kb, wall, _ = peak_path.read_text().split()
    except (ValueError, IndexError):
        die(f"{SIDE_NAMES[side]} {mode}: no result: {out_path.read_text()[-500:]} {err_path.read_text()[-2000:]}")
    result["wall_seconds"] = float(wall)
    result["peak_rss_mb"] = int(rss_kb) / 1024
    return result


def rounds(sides, runs, one, label):
    """Runs `one(side)` for each side, `runs` rounds, the order rotating."""
    results = {s: [] for s in sides}
    for r in range(runs):
        order = sides[r % len(sides):] + sides[:r % len(sides)]
        for s in order:
            results[s].append(one(s))
        log(f"  {label}: round {r + 1}/{runs} done")
    return results


def med(values):
    return statistics.median(values) if values else None


def summarise(results, value):
    out = {}
    for s, runs in results.items():
        vals = [value(r) for r in runs]
        out[s] = {"value": med(vals), "values": vals, "peak_rss_mb": med([r["peak_rss_mb"] for r in runs]),
                  "runs": runs}
    return out


# ---------------------------------------------------------------------------
# Workloads
# ---------------------------------------------------------------------------

def our_sides(with_floor=True):
    s = ["c"] + (["py"] if binding_available() else []) + ["sdk"]
    return s + (["floor"] if with_floor else [])


def w_cold(srv):
    sides = our_sides()
    base = srv.url()
    for s in sides:  # warm the page cache and Python's bytecode caches
        run_once(s, "cold", base)
    res = rounds(sides, P["cold_runs"], lambda s: run_once(s, "cold", base), "cold start")
    return {"unit": "ms per process", "sides": summarise(res, lambda r: r["wall_seconds"] * 1000)}


def w_chat(srv):
    """Chat without a dialogue file for every side, and with the library's
    default dialogue file for C and the binding, in the same rounds."""
    n = P["chat_n"]
    sides = our_sides() + ["c_file"] + (["py_file"] if binding_available() else [])
    base = srv.url()

    def one(s):
        if s.endswith("_file"):
            d = WORK / "data" / f"dialogue-{s}"
            shutil.rmtree(d, ignore_errors=True)
            return run_once(s[:-5], "chat", base, [n, "--dialogue", d])
        return run_once(s, "chat", base, [n])
    res = rounds(sides, P["chat_runs"], one, "chat")
    return {"unit": "µs per request", "requests": n,
            "sides": summarise(res, lambda r: r["seconds"] / r["count"] * 1e6)}


def w_stream(srv):
    events = P["stream_events"]
    write_if_changed(WORK / "www" / "events.sse", f"v1 {events}", lambda p: make_sse(p, events))
    expect = sse_reply_bytes(events)
    base = srv.url("/stream")

    def one(s):
        r = run_once(s, "stream", base)
        if s == "floor":
            if r["events"] != events:
                die(f"floor counted {r['events']} events, expected {events}")
        elif r["reply_bytes"] != expect or r["deltas"] != events - 4:
            die(f"{SIDE_NAMES[s]} stream: {r['deltas']} pieces, {r['reply_bytes']} bytes; "
                f"expected {events - 4} and {expect}")
        return r
    res = rounds(our_sides(), P["stream_runs"], one, "stream")
    return {"unit": "µs per event", "events": events,
            "sides": summarise(res, lambda r: r["seconds"] / events * 1e6)}


def w_image(srv):
    mb = P["image_mb"]
    path = WORK / "image.png"
    write_if_changed(path, f"v1 {mb}", lambda p: make_png(p, mb))
    size = path.stat().st_size
    b64 = (size + 2) // 3 * 4
    base = srv.url("/image")
    srv.clear_log()
    res = rounds(our_sides(), P["image_runs"], lambda s: run_once(s, "image", base, [path]), "image")
    entries = [e for e in srv.access_log() if e["uri"].startswith("/image/")]
    runs = sum(len(v) for v in res.values())
    short = [e for e in entries if e["status"] != 200 or e["request_length"] < b64]
    if len(entries) != runs or short:
        die(f"the server did not read every image body: {len(entries)} requests logged for {runs} runs, "
            f"short ones: {short[:3]}")
    return {"unit": "ms per image", "image_bytes": size, "base64_bytes": b64,
            "server_read_bytes_min": min(e["request_length"] for e in entries),
            "sides": summarise(res, lambda r: r["seconds"] * 1000)}


def w_train(srv):
    mb = P["train_mb"]
    path = WORK / "train.csv"
    write_if_changed(path, f"v1 {mb}", lambda p: make_csv(p, mb))
    base = srv.url()
    srv.clear_log()
    sides = our_sides(with_floor=False)
    res = rounds(sides, P["train_runs"], lambda s: run_once(s, "train", base, [path]), "train")
    uploads = [e for e in srv.access_log() if e["uri"] == "/v1/files"]
    jobs = [e for e in srv.access_log() if e["uri"] == "/v1/fine_tuning/jobs"]
    runs = sum(len(v) for v in res.values())
    if len(uploads) != runs or len(jobs) != runs or any(e["status"] != 200 for e in uploads + jobs):
        die(f"train: {len(uploads)} uploads and {len(jobs)} jobs logged for {runs} runs")
    if min(e["request_length"] for e in uploads) < path.stat().st_size:
        die("train: an upload was shorter than the CSV file")
    return {"unit": "s per file", "csv_bytes": path.stat().st_size,
            "upload_bytes": [e["request_length"] for e in uploads],
            "sides": summarise(res, lambda r: r["seconds"])}


def w_threads(srv):
    t, n = P["threads"], P["thread_n"]
    base = srv.url("/slow")
    res = rounds(our_sides(), P["thread_runs"], lambda s: run_once(s, "threads", base, [t, n]), "threads")

    def speedup(r):
        return (r["many_count"] / r["many_seconds"]) / (r["one_count"] / r["one_seconds"])
    out = summarise(res, speedup)
    for s, v in out.items():
        v["one_thread_rps"] = med([r["one_count"] / r["one_seconds"] for r in v["runs"]])
        v["threads_rps"] = med([r["many_count"] / r["many_seconds"] for r in v["runs"]])
    return {"unit": f"{t} threads' throughput / one thread's", "threads": t, "requests_per_thread": n,
            "latency_ms": P["latency_ms"], "sides": out}


# ---------------------------------------------------------------------------
# Goals and the table
# ---------------------------------------------------------------------------

def v(w, side, key="value"):
    s = w["sides"].get(side)
    return None if s is None else s[key]


def ratio(w, a, b, key="values"):
    """The median over rounds of side a's figure over side b's in the same
    round: each ratio compares runs made moments apart, so the machine's
    load drifting during the benchmark does not favour either side."""
    sa, sb = w["sides"].get(a), w["sides"].get(b)
    if sa is None or sb is None:
        return None
    if key == "values":
        xa, xb = sa["values"], sb["values"]
    else:
        xa = [r["peak_rss_mb"] for r in sa["runs"]]
        xb = [r["peak_rss_mb"] for r in sb["runs"]]
    pairs = [x / y for x, y in zip(xa, xb) if y]
    return med(pairs)


def judge(name, w):
    """Ratios, the goal's text and whether it is met. Goals stated against the
    official package are judged on the binding (a Python program against a
    Python program) when it is there, else on the C program (provisional)."""
    ours = "py" if "py" in w["sides"] else "c"
    who = "binding" if ours == "py" else "C (binding not yet on main)"
    r = {}
    if name == "chat":
        r["C / floor"] = ratio(w, "c", "floor")
        r["SDK / binding"] = ratio(w, "sdk", "py")
        r["SDK / C"] = ratio(w, "sdk", "c")
        ok1 = r["C / floor"] is not None and r["C / floor"] <= 1.3
        ok2 = ((r["SDK / binding"] if ours == "py" else r["SDK / C"]) or 0) >= 20
        goal = "C ≤ 1.3× floor; binding ≥ 20× faster than SDK per request"
        return r, goal, ok1 and ok2, f"C/floor {'met' if ok1 else 'NOT met'}; {who} vs SDK {'met' if ok2 else 'NOT met'}"
    if name == "chat_dialogue":
        r["C with file / without"] = ratio(w, "c_file", "c")
        r["binding with file / without"] = ratio(w, "py_file", "py")
        r["SDK / binding with file"] = ratio(w, "sdk", "py_file")
        return r, "(information: the library's default, a dialogue file written after every ask)", None, ""
    if name == "threads":
        goal = "8 threads ≥ 7× one thread's throughput (C and binding)"
        mine = [v(w, s) for s in ("c", "py") if s in w["sides"]]
        for s in w["sides"]:
            r[f"{SIDE_NAMES[s]} speed-up"] = v(w, s)
        ok = all(x is not None and x >= 7 for x in mine)
        return r, goal, ok, ""
    if name == "train":
        r["SDK / binding"] = ratio(w, "sdk", "py")
        r["SDK / C"] = ratio(w, "sdk", "c")
        rss = [v(w, s, "peak_rss_mb") for s in ("c", "py") if s in w["sides"]]
        ok_mem = all(x < 64 for x in rss)
        ok_time = ((r["SDK / binding"] if ours == "py" else r["SDK / C"]) or 0) >= 3
        goal = "peak RSS < 64 MB (C and binding); ≥ 3× faster than csv + json + SDK"
        return r, goal, ok_mem and ok_time, f"memory {'met' if ok_mem else 'NOT met'}; time {'met' if ok_time else 'NOT met'}"
    if name == "image":
        r["binding / SDK time"] = ratio(w, "py", "sdk")
        r["C / SDK time"] = ratio(w, "c", "sdk")
        r["binding / SDK peak RSS"] = ratio(w, "py", "sdk", "rss")
        r["C / SDK peak RSS"] = ratio(w, "c", "sdk", "rss")
        r["C / floor"] = ratio(w, "c", "floor")
        t = r["binding / SDK time"] if ours == "py" else r["C / SDK time"]
        m = r["binding / SDK peak RSS"] if ours == "py" else r["C / SDK peak RSS"]
        ok_t, ok_m = t is not None and t <= 1 / 3, m is not None and m <= 1 / 8
        goal = "≤ 1/3 of the SDK's time and ≤ 1/8 of its peak RSS"
        return r, goal, ok_t and ok_m, f"time {'met' if ok_t else 'NOT met'}; memory {'met' if ok_m else 'NOT met'}"
    # cold, stream: "at least k× faster / less time than the SDK"
    k = {"cold": 20, "stream": 30}[name]
    r["SDK / binding"] = ratio(w, "sdk", "py")
    r["SDK / C"] = ratio(w, "sdk", "c")
    r["C / floor"] = ratio(w, "c", "floor")
    x = r["SDK / binding"] if ours == "py" else r["SDK / C"]
    goal = f"≥ {k}× faster than the SDK" + (" per event" if name == "stream" else "")
    return r, goal, x is not None and x >= k, ""


TITLES = {
    "chat": "sequential chat requests, one connection",
    "chat_dialogue": "sequential chat, library defaults (dialogue file saved)",
    "cold": "cold start: process, load, create, first reply",
    "stream": "a stream of SSE events",
    "image": "describe a large image",
    "train": "train from a CSV (convert + upload + job)",
    "threads": "8 threads sharing one handle, 50 ms server latency",
}


def fmt(x, unit=""):
    if x is None:
        return "—"
    if abs(x) >= 100:
        s = f"{x:,.0f}"
    elif abs(x) >= 10:
        s = f"{x:.1f}"
    else:
        s = f"{x:.2f}"
    return s + unit


def cell(w, side):
    if side not in w["sides"]:
        return "—"
    s = w["sides"][side]
    text = fmt(s["value"])
    if w.get("show_rss"):
        text += f" ({fmt(s['peak_rss_mb'])} MB)"
    return text


def table(results):
    head = ["workload", "unit", "C", "binding", "SDK", "floor", "ratios", "goal", "met?"]
    rows = []
    for name in ROWS:
        w = results["workloads"].get(name)
        if not w:
            continue
        ratios = "; ".join(f"{k} {fmt(x)}×" for k, x in w["ratios"].items() if x is not None)
        met = {True: "yes", False: "**no**", None: ""}[w["met"]]
        if w.get("met_detail"):
            met += f" ({w['met_detail']})"
        label = TITLES[name]
        size = {"chat": f" ({w.get('requests', '')})", "chat_dialogue": f" ({w.get('requests', '')})",
                "stream": f" ({w.get('events', 0):,})",
                "image": f" ({w.get('image_bytes', 0) / 1e6:.0f} MB)",
                "train": f" ({w.get('csv_bytes', 0) / 1e6:.0f} MB)"}.get(name, "")
        unit = w["unit"] + (" (peak RSS)" if w.get("show_rss") else "")
        if name == "chat_dialogue":
            cells = [cell(w, "c_file"), cell(w, "py_file"), cell(w, "sdk"), "—"]
        else:
            cells = [cell(w, "c"), cell(w, "py"), cell(w, "sdk"), cell(w, "floor")]
        rows.append([label + size, unit, *cells, ratios, w["goal"], met])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# Machine, versions, output
# ---------------------------------------------------------------------------

def first_line(argv):
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        return ((p.stdout or "") + (p.stderr or "")).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.SubprocessError):
        return None


def machine():
    cpu = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1048576:.1f} GiB"
    except OSError:
        pass
    osname = None
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                osname = line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": cpu, "memory": mem, "kernel": platform.release(), "os": osname,
            "loadavg_start": os.getloadavg()}


def versions(nginx):
    # The SDK's HTTP client is httpx, or httpx2 in its later versions.
    sdk = subprocess.run([str(VPY), "-c", "import sys\nfrom importlib.metadata import version\n"
                          "def v(*names):\n"
                          "    for n in names:\n"
                          "        try:\n"
                          "            return n + ' ' + version(n)\n"
                          "        except Exception:\n"
                          "            pass\n"
                          "    return '?'\n"
                          "print(version('openai'), v('httpx', 'httpx2'), version('pydantic'), sys.version.split()[0], "
                          "sep='|')"], capture_output=True, text=True).stdout.strip().split("|")
    curl = first_line(["curl-config", "--version"]) or first_line(["pkg-config", "--modversion", "libcurl"])
    commit = first_line(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"])
    code_changed = subprocess.run(["git", "-C", str(ROOT), "diff", "--quiet", "HEAD", "--", "Sources", "include",
                                   "Package.swift", "bindings", "bench"], capture_output=True).returncode != 0
    return {"libopenaimodel": (commit or "?") + (" with uncommitted changes" if code_changed else ""),
            "swift": first_line(["swift", "--version"]), "libcurl": curl,
            "jansson": first_line(["pkg-config", "--modversion", "jansson"]),
            "nginx": (first_line([nginx, "-v"]) or "").split(": ", 1)[-1] or None, "cc": first_line(["cc", "--version"]),
            "openai": sdk[0] if sdk and sdk[0] else None, "http_client": sdk[1] if len(sdk) > 1 else None,
            "pydantic": sdk[2] if len(sdk) > 2 else None, "python": sdk[3] if len(sdk) > 3 else None,
            "binding": "bindings/python" if binding_available() else None}


def update_readme(results, text):
    readme = ROOT / "README.md"
    body = readme.read_text()
    begin, end = "<!-- bench:table:begin -->", "<!-- bench:table:end -->"
    if begin not in body or end not in body:
        log("bench: README has no bench:table markers; not updated")
        return
    m = results["machine"]
    ver = results["versions"]
    runs = [v for k, v in results["params"].items() if k.endswith("_runs") and k not in ("train_runs", "thread_runs")]
    lo, hi = min(runs), max(runs)
    block = (f"{begin}\n"
             f"Measured {results['date']} on {m['cpu']} ({m['nproc']} cores, {m['memory']}), "
             f"{m['os']}, Linux {m['kernel']}; load average {m['loadavg_start'][0]:.2f} at the start, "
             f"{m['loadavg_end'][0]:.2f} at the end. openai {ver['openai']} ({ver['http_client']}, "
             f"pydantic {ver['pydantic']}), Python {ver['python']}, {ver['libcurl']}, {ver['nginx']}. "
             f"Figures are medians of {lo}–{hi} runs per side (train: {results['params']['train_runs']}, "
             f"threads: {results['params']['thread_runs']}); ratios are medians of the ratios within each round.\n\n"
             f"{text}\n{end}")
    head, rest = body.split(begin, 1)
    readme.write_text(head + block + rest.split(end, 1)[1])


def main():
    WORK.mkdir(parents=True, exist_ok=True)
    (WORK / "tmp").mkdir(exist_ok=True)
    (WORK / "data").mkdir(exist_ok=True)
    (WORK / "www").mkdir(exist_ok=True)
    nginx = ensure_nginx()
    ensure_venv()
    build_programs()
    if not binding_available():
        log("bench: the Python binding (bindings/python) is not here yet: its column stays empty")
    selected = [w for w in WORKLOADS if not ONLY or w in ONLY]
    results = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
               "quick": QUICK, "params": P, "machine": machine(), "versions": versions(nginx),
               "workloads": {}}
    srv = Nginx(nginx)
    srv.start()
    log(f"bench: nginx on 127.0.0.1:{srv.port}; {'quick' if QUICK else 'full'} run of {', '.join(selected)}")
    try:
        for name in selected:
            t0 = time.time()
            log(f"bench: {name}")
            w = {"cold": w_cold, "chat": w_chat, "stream": w_stream, "image": w_image, "train": w_train,
                 "threads": w_threads}[name](srv)
            w["show_rss"] = name in ("image", "train")
            w["ratios"], w["goal"], w["met"], w["met_detail"] = judge(name, w)
            w["elapsed_seconds"] = time.time() - t0
            results["workloads"][name] = w
            if name == "chat":
                d = {"unit": w["unit"], "requests": w["requests"], "sides": w["sides"], "show_rss": False,
                     "derived_from": "chat"}
                d["ratios"], d["goal"], d["met"], d["met_detail"] = judge("chat_dialogue", d)
                results["workloads"]["chat_dialogue"] = d
    finally:
        srv.stop()
    results["machine"]["loadavg_end"] = os.getloadavg()
    text = table(results)
    print()
    print(text)
    print()
    full = not QUICK and not ONLY and not os.environ.get("BENCH_RUNS")
    out = BENCH / "results.json" if full else WORK / ("results-quick.json" if QUICK else "results-partial.json")
    out.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    (WORK / "results.md").write_text(text + "\n")
    log(f"bench: results in {out.relative_to(ROOT)}")
    if full and not os.environ.get("BENCH_NO_README"):
        update_readme(results, text)


if __name__ == "__main__":
    main()
