"""The examples (examples/), the demo, installation and the dist library.

Builds every C example with -Wall -Wextra -Werror, runs them and their Python
twins against the test server, runs the demo (directly and as `make demo`
does), installs into a temporary prefix and builds an example with pkg-config
only, and checks that `make dist` gives a library that needs no Swift
toolchain: ldd, exports, and the C demo and the Python binding running with
the toolchain's library folder hidden.
"""
import json
import os
import pathlib
import re
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
HERE = ROOT / "Tests" / "examples"
EXAMPLES = ROOT / "examples"
DATA = EXAMPLES / "data"
LIB = pathlib.Path(os.environ.get("OPENAIMODEL_LIBRARY", ROOT / ".build/release/libopenaimodel.so")).resolve()
CFLAGS = "-std=c99 -O2 -g -Wall -Wextra -Werror"
PROGRAMS = ["ask", "stream", "describe_image", "train", "demo", "legacy_dlopen"]
HELLO_REPLY = "Hello! I'm doing well, thank you for asking. How can I help you today?"


def run(cmd, env=None, cwd=ROOT, timeout=120, check=False):
    r = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, errors="replace",
                       timeout=timeout)
    if check:
        assert r.returncode == 0, f"{cmd} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}"
    return r


def clean_env(**extra):
    """The environment without the user's OpenAI settings, plus `extra`."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OPENAI_", "OM_DEMO_")) and k != "OPENAIMODEL_DATA_DIR"}
    env["OPENAIMODEL_LIBRARY"] = str(LIB)
    env.update({k: str(v) for k, v in extra.items()})
    return env


@pytest.fixture
def env(tenant, tmp_path):
    """Examples talk to the test server as this test's tenant; data in tmp_path."""
    return clean_env(OPENAI_BASE_URL=tenant.base_url, OPENAI_API_KEY=tenant.key,
                     OPENAIMODEL_DATA_DIR=tmp_path / "data", TMPDIR=tmp_path)


@pytest.fixture(scope="session")
def bin_dir(tmp_path_factory):
    """Every C example, built by examples/Makefile with -Werror against LIB."""
    out = tmp_path_factory.mktemp("examples-bin")
    r = run(["make", "-C", str(EXAMPLES), "-B", f"BIN={out}", f"CFLAGS={CFLAGS}",
             f"OM_CFLAGS=-I{ROOT / 'include'}",
             f"OM_LIBS=-L{LIB.parent} -lopenaimodel -Wl,-rpath,{LIB.parent}"])
    assert r.returncode == 0, f"building the examples failed:\n{r.stdout}\n{r.stderr}"
    return out


def chat_requests(tenant):
    return [r for r in tenant.requests() if r["path"] == "/v1/chat/completions"]


# ---------------------------------------------------------------------------
# sample data
# ---------------------------------------------------------------------------

def test_sample_data_shapes():
    import csv
    with open(DATA / "training.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) >= 20 and set(rows[0]) == {"text", "label"}
    assert {r["label"] for r in rows} == {"positive", "negative"}
    assistants = json.loads((DATA / "assistants.json").read_text())
    assert isinstance(assistants, dict) and len(assistants) >= 2
    for aid, a in assistants.items():
        assert aid.startswith("asst_")
        assert {"name", "title", "description", "instructions"} <= set(a)
        for number, part in a["instructions"].items():
            assert number.isdigit() and "name" in part and ("text" in part or "file" in part)
            if "file" in part:
                assert (DATA / part["file"]).is_file()


def test_images_are_generated_by_the_script(tmp_path):
    r = run([sys.executable, str(DATA / "make_images.py"), str(tmp_path)], check=True)
    assert "example.png" in r.stdout and "example.jpg" in r.stdout
    for name in ("example.png", "example.jpg"):
        assert (tmp_path / name).read_bytes() == (DATA / name).read_bytes(), f"{name} is not up to date"


def test_images_decode_with_libpng_and_libjpeg(tmp_path):
    """Decoded by the reference libraries, the PNG and the JPEG are the same picture."""
    if not (pathlib.Path("/usr/include/jpeglib.h").exists() and pathlib.Path("/usr/include/png.h").exists()):
        pytest.skip("libjpeg / libpng headers not installed")
    exe = tmp_path / "image_check"
    run(["cc", "-std=c99", "-Wall", "-Wextra", "-Werror", str(HERE / "image_check.c"), "-o", str(exe),
         "-ljpeg", "-lpng"], check=True)
    r = run([str(exe), str(DATA / "example.png"), str(DATA / "example.jpg")], check=True)
    m = re.match(r"160x120 mean=([\d.]+) max=(\d+)", r.stdout)
    assert m, r.stdout
    assert float(m.group(1)) < 3.0, r.stdout  # a JPEG at quality 90 is close to the original


# ---------------------------------------------------------------------------
# the C examples
# ---------------------------------------------------------------------------

def test_examples_build_with_werror(bin_dir):
    for name in PROGRAMS:
        assert (bin_dir / name).is_file(), name


def test_ask(bin_dir, env, tenant):
    r = run([str(bin_dir / "ask"), "Hello,", "how", "are", "you?"], env, check=True)
    assert r.stdout == HELLO_REPLY + "\n"
    r = run([str(bin_dir / "ask"), "-s", "Answer briefly.", "What is 2 + 2?"], env, check=True)
    assert r.stdout == "You said: What is 2 + 2?\n"
    sent = [q["json"]["messages"] for q in chat_requests(tenant)]
    assert sent[0] == [{"role": "user", "content": "Hello, how are you?"}]
    assert sent[1] == [{"role": "system", "content": "Answer briefly."},
                       {"role": "user", "content": "What is 2 + 2?"}]


def test_ask_reports_api_errors(bin_dir, env, tenant):
    env["OPENAI_API_KEY"] = "sk-invalid-example-key"
    r = run([str(bin_dir / "ask"), "Hello"], env)
    assert r.returncode == 1 and r.stdout == ""
    assert "401" in r.stderr and "sk-invalid-example-key" not in r.stderr, r.stderr
    assert run([str(bin_dir / "ask")], env).returncode == 2  # usage


def test_stream(bin_dir, env, tenant):
    tenant.config(stream={"chunk_chars": 3})
    r = run([str(bin_dir / "stream"), "Hello, how are you?"], env, check=True)
    assert r.stdout == HELLO_REPLY + "\n"
    assert chat_requests(tenant)[0]["json"]["stream"] is True


def interrupt_after_first_output(cmd, env, wait_for):
    """Starts `cmd`, waits until its stdout shows `wait_for`, sends SIGINT.
    Returns (stdout, stderr, returncode, seconds from SIGINT to exit)."""
    p = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    seen = b""
    deadline = time.monotonic() + 20
    while wait_for.encode() not in seen:
        assert time.monotonic() < deadline, f"no output {wait_for!r}; got {seen!r}"
        ready, _, _ = select.select([p.stdout], [], [], 0.2)
        if ready:
            chunk = os.read(p.stdout.fileno(), 4096)
            assert chunk, f"{cmd[0]} ended early: {seen!r} {p.stderr.read()!r}"
            seen += chunk
    t0 = time.monotonic()
    p.send_signal(signal.SIGINT)
    try:
        out, err = p.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        p.kill()
        raise
    return (seen + out).decode(), err.decode(), p.returncode, time.monotonic() - t0


def test_stream_ctrl_c_cancels_cleanly(bin_dir, env, tenant):
    # The server sends three pieces, then stalls for 30 s: only a cancel ends it early.
    tenant.config(stream={"stall_after": 3, "stall_seconds": 30})
    out, err, rc, took = interrupt_after_first_output(
        [str(bin_dir / "stream"), "one two three four five"], env, "one")
    assert rc == 130, (out, err)
    assert out == "You said: one" and err == "\n[cancelled]\n"
    assert took < 3, f"took {took:.1f} s after SIGINT"


def test_describe_image(bin_dir, env, tenant):
    for name, fmt in (("example.png", "png"), ("example.jpg", "jpeg")):
        r = run([str(bin_dir / "describe_image"), str(DATA / name)], env, check=True)
        described = json.loads(r.stdout)  # the server describes what it decoded
        assert described["format"] == fmt and (described["width"], described["height"]) == (160, 120)
        assert described["bytes"] == (DATA / name).stat().st_size
    r = run([str(bin_dir / "describe_image"), "-t", str(DATA / "example.png"), "Describe it."], env, check=True)
    assert json.loads(r.stdout)["format"] == "png" and r.stdout.count("\n") == 1
    last = chat_requests(tenant)[-1]["json"]["messages"][-1]["content"]
    assert last[0] == {"type": "text", "text": "Describe it."}
    assert last[1]["image_url"]["url"].startswith("data:image/png;base64,")

    tenant.config(replies=["A small red house on green hills under a blue sky."])
    r = run([str(bin_dir / "describe_image"), str(DATA / "example.jpg")], env, check=True)
    assert r.stdout == "A small red house on green hills under a blue sky.\n"  # prose, as text

    before = len(tenant.requests())
    r = run([str(bin_dir / "describe_image"), str(DATA / "missing.png")], env)
    assert r.returncode == 1 and "no such file" in r.stderr
    assert len(tenant.requests()) == before  # nothing was sent


def test_train_waits_with_a_progress_bar(bin_dir, env, tenant):
    r = run([str(bin_dir / "train"), str(DATA / "training.csv")], env, check=True)
    job_id, model = r.stdout.split()
    assert job_id.startswith("ftjob-") and model.startswith("ft:gpt-4o-mini:")
    for stage in ("convert", "upload", "queued", "running", "succeeded"):
        assert re.search(rf"^{stage} +\[[#.]{{30}}\] +\d+%", r.stderr, re.M), (stage, r.stderr)
    assert re.search(r"^succeeded +\[#{30}\] 100%", r.stderr, re.M), r.stderr
    uploaded = [f for f in tenant.files() if f["purpose"] == "fine-tune"]
    assert len(uploaded) == 1 and uploaded[0]["line_count"] == 24
    first = json.loads(tenant.file_content(uploaded[0]["id"]).splitlines()[0])
    assert first["messages"][-1] == {"role": "assistant", "content": "positive"}


def test_train_reports_a_failed_job_and_bad_data(bin_dir, env, tenant, tmp_path):
    csv = tmp_path / "fail.csv"
    csv.write_text("prompt,completion\n" + "".join(f"Question {i}?,Answer {i}.\n" for i in range(11))
                   + "[[fail]] this one,cannot be trained\n")
    r = run([str(bin_dir / "train"), str(csv)], env)
    assert r.returncode == 1 and r.stdout.startswith("ftjob-")
    assert "ended 'failed'" in r.stderr and "line 12" in r.stderr, r.stderr

    bad = tmp_path / "bad.csv"
    bad.write_text("prompt,completion\n" + "".join(f"Q{i},A{i}\n" for i in range(11)) + "Q11,\n")
    before = len(tenant.requests())
    r = run([str(bin_dir / "train"), str(bad)], env)
    assert r.returncode == 1 and "bad.csv:13" in r.stderr and "nothing was uploaded" in r.stderr, r.stderr
    assert len(tenant.requests()) == before


def test_train_no_wait(bin_dir, env, tenant):
    r = run([str(bin_dir / "train"), "-W", "-n", "-x", "demo", str(DATA / "training.csv")], env, check=True)
    assert r.stdout.strip().startswith("ftjob-") and len(r.stdout.split()) == 1
    create = [q for q in tenant.requests() if q["path"] == "/v1/fine_tuning/jobs"][0]
    assert create["json"]["suffix"] == "demo"


def test_legacy_dlopen_needs_no_header_and_no_link(tmp_path, env, tenant):
    source = (EXAMPLES / "legacy_dlopen.c").read_text()
    assert "openaimodel.h" not in re.sub(r"/\*.*?\*/", "", source, flags=re.S)
    exe = tmp_path / "legacy_dlopen"
    # No -I, no -L, no -lopenaimodel: the library is found when the program runs.
    run(["cc", *CFLAGS.split(), str(EXAMPLES / "legacy_dlopen.c"), "-o", str(exe), "-ldl"], check=True)
    needed = run(["readelf", "-d", str(exe)], check=True).stdout
    assert "openaimodel" not in needed

    r = run([str(exe), "I love this library"], env, check=True)  # OPENAIMODEL_LIBRARY names it
    assert r.stdout.splitlines() == [f"loaded {LIB} (libopenaimodel 1.0.0)",
                                     "reply: You said: I love this library", "sentiment: positive"]
    # By soname on the library path, as an old tool would find it.
    libdir = tmp_path / "lib"
    libdir.mkdir()
    (libdir / "libopenaimodel.so.1").symlink_to(LIB)
    env = dict(env, LD_LIBRARY_PATH=str(libdir))
    env.pop("OPENAIMODEL_LIBRARY")
    r = run([str(exe)], env, check=True)
    assert r.stdout.splitlines()[0] == "loaded libopenaimodel.so.1 (libopenaimodel 1.0.0)"
    assert r.stdout.splitlines()[1] == f"reply: {HELLO_REPLY}"


# ---------------------------------------------------------------------------
# the demo
# ---------------------------------------------------------------------------

def check_demo_output(out, first_line_says):
    lines = out.splitlines()
    assert first_line_says in lines[0], lines[0]
    for n, title in enumerate(["create the model", "list the models", "list the assistants",
                               'ask "Hello, how are you?"', "dynamic training", "train from",
                               "save the job ids", "describe the image"], start=1):
        assert re.search(rf"^\[{n}\] {re.escape(title)}", out, re.M), (title, out)


def demo_data_dir(out):
    return pathlib.Path(re.search(r"^demo: data folder (\S+)", out, re.M).group(1))


@pytest.mark.parametrize("language", ["c", "python"])
def test_demo_against_the_local_server(language, bin_dir, tenant, tmp_path):
    env = clean_env(OPENAI_BASE_URL=tenant.base_url, OPENAI_API_KEY=tenant.key, OM_DEMO_LOCAL_SERVER=1,
                    TMPDIR=tmp_path, HOME=tmp_path / "home")
    cmd = [str(bin_dir / "demo")] if language == "c" else [sys.executable, str(EXAMPLES / "python/demo.py")]
    r = run(cmd + [str(DATA)], env)
    assert r.returncode == 0, r.stdout + r.stderr
    check_demo_output(r.stdout, "local OpenAI-compatible test server at " + tenant.base_url)
    assert r.stdout.rstrip().endswith("demo: 8 steps, 0 failed, 0 skipped"), r.stdout
    assert r.stdout.count("you:       ") == 10 and HELLO_REPLY in r.stdout
    assert "sentiment: positive" in r.stdout
    assert re.search(r"^ *tokens:    \d+ prompt \+ \d+ completion = \d+$", r.stdout, re.M), r.stdout
    assert "Support - Friendly customer support (asst_support_friendly)" in r.stdout

    # Its files went to a new folder in TMPDIR, not to the home folder.
    data = demo_data_dir(r.stdout)
    assert data.parent == tmp_path and not (tmp_path / "home").exists()
    registry = json.loads((data / "job_ids.json").read_text())
    assert [e["description"] for e in registry] == ["dynamic training on the demo's dialogue",
                                                    "training from training.csv"]
    dialogue = [json.loads(line) for f in data.glob("dialogue-*.jsonl") for line in f.read_text().splitlines()]
    assert sum(e["role"] == "assistant" for e in dialogue) == 10

    # What the server saw: the whole original main(), honestly.
    log = tenant.requests()
    paths = [(q["method"], q["path"]) for q in log]
    assert paths.count(("POST", "/v1/chat/completions")) == 11  # 10 questions + the image
    assert paths.count(("POST", "/v1/files")) == 2 and paths.count(("POST", "/v1/fine_tuning/jobs")) == 2
    assert ("GET", "/v1/models") in paths
    uploads = sorted(f["line_count"] for f in tenant.files() if f["purpose"] == "fine-tune")
    assert uploads == [10, 24]
    image = log[-1]["images"][0]
    assert image["detected"] == "jpeg" and (image["width"], image["height"]) == (160, 120)


def test_demo_exit_status_says_a_step_failed(bin_dir, tenant, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    (data / "example.jpg").unlink()
    env = clean_env(OPENAI_BASE_URL=tenant.base_url, OPENAI_API_KEY=tenant.key, OM_DEMO_LOCAL_SERVER=1,
                    TMPDIR=tmp_path)
    r = run([str(bin_dir / "demo"), str(data)], env)
    assert r.returncode == 1
    assert "FAILED: om_describe_image: no such file or folder" in r.stdout
    assert r.stdout.rstrip().endswith("demo: 8 steps, 1 failed, 0 skipped")


def test_demo_on_a_real_api_trains_only_when_asked(bin_dir, tenant, tmp_path):
    """Without OM_DEMO_TRAIN=1 a real API gets no fine-tuning job: it costs money."""
    env = clean_env(OPENAI_BASE_URL=tenant.base_url, OPENAI_API_KEY=tenant.key, TMPDIR=tmp_path)
    r = run([str(bin_dir / "demo"), str(DATA)], env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.splitlines()[0] == f"demo: using {tenant.base_url} with the key from OPENAI_API_KEY"
    assert r.stdout.count("skipped: fine-tuning costs money") == 2
    assert r.stdout.rstrip().endswith("demo: 8 steps, 0 failed, 3 skipped")
    assert not [q for q in tenant.requests() if "/fine_tuning" in q["path"] or q["path"] == "/v1/files"]
    assert len(chat_requests(tenant)) == 2  # the greeting and the image

    # Without a key or a server it refuses to guess.
    r = run([str(bin_dir / "demo"), str(DATA)], clean_env(TMPDIR=tmp_path))
    assert r.returncode == 2 and "OPENAI_API_KEY is not set" in r.stdout.splitlines()[0]


def test_make_demo_starts_and_stops_the_local_server(tmp_path):
    """The README's first command, minus the build (`make test` built it):
    the demo target starts the test server, runs the demo, stops the server."""
    env = clean_env(TMPDIR=tmp_path, HOME=tmp_path / "home")
    r = run(["make", "-s", "-o", "lib", "-o", "deps", "demo"], env, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    demo_lines = r.stdout[r.stdout.index("demo: "):]
    check_demo_output(demo_lines, "local OpenAI-compatible test server at http://127.0.0.1:")
    assert "demo: 8 steps, 0 failed, 0 skipped" in r.stdout
    assert not list(tmp_path.glob("openaimodel-demo-server.*")), "the server's folder was left behind"
    assert demo_data_dir(demo_lines).parent == tmp_path and not (tmp_path / "home").exists()
    port = re.search(r"127\.0\.0\.1:(\d+)", demo_lines).group(1)
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", int(port))) != 0, "the test server still listens"


# ---------------------------------------------------------------------------
# the Python examples
# ---------------------------------------------------------------------------

def py(name):
    return [sys.executable, str(EXAMPLES / "python" / name)]


def test_python_ask_stream_describe(env, tenant):
    assert run(py("ask.py") + ["Hello,", "how", "are", "you?"], env, check=True).stdout == HELLO_REPLY + "\n"
    assert run(py("stream.py") + ["Hello, how are you?"], env, check=True).stdout == HELLO_REPLY + "\n"
    r = run(py("describe_image.py") + [str(DATA / "example.png")], env, check=True)
    assert json.loads(r.stdout)["format"] == "png"
    r = run(py("describe_image.py") + [str(DATA / "missing.jpg")], env)
    assert r.returncode == 1 and "NoSuchFileError" in r.stderr


def test_python_stream_ctrl_c(env, tenant):
    tenant.config(stream={"stall_after": 3, "stall_seconds": 30})
    out, err, rc, took = interrupt_after_first_output(py("stream.py") + ["one two three four"], env, "one")
    assert rc == 130 and out == "You said: one" and err.endswith("[cancelled]\n"), (out, err)
    assert took < 5, f"took {took:.1f} s after SIGINT"


def test_python_train(env, tenant):
    r = run(py("train.py") + [str(DATA / "training.csv")], env, check=True)
    job_id, model = r.stdout.split()
    assert job_id.startswith("ftjob-") and model.startswith("ft:gpt-4o-mini:")
    assert re.search(r"^succeeded +\[#{30}\] 100%", r.stderr, re.M), r.stderr


# ---------------------------------------------------------------------------
# installation
# ---------------------------------------------------------------------------

def test_install_then_build_with_pkg_config_only(tmp_path, env, tenant):
    prefix = tmp_path / "prefix"
    r = run(["make", "-s", "-o", "lib", "-o", "deps", "install", f"PREFIX={prefix}"], clean_env())
    assert r.returncode == 0, r.stdout + r.stderr
    lib = prefix / "lib"
    assert (lib / "libopenaimodel.so.1").is_file() and not (lib / "libopenaimodel.so.1").is_symlink()
    assert os.readlink(lib / "libopenaimodel.so") == "libopenaimodel.so.1"
    assert (prefix / "include/openaimodel.h").read_text() == (ROOT / "include/openaimodel.h").read_text()
    pc = (lib / "pkgconfig/openaimodel.pc").read_text()
    assert f"prefix={prefix}\n" in pc and "Version: 1.0.0" in pc

    pc_env = dict(env, PKG_CONFIG_PATH=str(lib / "pkgconfig"))
    flags = run(["pkg-config", "--cflags", "--libs", "openaimodel"], pc_env, check=True).stdout.split()
    exe = tmp_path / "ask"
    run(["cc", str(EXAMPLES / "ask.c"), *flags, "-o", str(exe)], pc_env, check=True)
    needed = run(["readelf", "-d", str(exe)], check=True).stdout
    assert "Shared library: [libopenaimodel.so.1]" in needed
    r = run([str(exe), "Hello, how are you?"], dict(pc_env, LD_LIBRARY_PATH=str(lib)), check=True)
    assert r.stdout == HELLO_REPLY + "\n"

    # examples/Makefile on its own uses pkg-config too (and an rpath to the prefix).
    out = tmp_path / "bin"
    r = run(["make", "-C", str(EXAMPLES), f"BIN={out}", f"CFLAGS={CFLAGS}"], pc_env)
    assert r.returncode == 0, r.stdout + r.stderr
    r = run([str(out / "describe_image"), str(DATA / "example.jpg")], pc_env, check=True)
    assert json.loads(r.stdout)["format"] == "jpeg"


# ---------------------------------------------------------------------------
# make dist: no Swift toolchain needed
# ---------------------------------------------------------------------------

@pytest.fixture(scope="session")
def dist():
    """`make dist`, once per session (incremental: fast when already built)."""
    r = run(["make", "-o", "deps", "dist"], clean_env(), timeout=900)
    assert r.returncode == 0, r.stdout + r.stderr
    return ROOT / "dist"


def toolchain_lib_dirs():
    """The Swift runtime folders the normal build finds through its RUNPATH."""
    out = run(["readelf", "-d", str(ROOT / ".build/release/libopenaimodel.so")], check=True).stdout
    m = re.search(r"R(?:UN)?PATH.*\[(.*)\]", out)
    dirs = [d for d in (m.group(1).split(":") if m else []) if "swift" in d and os.path.isdir(d)]
    swift = shutil.which("swift")
    if swift:
        guess = pathlib.Path(os.path.realpath(swift)).parent.parent / "lib/swift/linux"
        if guess.is_dir() and str(guess) not in dirs:
            dirs.append(str(guess))
    return dirs


_HIDE = {}


def hiding_prefix():
    """A command prefix that runs its command with the toolchain's library
    folders covered by empty mounts (a private mount namespace), or None
    when this machine does not allow it."""
    if "prefix" in _HIDE:
        return _HIDE["prefix"]
    dirs = toolchain_lib_dirs()
    script = "".join(f'mount -t tmpfs none "{d}" && ' for d in dirs) + 'exec "$@"'
    _HIDE["prefix"] = None
    for flags in (["-m"], ["-r", "-m"]):
        prefix = ["unshare", *flags, "sh", "-c", script, "sh"]
        probe = "".join(f'[ -z "$(ls -A "{d}")" ] && ' for d in dirs) + "true"
        if dirs and shutil.which("unshare") and run(prefix + ["sh", "-c", probe]).returncode == 0:
            _HIDE["prefix"] = prefix
            break
    return _HIDE["prefix"]


def bare_env(dist, **extra):
    """`env -i` with a plain PATH and the dist library on LD_LIBRARY_PATH."""
    env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
           "LD_LIBRARY_PATH": str(dist / "lib")}
    env.update({k: str(v) for k, v in extra.items()})
    return env


def test_dist_library_needs_only_system_libraries(dist):
    lib = dist / "lib/libopenaimodel.so.1"
    assert os.readlink(dist / "lib/libopenaimodel.so") == "libopenaimodel.so.1"
    dynamic = run(["readelf", "-d", str(lib)], check=True).stdout
    needed = re.findall(r"NEEDED.*\[(.*)\]", dynamic)
    assert needed and not [n for n in needed if "swift" in n.lower()], needed
    assert "Library soname: [libopenaimodel.so.1]" in dynamic
    assert not re.search(r"R(UN)?PATH.*swift", dynamic), dynamic
    ldd = run(["ldd", str(lib)], env=bare_env(dist), check=True).stdout
    assert "not found" not in ldd and "swift" not in ldd.lower(), ldd
    for line in ldd.splitlines():
        m = re.search(r"=> (\S+)", line)
        if m:
            assert m.group(1).startswith(("/lib", "/usr/lib")), line
    # Only the contract is exported; the Swift runtime inside stays hidden.
    out = run(["nm", "-D", "--defined-only", str(lib)], check=True).stdout
    exported = {p[2].split("@")[0] for p in (line.split() for line in out.splitlines())
                if len(p) == 3 and p[1] in "TtWDBRVi"}
    assert exported and all(name.startswith("om_") for name in exported), sorted(exported)
    assert (dist / "include/openaimodel.h").read_text() == (ROOT / "include/openaimodel.h").read_text()
    size = lib.stat().st_size
    print(f"\ndist library: {size} bytes ({size / 1e6:.1f} MB), needs {', '.join(needed)}")


def test_dist_runs_the_c_demo_without_the_toolchain(dist, tenant, tmp_path):
    # Built with the dist's relocatable pkg-config file only, no rpath.
    env = clean_env(PKG_CONFIG_PATH=dist / "lib/pkgconfig")
    flags = run(["pkg-config", "--cflags", "--libs", "openaimodel", "jansson"], env, check=True).stdout.split()
    exe = tmp_path / "demo"
    run(["cc", *CFLAGS.split(), str(EXAMPLES / "demo.c"), *flags, "-o", str(exe)], env, check=True)
    assert "RUNPATH" not in run(["readelf", "-d", str(exe)], check=True).stdout

    run_env = bare_env(dist, OPENAI_BASE_URL=tenant.base_url, OPENAI_API_KEY=tenant.key,
                       OM_DEMO_LOCAL_SERVER=1, TMPDIR=tmp_path, LD_DEBUG="files")
    prefix = hiding_prefix() or []
    print("\ntoolchain libraries hidden by an empty mount" if prefix else
          "\nno mount namespace here: relying on env -i and the list of loaded objects")
    r = run(prefix + [str(exe), str(DATA)], run_env)
    assert r.returncode == 0, r.stdout + r.stderr[-3000:]
    assert r.stdout.rstrip().endswith("demo: 8 steps, 0 failed, 0 skipped")
    loaded = re.findall(r"file=(\S+) \[0\];  needed by", r.stderr)
    assert str(dist / "lib/libopenaimodel.so.1") in loaded or "libopenaimodel.so.1" in " ".join(loaded)
    assert not [f for f in loaded if "swift" in f.lower()], loaded
    if prefix:
        # The control: with the folders hidden, the normal build cannot load.
        normal = tmp_path / "demo-normal"
        run(["cc", str(EXAMPLES / "demo.c"), f"-I{ROOT / 'include'}", f"-L{LIB.parent}", "-lopenaimodel",
             f"-Wl,-rpath,{LIB.parent}", "-ljansson", "-o", str(normal)], check=True)
        r = run(prefix + [str(normal), str(DATA)], bare_env(dist, LD_LIBRARY_PATH=""))
        assert r.returncode != 0 and "libswift" in r.stderr, r.stderr


def test_dist_runs_the_python_binding_without_the_toolchain(dist, tenant, tmp_path):
    script = f"""
import sys
sys.path.insert(0, {str(ROOT / 'bindings/python')!r})
import openaimodel
from openaimodel import OpenAIModel
assert openaimodel.library_path == {str(dist / 'lib/libopenaimodel.so.1')!r}, openaimodel.library_path
with OpenAIModel({tenant.key!r}, base_url={tenant.base_url!r}, data_dir={str(tmp_path)!r}) as m:
    print(m.ask("Hello, how are you?"))
    print(m.describe_image({str(DATA / 'example.png')!r})["format"])
    print(",".join(m.list_models))
maps = open("/proc/self/maps").read()
swift = sorted({{line.split()[-1] for line in maps.splitlines() if "swift" in line.lower()}})
print("swift mappings:", swift)
"""
    env = bare_env(dist, OPENAIMODEL_LIBRARY=dist / "lib/libopenaimodel.so.1", HOME=tmp_path)
    r = run((hiding_prefix() or []) + [sys.executable, "-c", script], env)
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert lines[:2] == [HELLO_REPLY, "png"] and "gpt-4o-mini" in lines[2].split(",")
    assert lines[3] == "swift mappings: []"


def test_dist_load_time(dist, tmp_path):
    """Prints the median time to load each library in a fresh process (for
    the README); asserts only a loose bound."""
    exe = tmp_path / "load_time"
    run(["cc", *CFLAGS.split(), str(HERE / "load_time.c"), "-o", str(exe), "-ldl"], check=True)
    medians = {}
    for name, lib in (("dist", dist / "lib/libopenaimodel.so.1"), ("build", LIB)):
        loads, creates = [], []
        for _ in range(9):
            out = run([str(exe), str(lib)], check=True).stdout
            m = re.search(r"load_ms=([\d.]+) create_ms=([\d.]+)", out)
            loads.append(float(m.group(1)))
            creates.append(float(m.group(2)))
        medians[name] = (statistics.median(loads), statistics.median(creates))
    for name, (load, create) in medians.items():
        print(f"\n{name}: load {load:.1f} ms, first om_create {create:.2f} ms (median of 9)")
    assert medians["dist"][0] < 1000


# ---------------------------------------------------------------------------
# the README's quickstarts
# ---------------------------------------------------------------------------

def readme_block(section, language):
    text = (ROOT / "README.md").read_text()
    part = text[text.index(f"## {section}\n"):]
    part = part[:part.index("\n## ", 1)]
    return re.search(rf"```{language}\n(.*?)```", part, re.S).group(1)


def test_readme_quickstart_in_c(env, tenant, tmp_path):
    source = tmp_path / "hello.c"
    source.write_text(readme_block("Quickstart in C", "c"))
    exe = tmp_path / "hello"
    run(["cc", *CFLAGS.split(), str(source), f"-I{ROOT / 'include'}", f"-L{LIB.parent}", "-lopenaimodel",
         f"-Wl,-rpath,{LIB.parent}", "-o", str(exe)], check=True)
    assert run([str(exe)], env, check=True).stdout == HELLO_REPLY + "\n"
    env["OPENAI_API_KEY"] = "sk-invalid-readme"
    r = run([str(exe)], env)
    assert r.returncode == 1 and "401" in r.stderr and "sk-invalid-readme" not in r.stderr, r.stderr


def test_readme_quickstart_in_python(env, tenant):
    code = "import sys\nsys.path.insert(0, %r)\n" % str(ROOT / "bindings/python") + \
        readme_block("Quickstart in Python", "python")
    r = run([sys.executable, "-c", code], env, check=True)
    assert r.stdout == HELLO_REPLY + "\nYou said: Tell me a short story.\n"
    sent = chat_requests(tenant)
    assert sent[0]["json"]["messages"][0] == {"role": "system", "content": "You are a helpful assistant."}
