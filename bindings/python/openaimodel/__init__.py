"""Python binding of libopenaimodel: OpenAI's HTTP API through one handle.

    from openaimodel import OpenAIModel

    with OpenAIModel(system_instruction="Be brief.") as model:
        print(model.list_models)
        print(model.ask("Hello, how are you?"))
        for piece in model.ask_stream("Tell me a story"):
            print(piece, end="", flush=True)

The library (``libopenaimodel.so``) is loaded with ctypes at import: from
``$OPENAIMODEL_LIBRARY``, else the copy bundled in this package, else a
checkout's ``.build/release``. Failures raise the exceptions of
``openaimodel.errors`` (re-exported here), shaped like the ``openai`` SDK's.
"""

from __future__ import annotations

from . import _lib
from . import errors as _errors
from .errors import *  # noqa: F401,F403  (the exception classes; their names are errors.__all__)
from .model import OpenAIModel, determine_sentiment

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, List

    from ._enums import LogLevel, Status

__version__ = _lib.EXPECTED_VERSION
#: The loaded library's version string (``om_version()``) and its path.
library_version: str = _lib.LIBRARY_VERSION
library_path: str = _lib.LIBRARY_PATH


def __getattr__(name: str) -> Any:
    # Status and LogLevel are made on first use: the enum module they need
    # costs every program a few milliseconds of start-up.
    if name in ("Status", "LogLevel"):
        from . import _enums

        value = getattr(_enums, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> List[str]:
    return sorted(set(globals()) | {"Status", "LogLevel"})


__all__ = [
    "OpenAIModel",
    "determine_sentiment",
    "Status",
    "LogLevel",
    "library_version",
    "library_path",
    "__version__",
]
__all__ += _errors.__all__
