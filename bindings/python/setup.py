"""Build hooks for the openaimodel package.

``pip install ./bindings/python`` builds the release library with SwiftPM in
the repository root (the parent of this folder's parent) and bundles
``libopenaimodel.so`` into the package, so the installed package needs no
environment variable. The wheel is platform-specific since it carries a .so.

Environment:
  OPENAIMODEL_SOURCE_DIR   the repository root (default: ../.. from here)
  OPENAIMODEL_PREBUILT     a libopenaimodel.so to bundle instead of building
  SWIFT                    the swift driver (default: swift)
"""

import os
import pathlib
import shutil
import subprocess
import sys

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

HERE = pathlib.Path(__file__).resolve().parent
LIBRARY = "libopenaimodel.so"


def _library() -> pathlib.Path:
    prebuilt = os.environ.get("OPENAIMODEL_PREBUILT")
    if prebuilt:
        path = pathlib.Path(prebuilt)
        if not path.is_file():
            sys.exit(f"openaimodel: OPENAIMODEL_PREBUILT={prebuilt} does not exist")
        return path
    root = pathlib.Path(os.environ.get("OPENAIMODEL_SOURCE_DIR") or HERE.parent.parent)
    if not (root / "Package.swift").is_file():
        bundled = HERE / "openaimodel" / LIBRARY
        if bundled.is_file():
            return bundled
        sys.exit(f"openaimodel: no Package.swift in {root}: build from the libopenaimodel "
                 "checkout, or set OPENAIMODEL_SOURCE_DIR or OPENAIMODEL_PREBUILT")
    swift = os.environ.get("SWIFT", "swift")
    cmd = [swift, "build", "-c", "release", "--product", "openaimodel"]
    print(f"openaimodel: building the library in {root}: {' '.join(cmd)}", flush=True)
    try:
        subprocess.run(cmd, cwd=root, check=True)
    except FileNotFoundError:
        sys.exit(f"openaimodel: `{swift}` not found: installing needs the Swift toolchain "
                 "(or OPENAIMODEL_PREBUILT=/path/to/libopenaimodel.so)")
    except subprocess.CalledProcessError as e:
        sys.exit(f"openaimodel: `{' '.join(cmd)}` failed with exit code {e.returncode}")
    path = root / ".build" / "release" / LIBRARY
    if not path.is_file():
        sys.exit(f"openaimodel: the build left no {path}")
    return path


class BuildPyWithLibrary(build_py):
    """build_py that also builds libopenaimodel and copies it into the package."""

    def run(self) -> None:
        super().run()
        target = pathlib.Path(self.build_lib) / "openaimodel" / LIBRARY
        target.parent.mkdir(parents=True, exist_ok=True)
        source = _library()
        if source.resolve() != target.resolve():
            shutil.copyfile(source, target)   # the real file, not the symlink
            os.chmod(target, 0o755)
        print(f"openaimodel: bundled {source} as {target}", flush=True)


class BinaryDistribution(Distribution):
    """The package carries a native library: never a pure (any-platform) wheel."""

    def has_ext_modules(self) -> bool:
        return True


cmdclass = {"build_py": BuildPyWithLibrary}

try:  # tag the wheel py3-none-<platform>: native code, but no CPython ABI dependency
    try:
        from setuptools.command.bdist_wheel import bdist_wheel as _bdist_wheel
    except ImportError:
        from wheel.bdist_wheel import bdist_wheel as _bdist_wheel

    class BdistWheel(_bdist_wheel):
        def finalize_options(self) -> None:
            super().finalize_options()
            self.root_is_pure = False

        def get_tag(self):  # type: ignore[no-untyped-def]
            _, _, plat = super().get_tag()
            return "py3", "none", plat

    cmdclass["bdist_wheel"] = BdistWheel
except ImportError:
    pass

setup(cmdclass=cmdclass, distclass=BinaryDistribution)
