"""Loading libopenaimodel and declaring its C interface for ctypes.

This module finds the shared library, checks its version against the one this
binding was written for, and declares ``argtypes``/``restype`` for every
function of ``include/openaimodel.h`` in one table (``_FUNCTIONS``).

Lookup order:

1. ``$OPENAIMODEL_LIBRARY`` (a path to ``libopenaimodel.so``), when set and
   not empty. An explicit choice is honoured: when it cannot be loaded the
   import fails rather than silently using another copy.
2. ``libopenaimodel.so`` inside this package (put there by
   ``pip install ./bindings/python``).
3. ``<repo>/.build/release/libopenaimodel.so`` when the package is used
   straight from a checkout (``PYTHONPATH=bindings/python`` after ``make``).

Pointers that the caller owns (``char **out``) are declared ``c_void_p`` and
released with ``om_string_free`` after copying (see ``take_string``); static
or handle-owned strings are ``c_char_p``.
"""

from __future__ import annotations

import ctypes
import os
from ctypes import (
    CFUNCTYPE,
    POINTER,
    Structure,
    c_char,
    c_char_p,
    c_int,
    c_long,
    c_longlong,
    c_size_t,
    c_uint,
    c_void_p,
)
# typing (and the re, enum... it imports) only for type checkers: the import
# of this package is part of every program's start-up.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, List, Optional, Tuple, Union

# The version of include/openaimodel.h this binding follows.
EXPECTED_VERSION = "1.0.0"
EXPECTED_VERSION_NUMBER = 10000  # MAJOR * 10000 + MINOR * 100 + PATCH

OPTIONS_VERSION = 1
TRAIN_OPTIONS_VERSION = 1

LIBRARY_ENV = "OPENAIMODEL_LIBRARY"
LIBRARY_NAME = "libopenaimodel.so"

PACKAGE_DIR = os.path.dirname(os.path.realpath(__file__))

# --- status codes (enum om_status) ---------------------------------------------
OM_OK = 0
OM_EINVAL = 1
OM_ENOMEM = 2
OM_EIO = 3
OM_ENOFILE = 4
OM_EDATA = 5
OM_ENETWORK = 6
OM_ETIMEDOUT = 7
OM_ECANCELLED = 8
OM_EPARSE = 9
OM_EUNSUPPORTED = 10
OM_EAPI = 11
OM_EAUTH = 12
OM_EPERMISSION = 13
OM_ENOTFOUND = 14
OM_ERATELIMIT = 15
OM_ESERVER = 16
OM_EINTERNAL = 17

# --- log levels ----------------------------------------------------------------
OM_LOG_OFF = -1
OM_LOG_DEFAULT = 0
OM_LOG_ERROR = 1
OM_LOG_WARN = 2
OM_LOG_INFO = 3
OM_LOG_DEBUG = 4

# --- callbacks -----------------------------------------------------------------
# typedef void (*om_log_cb)(int level, const char *message, void *userdata);
LOG_CB = CFUNCTYPE(None, c_int, c_char_p, c_void_p)
# typedef int (*om_stream_cb)(const char *delta, size_t len, void *userdata);
# (delta as a pointer to char: exactly `len` bytes are copied with delta[:len],
# which costs a third of ctypes.string_at's Python-level call)
STREAM_CB = CFUNCTYPE(c_int, POINTER(c_char), c_size_t, c_void_p)
# typedef int (*om_progress_cb)(const char *stage, long long done,
#                               long long total, void *userdata);
PROGRESS_CB = CFUNCTYPE(c_int, c_char_p, c_longlong, c_longlong, c_void_p)
# typedef int (*om_job_cb)(const char *status, const char *event_json, void *userdata);
JOB_CB = CFUNCTYPE(c_int, c_char_p, c_char_p, c_void_p)


class OmOptions(Structure):
    """``struct om_options``: fields in the header's order and types."""

    _fields_ = [
        ("version", c_uint),
        ("api_key", c_char_p),
        ("base_url", c_char_p),
        ("organization", c_char_p),
        ("project", c_char_p),
        ("proxy", c_char_p),
        ("ca_file", c_char_p),
        ("allow_insecure_http", c_int),
        ("connect_timeout_ms", c_long),
        ("timeout_ms", c_long),
        ("idle_timeout_ms", c_long),
        ("max_retries", c_int),
        ("model", c_char_p),
        ("system_instruction", c_char_p),
        ("assistant_id", c_char_p),
        ("assistants_file", c_char_p),
        ("max_output_tokens", c_int),
        ("image_max_output_tokens", c_int),
        ("image_detail", c_char_p),
        ("token_limit_param", c_char_p),
        ("send_history", c_int),
        ("data_dir", c_char_p),
        ("dialogue_file", c_char_p),
        ("no_dialogue_file", c_int),
        ("fine_tune_suffix", c_char_p),
        ("log_cb", LOG_CB),
        ("log_userdata", c_void_p),
        ("log_level", c_int),
    ]


class OmTrainOptions(Structure):
    """``struct om_train_options``: fields in the header's order and types."""

    _fields_ = [
        ("version", c_uint),
        ("data", c_char_p),
        ("data_dir", c_char_p),
        ("data_file", c_char_p),
        ("positive", c_int),
        ("model", c_char_p),
        ("suffix", c_char_p),
        ("progress", PROGRESS_CB),
        ("userdata", c_void_p),
    ]


_Handle = c_void_p          # om_model *
_Out = POINTER(c_void_p)    # char ** / om_model ** (caller-owned result)
_Status = c_int             # om_status

# The one table: name -> (restype, argtypes), in the header's order.
_FUNCTIONS: List[Tuple[str, Any, List[Any]]] = [
    # Version
    ("om_version", c_char_p, []),
    ("om_version_number", c_uint, []),
    ("om_status_str", c_char_p, [c_int]),
    # Options and handle
    ("om_create", _Status, [POINTER(OmOptions), _Out]),
    ("om_free", None, [_Handle]),
    ("om_string_free", None, [c_void_p]),
    # Errors
    ("om_errmsg", c_char_p, [_Handle]),
    ("om_errcode", _Status, [_Handle]),
    ("om_errdetail", c_char_p, [_Handle]),
    ("om_last_error", c_char_p, []),
    ("om_last_request_id", c_char_p, [_Handle]),
    ("om_last_http_status", c_int, [_Handle]),
    ("om_last_response", c_char_p, [_Handle]),
    ("om_cancel", _Status, [_Handle]),
    # Models
    ("om_list_models", _Status, [_Handle, _Out]),
    # Chat
    ("om_ask", _Status, [_Handle, c_char_p, c_char_p, c_int, _Out]),
    ("om_ask_stream", _Status, [_Handle, c_char_p, c_char_p, c_int, STREAM_CB, c_void_p, _Out]),
    ("om_determine_sentiment", c_char_p, [c_char_p]),
    ("om_dialogue", _Status, [_Handle, _Out]),
    # Images
    ("om_describe_image", _Status, [_Handle, c_char_p, c_char_p, c_char_p, _Out]),
    ("om_describe_image_text", _Status, [_Handle, c_char_p, c_char_p, c_char_p, _Out]),
    # Assistants
    ("om_list_assistants", _Status, [_Handle, _Out]),
    ("om_set_assistant", _Status, [_Handle, c_char_p]),
    # Fine-tuning
    ("om_train", _Status, [_Handle, c_char_p, c_char_p, c_char_p, c_int, _Out]),
    ("om_train_ex", _Status, [_Handle, POINTER(OmTrainOptions), _Out]),
    ("om_dynamic_train", _Status, [_Handle, _Out]),
    ("om_current_job_id", _Status, [_Handle, _Out]),
    ("om_save_job_id", _Status, [_Handle, c_char_p, c_char_p, c_char_p]),
    ("om_job_get", _Status, [_Handle, c_char_p, _Out]),
    ("om_job_events", _Status, [_Handle, c_char_p, c_char_p, c_int, _Out]),
    ("om_job_cancel", _Status, [_Handle, c_char_p, _Out]),
    ("om_list_jobs", _Status, [_Handle, c_char_p, c_int, _Out]),
    ("om_job_wait", _Status, [_Handle, c_char_p, c_long, JOB_CB, c_void_p, _Out]),
]

FUNCTION_NAMES = [name for name, _, _ in _FUNCTIONS]


class MissingFunction:
    """Stands in for a function the loaded library does not export.

    Only a library of the right version but built from an unfinished tree
    lacks functions; calling one raises ``UnsupportedError`` (from
    ``openaimodel.errors``) naming it, while the rest of the binding works.
    """

    def __init__(self, name: str, path: str) -> None:
        self.name = name
        self.path = path

    def __call__(self, *args: Any) -> Any:
        from .errors import UnsupportedError

        raise UnsupportedError(
            f"{self.name}() is not exported by {self.path}: rebuild the library (make lib)",
            errcode=OM_EUNSUPPORTED,
        )


def _candidates() -> List[Tuple[str, str]]:
    """Where the library is looked for, as (reason, path), in order."""
    env = os.environ.get(LIBRARY_ENV, "")
    if env:
        return [(f"${LIBRARY_ENV}", env)]
    found = [("the package folder", os.path.join(PACKAGE_DIR, LIBRARY_NAME))]
    repo = os.path.dirname(os.path.dirname(os.path.dirname(PACKAGE_DIR)))
    build = os.path.join(repo, ".build", "release", LIBRARY_NAME)
    if os.path.isfile(os.path.join(repo, "Package.swift")):
        found.append(("the checkout's build", build))
    else:
        found.append(("a checkout's build (no checkout around the package)", build))
    return found


def _load() -> Tuple[ctypes.CDLL, str]:
    tried: List[str] = []
    for reason, path in _candidates():
        if not os.path.exists(path):
            tried.append(f"  {path} ({reason}): no such file")
            continue
        try:
            return ctypes.CDLL(path), path
        except OSError as e:  # wrong architecture, missing dependency, ...
            tried.append(f"  {path} ({reason}): {e}")
    explicit = bool(os.environ.get(LIBRARY_ENV, ""))
    fix = (f"Fix ${LIBRARY_ENV} (or unset it to use the bundled library)." if explicit else
           "Fix: run `make` in the repository root (for PYTHONPATH=bindings/python), "
           "or `pip install ./bindings/python` (builds and bundles the library), "
           f"or set {LIBRARY_ENV}=/path/to/libopenaimodel.so.")
    raise ImportError("openaimodel: cannot load libopenaimodel. Looked at:\n"
                      + "\n".join(tried) + "\n" + fix)


def _declare(cdll: ctypes.CDLL, path: str) -> None:
    for name, restype, argtypes in _FUNCTIONS:
        try:
            fn = getattr(cdll, name)
        except AttributeError:
            globals()[name] = MissingFunction(name, path)
            continue
        fn.restype = restype
        fn.argtypes = argtypes
        globals()[name] = fn


def _check_version(cdll: ctypes.CDLL, path: str) -> str:
    try:
        number = int(cdll.om_version_number())
        version = (cdll.om_version() or b"?").decode("utf-8", "replace")
    except AttributeError as e:
        raise ImportError(f"openaimodel: {path} is not libopenaimodel ({e})") from None
    if number != EXPECTED_VERSION_NUMBER:
        raise ImportError(
            f"openaimodel: version mismatch: the library {path} is {version} "
            f"(om_version_number() = {number}) but this binding expects "
            f"{EXPECTED_VERSION} ({EXPECTED_VERSION_NUMBER}). Install matching versions.")
    return version


CDLL, LIBRARY_PATH = _load()
CDLL.om_version.restype = c_char_p
CDLL.om_version.argtypes = []
CDLL.om_version_number.restype = c_uint
CDLL.om_version_number.argtypes = []
LIBRARY_VERSION = _check_version(CDLL, LIBRARY_PATH)
_declare(CDLL, LIBRARY_PATH)

# Typed names for the functions the rest of the package calls (filled by _declare).
om_version: Callable[..., Any]
om_version_number: Callable[..., Any]
om_status_str: Callable[..., Any]
om_create: Callable[..., Any]
om_free: Callable[..., Any]
om_string_free: Callable[..., Any]
om_errmsg: Callable[..., Any]
om_errcode: Callable[..., Any]
om_errdetail: Callable[..., Any]
om_last_error: Callable[..., Any]
om_last_request_id: Callable[..., Any]
om_last_http_status: Callable[..., Any]
om_last_response: Callable[..., Any]
om_cancel: Callable[..., Any]
om_list_models: Callable[..., Any]
om_ask: Callable[..., Any]
om_ask_stream: Callable[..., Any]
om_determine_sentiment: Callable[..., Any]
om_dialogue: Callable[..., Any]
om_describe_image: Callable[..., Any]
om_describe_image_text: Callable[..., Any]
om_list_assistants: Callable[..., Any]
om_set_assistant: Callable[..., Any]
om_train: Callable[..., Any]
om_train_ex: Callable[..., Any]
om_dynamic_train: Callable[..., Any]
om_current_job_id: Callable[..., Any]
om_save_job_id: Callable[..., Any]
om_job_get: Callable[..., Any]
om_job_events: Callable[..., Any]
om_job_cancel: Callable[..., Any]
om_list_jobs: Callable[..., Any]
om_job_wait: Callable[..., Any]


def take_string(pointer: c_void_p) -> Optional[str]:
    """Copy a caller-owned result string, release it with om_string_free."""
    address = pointer.value
    if not address:
        return None
    try:
        return ctypes.string_at(address).decode("utf-8", "replace")
    finally:
        om_string_free(address)


def status_str(status: int) -> str:
    """``om_status_str``: a static description of a status code."""
    return (om_status_str(status) or b"unknown status").decode("utf-8", "replace")


def c_str(value: Optional[Union[str, bytes, "os.PathLike[Any]"]], name: str) -> Optional[bytes]:
    """UTF-8 for a ``const char *`` argument; NUL inside is refused (C would cut there)."""
    if value is None:
        return None
    if isinstance(value, bytes):
        data = value
    elif isinstance(value, str):
        data = value.encode("utf-8", "surrogateescape")
    elif isinstance(value, os.PathLike):
        data = os.fsencode(value)
    else:
        raise TypeError(f"{name} must be str, bytes or a path, not {type(value).__name__}")
    if b"\0" in data:
        raise ValueError(f"{name} contains a NUL character")
    return data
