"""Builds and runs the C test programs against the test server, and checks
the header and the library's exported symbols."""
import os
import pathlib
import re
import shutil
import subprocess
import tempfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
HERE = ROOT / "Tests" / "c"
BIN = HERE / ("bin-" + os.environ["OM_TEST_SANITIZE"] if os.environ.get("OM_TEST_SANITIZE") else "bin")
LIB = pathlib.Path(os.environ.get("OPENAIMODEL_LIBRARY", ROOT / ".build/release/libopenaimodel.so"))
HEADER = ROOT / "include" / "openaimodel.h"
CFLAGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-D_DEFAULT_SOURCE", "-g"]
# `make sanitize` sets OM_TEST_SANITIZE=address|thread and points
# OPENAIMODEL_LIBRARY at a library built with that sanitizer: the programs are
# then built by the Swift toolchain's clang with the same sanitizer, whose
# runtime the library's instrumentation calls into.
SANITIZE = os.environ.get("OM_TEST_SANITIZE", "")


def compiler():
    if not SANITIZE:
        return ["cc"]
    swift = shutil.which("swiftc") or shutil.which("swift")
    assert swift, "OM_TEST_SANITIZE needs the Swift toolchain on PATH"
    bindir = os.path.dirname(os.path.realpath(swift))
    flags = [os.path.join(bindir, "clang"), f"-fsanitize={SANITIZE}", "-fno-omit-frame-pointer", "-O1"]
    if SANITIZE == "thread":
        # the toolchain's TSan runtime also intercepts libdispatch
        libdir = os.path.join(os.path.dirname(bindir), "lib", "swift", "linux")
        flags += [f"-L{libdir}", f"-Wl,-rpath,{libdir}", "-ldispatch", "-lBlocksRuntime"]
    return flags


def pkg(*args):
    return subprocess.run(["pkg-config", *args], check=True, capture_output=True, text=True).stdout.split()


def build(name, extra=()):
    BIN.mkdir(exist_ok=True)
    out = BIN / name
    src = HERE / f"{name}.c"
    cmd = [*compiler(), *CFLAGS, f"-I{ROOT / 'include'}", str(src), "-o", str(out),
           f"-L{LIB.parent}", "-lopenaimodel", f"-Wl,-rpath,{LIB.parent}",
           *pkg("--cflags", "--libs", "libcurl", "jansson"), "-lpthread", *extra]
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 0, f"compile failed:\n{' '.join(cmd)}\n{r.stderr}"
    return out


PROGRAMS = sorted(p.stem for p in HERE.glob("test_*.c"))


@pytest.mark.parametrize("program", PROGRAMS)
def test_c_program(program, server, tmp_path):
    exe = build(program)
    env = dict(os.environ, OM_TEST_ROOT=server.root, OM_TEST_DATA_DIR=str(tmp_path),
               OM_TEST_SERVER_DIR=str(ROOT / "Tests" / "server"))
    env.pop("OPENAI_API_KEY", None)
    env.pop("OPENAI_BASE_URL", None)
    r = subprocess.run([str(exe)], env=env, capture_output=True, text=True, errors="replace",
                       timeout=1800 if SANITIZE else 600, cwd=tmp_path)
    print(r.stdout)
    print(r.stderr)
    assert r.returncode == 0, f"{program} failed:\n{r.stdout}\n{r.stderr}"


def test_header_compiles_as_strict_c99_and_cpp(tmp_path):
    c = tmp_path / "h.c"
    c.write_text('#include "openaimodel.h"\nint main(void) { om_options o = OM_OPTIONS_INIT;\n'
                 'om_train_options t = OM_TRAIN_OPTIONS_INIT; (void)o; (void)t; return 0; }\n')
    for compiler, flags, src in [
        ("cc", ["-std=c99", "-pedantic-errors", "-Wall", "-Wextra", "-Werror"], c),
        ("g++", ["-std=c++11", "-pedantic-errors", "-Wall", "-Wextra", "-Werror", "-x", "c++"], c),
    ]:
        r = subprocess.run([compiler, *flags, f"-I{ROOT / 'include'}", str(src), "-o", str(tmp_path / "h")],
                           capture_output=True, text=True)
        assert r.returncode == 0, f"{compiler}: {r.stderr}"


def header_functions():
    text = HEADER.read_text()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r"typedef[^;]*;", "", text)  # callback typedefs are not exports
    return set(re.findall(r"\b(om_[a-z0-9_]+)\s*\(", text))


def test_exported_symbols_equal_header():
    out = subprocess.run(["nm", "-D", "--defined-only", str(LIB)], check=True, capture_output=True,
                         text=True).stdout
    exported = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "TtWDBRVi":
            exported.add(parts[2].split("@")[0])
    assert exported == header_functions(), (
        f"only in the library: {sorted(exported - header_functions())}; "
        f"only in the header: {sorted(header_functions() - exported)}")


@pytest.mark.skipif(bool(SANITIZE), reason="a sanitized library cannot be dlopened by a plain program")
def test_dlclose_while_a_thread_holds_library_state(tmp_path):
    """dlclose with a thread still running that called the library: the
    library stays mapped (NODELETE), so its per-thread clean-up at the
    thread's end runs and nothing crashes."""
    assert "NODELETE" in subprocess.run(["readelf", "-d", str(LIB)], check=True, capture_output=True,
                                        text=True).stdout
    exe = tmp_path / "dlclose_check"
    r = subprocess.run(["cc", *CFLAGS, f"-I{ROOT / 'include'}", str(HERE / "dlclose_check.c"), "-o", str(exe),
                        "-ldl", "-lpthread"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    r = subprocess.run([str(exe), str(LIB)], capture_output=True, text=True, errors="replace", timeout=60, env=env)
    assert r.returncode == 0, f"exit {r.returncode}:\n{r.stdout}\n{r.stderr}"
    assert "om_ask with invalid UTF-8: 1 (" in r.stdout and "ended cleanly" in r.stdout, r.stdout


def test_soname():
    out = subprocess.run(["readelf", "-d", str(LIB)], check=True, capture_output=True, text=True).stdout
    assert "Library soname: [libopenaimodel.so.1]" in out
