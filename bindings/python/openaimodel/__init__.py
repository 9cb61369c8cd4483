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

import enum

from . import _lib
from .errors import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    Cancelled,
    ConflictError,
    InternalLibraryError,
    InternalServerError,
    InvalidArgumentError,
    InvalidDataError,
    LocalIOError,
    ModelClosedError,
    NoSuchFileError,
    NotFoundError,
    OpenAIError,
    OpenAIModelError,
    OutOfMemoryError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
    UnsupportedError,
)
from .model import OpenAIModel, determine_sentiment

__version__ = _lib.EXPECTED_VERSION
#: The loaded library's version string (``om_version()``) and its path.
library_version: str = _lib.LIBRARY_VERSION
library_path: str = _lib.LIBRARY_PATH


class Status(enum.IntEnum):
    """The library's status codes (``enum om_status``); ``OpenAIModelError.errcode``."""

    OK = _lib.OM_OK
    EINVAL = _lib.OM_EINVAL
    ENOMEM = _lib.OM_ENOMEM
    EIO = _lib.OM_EIO
    ENOFILE = _lib.OM_ENOFILE
    EDATA = _lib.OM_EDATA
    ENETWORK = _lib.OM_ENETWORK
    ETIMEDOUT = _lib.OM_ETIMEDOUT
    ECANCELLED = _lib.OM_ECANCELLED
    EPARSE = _lib.OM_EPARSE
    EUNSUPPORTED = _lib.OM_EUNSUPPORTED
    EAPI = _lib.OM_EAPI
    EAUTH = _lib.OM_EAUTH
    EPERMISSION = _lib.OM_EPERMISSION
    ENOTFOUND = _lib.OM_ENOTFOUND
    ERATELIMIT = _lib.OM_ERATELIMIT
    ESERVER = _lib.OM_ESERVER
    EINTERNAL = _lib.OM_EINTERNAL

    def describe(self) -> str:
        """``om_status_str``: the library's description of this code."""
        return _lib.status_str(int(self))


class LogLevel(enum.IntEnum):
    """Levels of the ``log_level`` option and of the ``log`` callback."""

    OFF = _lib.OM_LOG_OFF
    DEFAULT = _lib.OM_LOG_DEFAULT
    ERROR = _lib.OM_LOG_ERROR
    WARN = _lib.OM_LOG_WARN
    INFO = _lib.OM_LOG_INFO
    DEBUG = _lib.OM_LOG_DEBUG


__all__ = [
    "OpenAIModel",
    "determine_sentiment",
    "Status",
    "LogLevel",
    "library_version",
    "library_path",
    "__version__",
    "OpenAIModelError",
    "OpenAIError",
    "APIError",
    "APIStatusError",
    "BadRequestError",
    "AuthenticationError",
    "PermissionDeniedError",
    "NotFoundError",
    "ConflictError",
    "UnprocessableEntityError",
    "RateLimitError",
    "InternalServerError",
    "APIConnectionError",
    "APITimeoutError",
    "APIResponseValidationError",
    "Cancelled",
    "InvalidArgumentError",
    "InvalidDataError",
    "NoSuchFileError",
    "LocalIOError",
    "OutOfMemoryError",
    "UnsupportedError",
    "InternalLibraryError",
    "ModelClosedError",
]
