"""``pip install ./bindings/python`` into a fresh venv builds and bundles the
library: the installed package works with no environment variable."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from omtest import ROOT

pytestmark = pytest.mark.slow


def run(cmd, env, cwd, timeout=900):
    return subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)


@pytest.mark.skipif(shutil.which("swift") is None, reason="no Swift toolchain")
def test_pip_install_bundles_the_library(server, tenant, tmp_path):
    venv = tmp_path / "venv"
    r = run([sys.executable, "-m", "venv", str(venv)], dict(os.environ), tmp_path)
    assert r.returncode == 0, r.stderr
    python = venv / "bin" / "python"
    env = {k: v for k, v in os.environ.items()
           if k not in ("OPENAIMODEL_LIBRARY", "PYTHONPATH", "VIRTUAL_ENV")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    cmd = [str(python), "-m", "pip", "install", "-q", "./bindings/python"]
    r = run(cmd, env, ROOT)
    if r.returncode != 0:
        # no index reachable for the isolated build: fall back to the venv's setuptools
        fallback = run(cmd + ["--no-build-isolation"], env, ROOT)
        assert fallback.returncode == 0, (
            f"pip install failed:\n{r.stdout}\n{r.stderr}\n--- without isolation:\n"
            f"{fallback.stdout}\n{fallback.stderr}")
    script = textwrap.dedent(f"""\
        import os, sys
        import openaimodel
        assert "OPENAIMODEL_LIBRARY" not in os.environ
        assert openaimodel.library_path.startswith(sys.prefix), openaimodel.library_path
        assert openaimodel.library_path.endswith("/openaimodel/libopenaimodel.so")
        with openaimodel.OpenAIModel({tenant.key!r}, base_url={server.url!r},
                                     data_dir={str(tmp_path)!r}) as m:
            print(",".join(m.list_models))
        """)
    # run from tmp_path so the checkout's bindings/python is not on sys.path
    r = run([str(python), "-c", script], env, tmp_path, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "gpt-4o-mini" in r.stdout.split(",")
    installed = list((venv / "lib").glob("python3*/site-packages/openaimodel/libopenaimodel.so"))
    assert len(installed) == 1 and not installed[0].is_symlink()
    wheel_info = list((venv / "lib").glob("python3*/site-packages/openaimodel-1.0.0.dist-info/WHEEL"))
    assert wheel_info and "Root-Is-Purelib: false" in wheel_info[0].read_text()
    assert (installed[0].parent / "py.typed").exists()
