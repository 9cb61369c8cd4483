"""The binding itself: the declaration table against the header, the structs'
layout against the C compiler, library lookup and the version check."""

from __future__ import annotations

import ctypes
import os
import re
import shutil
import subprocess
import sys
import textwrap

import pytest

import openaimodel
from openaimodel import _lib
from omtest import HEADER, PACKAGE_ROOT, ROOT


def header_text():
    text = HEADER.read_text()
    return re.sub(r"/\*.*?\*/", "", text, flags=re.S)


def header_prototypes():
    """name -> (return type, [parameter types]) of every function in the header."""
    text = re.sub(r"typedef[^;]*;", "", header_text())
    text = re.sub(r"#[^\n]*", "", text)
    found = {}
    for m in re.finditer(r"([A-Za-z_][A-Za-z0-9_ \*]*?)\b(om_[a-z0-9_]+)\s*\(([^)]*)\)\s*;", text):
        params = [p.strip() for p in m.group(3).split(",")]
        if params == ["void"]:
            params = []
        found[m.group(2)] = (" ".join(m.group(1).split()), params)
    return found


def test_table_declares_every_header_function_with_its_arity():
    protos = header_prototypes()
    assert len(protos) >= 30
    table = {name: (restype, argtypes) for name, restype, argtypes in _lib._FUNCTIONS}
    assert set(table) == set(protos), (
        f"only in the table: {sorted(set(table) - set(protos))}; "
        f"only in the header: {sorted(set(protos) - set(table))}")
    assert [n for n, _, _ in _lib._FUNCTIONS] == [n for n in protos], "not in the header's order"
    for name, (ret, params) in protos.items():
        restype, argtypes = table[name]
        assert len(argtypes) == len(params), f"{name}: {argtypes} vs {params}"
        if ret == "void":
            assert restype is None, name
        elif ret in ("om_status", "int"):
            assert restype is ctypes.c_int, name
        elif ret == "unsigned int":
            assert restype is ctypes.c_uint, name
        elif ret == "const char *":
            assert restype is ctypes.c_char_p, name   # static or handle-owned
        for param, argtype in zip(params, argtypes):
            if param.startswith("char **"):
                # caller-owned results come back as raw pointers for om_string_free
                assert argtype is ctypes.POINTER(ctypes.c_void_p), f"{name}: {param}"
            elif param.startswith("const char *"):
                assert argtype is ctypes.c_char_p, f"{name}: {param}"
            elif param.startswith("long ") :
                assert argtype is ctypes.c_long, f"{name}: {param}"
            elif param.startswith("int "):
                assert argtype is ctypes.c_int, f"{name}: {param}"


def test_every_function_is_bound_to_the_library():
    missing = [n for n in _lib.FUNCTION_NAMES if isinstance(getattr(_lib, n), _lib.MissingFunction)]
    assert not missing, f"{_lib.LIBRARY_PATH} lacks {missing}"


C_TYPES = {
    "unsigned int": ctypes.c_uint,
    "const char *": ctypes.c_char_p,
    "int": ctypes.c_int,
    "long": ctypes.c_long,
    "void *": ctypes.c_void_p,
    "om_log_cb": _lib.LOG_CB,
    "om_progress_cb": _lib.PROGRESS_CB,
}


def header_struct_fields(name):
    m = re.search(r"typedef struct %s \{(.*?)\} %s;" % (name, name), header_text(), re.S)
    assert m, name
    fields = []
    for decl in m.group(1).split(";"):
        decl = " ".join(decl.split())
        if not decl:
            continue
        fm = re.fullmatch(r"(.*?)\s*\b([a-z_]+)", decl)
        fields.append((fm.group(2), fm.group(1).replace(" *", " *").strip()))
    return fields


@pytest.mark.parametrize("struct,cls", [("om_options", _lib.OmOptions),
                                        ("om_train_options", _lib.OmTrainOptions)])
def test_struct_fields_follow_the_header(struct, cls):
    fields = header_struct_fields(struct)
    assert [f for f, _ in fields] == [f for f, _ in cls._fields_]
    for (name, ctype), (_, pytype) in zip(fields, cls._fields_):
        ctype = re.sub(r"\s*\*", " *", ctype)
        assert C_TYPES[ctype] is pytype, f"{struct}.{name}: {ctype} vs {pytype}"


def test_struct_layout_matches_the_c_compiler(tmp_path):
    lines = ['#include <stdio.h>', '#include <stddef.h>', '#include "openaimodel.h"',
             'int main(void) {']
    for struct, cls in [("om_options", _lib.OmOptions), ("om_train_options", _lib.OmTrainOptions)]:
        lines.append(f'    printf("{struct} sizeof %zu\\n", sizeof({struct}));')
        for field, _ in cls._fields_:
            lines.append(f'    printf("{struct} {field} %zu\\n", offsetof({struct}, {field}));')
    lines += ["    return 0;", "}"]
    src = tmp_path / "layout.c"
    src.write_text("\n".join(lines) + "\n")
    exe = tmp_path / "layout"
    r = subprocess.run(["cc", "-std=c99", "-Wall", "-Werror", f"-I{ROOT / 'include'}", str(src),
                        "-o", str(exe)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    out = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout
    from_c = {}
    for line in out.splitlines():
        struct, field, value = line.split()
        from_c[(struct, field)] = int(value)
    for struct, cls in [("om_options", _lib.OmOptions), ("om_train_options", _lib.OmTrainOptions)]:
        assert ctypes.sizeof(cls) == from_c[(struct, "sizeof")], struct
        for field, _ in cls._fields_:
            assert getattr(cls, field).offset == from_c[(struct, field)], f"{struct}.{field}"


def test_version_check():
    assert openaimodel.library_version == "1.0.0"
    assert _lib.om_version_number() == _lib.EXPECTED_VERSION_NUMBER == 10000
    assert openaimodel.__version__ == "1.0.0"
    assert os.path.samefile(openaimodel.library_path, os.environ["OPENAIMODEL_LIBRARY"])


def test_status_descriptions():
    assert openaimodel.Status.EAUTH == 12
    assert openaimodel.Status.OK.describe()
    assert openaimodel.Status.ENOTFOUND.describe() != openaimodel.Status.OK.describe()
    assert _lib.status_str(999) == "unknown status"


def run_import(env_changes, cwd, path_entry):
    """Import openaimodel in a subprocess; returns (returncode, output)."""
    env = dict(os.environ)
    for k, v in env_changes.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    env["PYTHONPATH"] = str(path_entry)
    r = subprocess.run([sys.executable, "-c", "import openaimodel; print(openaimodel.library_path)"],
                       env=env, cwd=cwd, capture_output=True, text=True, timeout=60)
    return r.returncode, r.stdout + r.stderr


def copy_package(tmp_path):
    """A copy of the package without a bundled library, far from any checkout."""
    dest = tmp_path / "site" / "openaimodel"
    shutil.copytree(PACKAGE_ROOT / "openaimodel", dest,
                    ignore=shutil.ignore_patterns("*.so", "__pycache__"))
    return dest.parent


def test_missing_library_explicit_path(tmp_path):
    site = copy_package(tmp_path)
    code, out = run_import({"OPENAIMODEL_LIBRARY": "/nonexistent/libopenaimodel.so"}, tmp_path, site)
    assert code != 0
    assert "ImportError" in out
    assert "/nonexistent/libopenaimodel.so" in out
    assert "OPENAIMODEL_LIBRARY" in out
    assert "Segmentation" not in out


def test_missing_library_nowhere(tmp_path):
    site = copy_package(tmp_path)
    code, out = run_import({"OPENAIMODEL_LIBRARY": None}, tmp_path, site)
    assert code != 0
    assert "ImportError: openaimodel: cannot load libopenaimodel" in out
    assert str(site / "openaimodel" / "libopenaimodel.so") in out      # where it looked
    assert ".build/release/libopenaimodel.so" in out
    for fix in ("make", "pip install ./bindings/python", "OPENAIMODEL_LIBRARY="):
        assert fix in out                                                 # how to fix it


def test_library_bundled_in_the_package_folder_is_found(tmp_path):
    site = copy_package(tmp_path)
    shutil.copyfile(os.environ["OPENAIMODEL_LIBRARY"], site / "openaimodel" / "libopenaimodel.so")
    code, out = run_import({"OPENAIMODEL_LIBRARY": None}, tmp_path, site)
    assert code == 0, out
    assert out.strip() == str((site / "openaimodel" / "libopenaimodel.so").resolve())


def test_checkout_fallback(tmp_path):
    """PYTHONPATH=bindings/python with no variable finds <repo>/.build/release."""
    build = ROOT / ".build" / "release" / "libopenaimodel.so"
    if not build.exists():
        pytest.skip("no checkout build")
    code, out = run_import({"OPENAIMODEL_LIBRARY": None}, tmp_path, PACKAGE_ROOT)
    assert code == 0, out
    assert out.strip() == str(build)


def test_version_mismatch_is_an_import_error(tmp_path):
    src = tmp_path / "fake.c"
    src.write_text(textwrap.dedent("""\
        const char *om_version(void) { return "2.3.4"; }
        unsigned int om_version_number(void) { return 20304; }
        """))
    fake = tmp_path / "libfake.so"
    r = subprocess.run(["cc", "-shared", "-fPIC", str(src), "-o", str(fake)], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr
    code, out = run_import({"OPENAIMODEL_LIBRARY": str(fake)}, tmp_path, copy_package(tmp_path))
    assert code != 0
    assert "ImportError" in out and "version mismatch" in out
    assert "2.3.4" in out and "20304" in out           # the library's
    assert "1.0.0" in out and "10000" in out           # the binding's


def test_not_a_library_is_an_import_error(tmp_path):
    bogus = tmp_path / "libopenaimodel.so"
    bogus.write_text("not an ELF file")
    code, out = run_import({"OPENAIMODEL_LIBRARY": str(bogus)}, tmp_path, copy_package(tmp_path))
    assert code != 0
    assert "ImportError" in out and str(bogus) in out


def test_py_typed_and_docstrings():
    assert (PACKAGE_ROOT / "openaimodel" / "py.typed").exists()
    import openaimodel.errors
    import openaimodel.model
    for mod in (openaimodel, openaimodel._lib, openaimodel.errors, openaimodel.model):
        assert mod.__doc__ and len(mod.__doc__) > 40, mod.__name__


def test_module_level_sentiment():
    assert openaimodel.determine_sentiment("I love this, it is wonderful") == "positive"
    assert openaimodel.determine_sentiment("This is terrible and I hate it") == "negative"
    assert openaimodel.determine_sentiment(None) == "neutral"
