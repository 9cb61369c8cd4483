"""``OpenAIModel``: the Python face of one libopenaimodel handle.

A drop-in for the original ``OpenAIModel`` class (same member names, argument
names, defaults and return kinds) that raises SDK-shaped exceptions
(``openaimodel.errors``) where the original returned ``None`` or ``[]``.

Thread model: every blocking call goes through ctypes, which releases the GIL,
so several Python threads can use one model at once; the library runs them in
parallel on its own connection pool. ``close()`` refuses new calls, cancels
the calls in flight, waits for them to return, then frees the handle exactly
once.
"""

from __future__ import annotations

import ctypes
import math
import os
import time
from _thread import allocate_lock

# threading (with functools and collections) is imported where a thread, an
# event or a condition is needed: it is a tenth of a program's start-up.
try:
    from _thread import _local as _ThreadLocal     # what threading.local is
except ImportError:  # pragma: no cover - other Pythons
    from threading import local as _ThreadLocal

# typing and json cost start-up time too: typing is for type checkers only,
# json is imported by the calls that return JSON.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Deque, Dict, Iterator, List, Optional, Tuple, Union

from . import _lib
from .errors import (APIResponseValidationError, ModelClosedError, NotFoundError,
                     OpenAIModelError, make_error)

__all__ = ["OpenAIModel", "determine_sentiment"]

if TYPE_CHECKING:
    PathArg = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]
    LogCallback = Callable[[int, str], Any]
    ProgressCallback = Callable[[str, int, Optional[int]], Any]
    JobProgressCallback = Callable[[str, Optional[Dict[str, Any]]], Any]

_INT_MIN, _INT_MAX = -(2 ** 31), 2 ** 31 - 1

#: Seconds an abandoned ask_stream() waits for its worker to stop.
STREAM_STOP_GRACE = 1.0

#: ask_stream(): while pieces come in a burst, the reader is woken at most once
#: per this many seconds (or when STREAM_WAKE_BATCH pieces wait); the first
#: piece after a pause wakes it at once. Bounds the delay a piece can get.
STREAM_WAKE_INTERVAL = 0.001
STREAM_WAKE_BATCH = 64
#: The longest the reader sleeps between looks while nothing comes.
STREAM_IDLE_LOOK = 0.05

_STRING_OPTIONS = ("organization", "project", "proxy", "ca_file", "assistants_file",
                   "image_detail", "token_limit_param", "data_dir", "dialogue_file",
                   "fine_tune_suffix")
_BOOL_OPTIONS = ("allow_insecure_http", "send_history")
_INT_OPTIONS = ("max_output_tokens", "image_max_output_tokens")
_TIMEOUT_OPTIONS = {"connect_timeout": "connect_timeout_ms", "timeout": "timeout_ms",
                    "idle_timeout": "idle_timeout_ms"}
_OTHER_OPTIONS = ("max_retries", "save_dialogue", "log_level", "log")
OPTION_NAMES = frozenset(_STRING_OPTIONS + _BOOL_OPTIONS + _INT_OPTIONS
                         + tuple(_TIMEOUT_OPTIONS) + _OTHER_OPTIONS)

_LOG_LEVELS = {"off": _lib.OM_LOG_OFF, "default": _lib.OM_LOG_DEFAULT, "error": _lib.OM_LOG_ERROR,
               "warn": _lib.OM_LOG_WARN, "warning": _lib.OM_LOG_WARN, "info": _lib.OM_LOG_INFO,
               "debug": _lib.OM_LOG_DEBUG}


def _c_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if not _INT_MIN <= value <= _INT_MAX:
        raise ValueError(f"{name} is out of range: {value}")
    return value


def _milliseconds(value: Any, name: str) -> int:
    """Seconds (None = the library's default; <= 0 or inf = no limit) to om_options ms."""
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number of seconds, not {type(value).__name__}")
    if math.isnan(value):
        raise ValueError(f"{name} is NaN")
    if value <= 0 or math.isinf(value):
        return -1
    ms = max(1, round(value * 1000))
    if ms > 2 ** 62:
        return -1
    return ms


def _loads(text: Optional[str]) -> Any:
    if text is None:
        return None
    import json

    return json.loads(text)


def determine_sentiment(message: Optional[str]) -> str:
    """``om_determine_sentiment``: "positive", "negative" or "neutral" (offline)."""
    result = _lib.om_determine_sentiment(_lib.c_str(message, "message"))
    return (result or b"neutral").decode("utf-8", "replace")


class _LogSink:
    """Receives the library's log lines for one model (kept apart from the model
    so the C callback does not hold the model alive)."""

    def __init__(self, fn: LogCallback) -> None:
        self.fn = fn
        self.local = _ThreadLocal()

    def __call__(self, level: int, message: Optional[bytes], _userdata: Any) -> None:
        try:
            self.fn(int(level), (message or b"").decode("utf-8", "replace"))
        except BaseException as e:  # never let it cross into C
            if getattr(self.local, "error", None) is None:
                self.local.error = e

    def take_error(self) -> Optional[BaseException]:
        e = getattr(self.local, "error", None)
        self.local.error = None
        return e


class _StreamState:
    """What ask_stream's worker and reader share besides the pieces."""

    __slots__ = ("stop", "waiting", "last_wake", "outcome", "result")

    def __init__(self) -> None:
        self.stop = False           # the reader has left: stop the transfer
        self.waiting = False
        self.last_wake = 0.0
        self.outcome: Optional[Tuple[str, Any]] = None
        self.result: Optional[Tuple[Optional[bytes], Optional[bytes], int]] = None  # the call's last_*


def _guarded(errors: List[BaseException], fn: Callable[..., Any], *args: Any) -> int:
    """Call a user callback from C: non-zero stops the operation; an exception
    is stored (to be re-raised after the call) and stops it too."""
    if errors:
        return 1
    try:
        return 1 if fn(*args) else 0
    except BaseException as e:
        errors.append(e)
        return 1


class OpenAIModel:
    """One model on an OpenAI (or compatible) server: chat, images, assistants,
    fine-tuning.

    ``OpenAIModel(api_key=None, system_instruction=None, model_name="gpt-4o-mini",
    assistant_id=None, *, base_url=None, **options)``: ``api_key`` and
    ``base_url`` default to ``$OPENAI_API_KEY`` / ``$OPENAI_BASE_URL``.
    Options (each maps to an ``om_options`` field; ``None`` = the default):
    organization, project, proxy, ca_file, allow_insecure_http,
    connect_timeout / timeout / idle_timeout (seconds; <= 0 or ``math.inf`` =
    no limit), max_retries (0 = no retry), assistants_file, max_output_tokens,
    image_max_output_tokens, image_detail, token_limit_param, send_history,
    data_dir, dialogue_file, save_dialogue (default True), fine_tune_suffix,
    log_level (int or "off"/"error"/"warn"/"info"/"debug"), log
    (``callable(level, message)``). An unknown option is a ``TypeError``.
    Nothing touches the network at creation.
    """

    def __init__(self, api_key: Optional[str] = None, system_instruction: Optional[str] = None,
                 model_name: str = "gpt-4o-mini", assistant_id: Optional[str] = None, *,
                 base_url: Optional[str] = None, **options: Any) -> None:
        self._handle: Optional[int] = None
        self._lock = allocate_lock()
        self._cond: Any = None      # made by a close() that must wait for calls
        self._inflight = 0
        self._local = _ThreadLocal()
        self._log_sink: Optional[_LogSink] = None
        self._log_cb: Any = None

        unknown = sorted(set(options) - OPTION_NAMES)
        if unknown:
            raise TypeError(f"OpenAIModel() got unknown option(s): {', '.join(unknown)}")

        self.model_name = model_name
        self.system_instruction = system_instruction
        self.assistant_id = assistant_id

        opts = _lib.OmOptions()
        opts.version = _lib.OPTIONS_VERSION
        keep: List[Optional[bytes]] = []   # the encoded strings, alive through om_create

        def put_str(field: str, value: Any) -> None:
            data = _lib.c_str(value, field)
            keep.append(data)
            setattr(opts, field, data)

        put_str("api_key", api_key)
        put_str("base_url", base_url)
        put_str("model", model_name)
        put_str("system_instruction", system_instruction)
        put_str("assistant_id", assistant_id)
        for name in _STRING_OPTIONS:
            put_str(name, options.get(name))
        for name in _BOOL_OPTIONS:
            opts.__setattr__(name, 1 if options.get(name) else 0)
        for name in _INT_OPTIONS:
            value = options.get(name)
            setattr(opts, name, 0 if value is None else _c_int(value, name))
        for name, field in _TIMEOUT_OPTIONS.items():
            setattr(opts, field, _milliseconds(options.get(name), name))
        retries = options.get("max_retries")
        if retries is None:
            opts.max_retries = 0                       # the library's default (2)
        else:
            retries = _c_int(retries, "max_retries")
            opts.max_retries = -1 if retries <= 0 else retries
        opts.no_dialogue_file = 0 if options.get("save_dialogue", True) else 1
        level = options.get("log_level")
        if level is None:
            opts.log_level = _lib.OM_LOG_DEFAULT
        elif isinstance(level, str):
            if level.lower() not in _LOG_LEVELS:
                raise ValueError(f"log_level must be one of {sorted(_LOG_LEVELS)}, not {level!r}")
            opts.log_level = _LOG_LEVELS[level.lower()]
        else:
            opts.log_level = _c_int(level, "log_level")
        log = options.get("log")
        if log is not None:
            if not callable(log):
                raise TypeError("log must be a callable(level, message)")
            self._log_sink = _LogSink(log)
            self._log_cb = _lib.LOG_CB(self._log_sink)   # alive as long as the handle
            opts.log_cb = self._log_cb

        handle = ctypes.c_void_p()
        status = _lib.om_create(ctypes.byref(opts), ctypes.byref(handle))
        keep.clear()   # the library copied every string
        log_error = self._log_sink.take_error() if self._log_sink else None
        if status != _lib.OM_OK:
            message = (_lib.om_last_error() or b"").decode("utf-8", "replace")
            error = make_error(status, message)
            if log_error is not None:
                raise log_error
            raise error
        self._handle = handle.value
        if log_error is not None:
            self.close()
            raise log_error

    # -- life cycle ----------------------------------------------------------------
    def close(self) -> None:
        """Free the handle. Calls in flight on other threads are cancelled and
        waited for; later calls raise ``ModelClosedError``. Safe to call twice."""
        if getattr(self._local, "depth", 0):
            raise RuntimeError("OpenAIModel.close() called from a callback of a call on this model")
        with self._lock:
            handle = self._handle
            if handle is None:
                return
            if self._inflight:
                import threading

                self._cond = threading.Condition(self._lock)
            self._handle = None
            if self._inflight:
                _lib.om_cancel(handle)
                while self._inflight:
                    self._cond.wait()
        _lib.om_free(handle)

    @property
    def closed(self) -> bool:
        """True once ``close()`` has run."""
        return self._handle is None

    def __enter__(self) -> "OpenAIModel":
        self._check_open()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            if getattr(self, "_handle", None) is not None:
                self.close()
        except Exception:
            pass

    def __repr__(self) -> str:
        state = "closed" if self._handle is None else "open"
        return f"<OpenAIModel model_name={self.model_name!r} {state}>"

    # -- the call machinery --------------------------------------------------------
    def _check_open(self) -> None:
        if self._handle is None:
            raise ModelClosedError("this OpenAIModel is closed")

    # Every call passes here twice: the plain lock (not the Condition's
    # Python-level methods) and a wake-up only for a close() that waits.
    def _acquire(self) -> int:
        with self._lock:
            handle = self._handle
            if handle is None:
                raise ModelClosedError("this OpenAIModel is closed")
            self._inflight += 1
        local = self._local
        local.depth = getattr(local, "depth", 0) + 1
        return handle

    def _release(self) -> None:
        self._local.depth -= 1
        with self._lock:
            self._inflight -= 1
            if not self._inflight and self._cond is not None:
                self._cond.notify_all()     # close() is waiting for the last call

    def _error(self, handle: int, status: int) -> OpenAIModelError:
        """The exception for a failed call; must run on the failing thread while
        the handle lives (the library keeps the error state per thread)."""
        message = (_lib.om_errmsg(handle) or b"").decode("utf-8", "replace")
        detail = _lib.om_errdetail(handle)
        request_id = _lib.om_last_request_id(handle)
        http_status = int(_lib.om_last_http_status(handle))
        return make_error(status, message or _lib.status_str(status),
                          detail.decode("utf-8", "replace") if detail else None,
                          request_id.decode("utf-8", "replace") if request_id else None,
                          http_status)

    def _call(self, fn: Callable[..., Any], *args: Any, out: bool = True,
              callback_errors: Optional[List[BaseException]] = None) -> Optional[str]:
        """Run ``fn(handle, *args[, &out])``; return the result string or raise.

        A callback's exception comes first, then a log callback's, then the
        library's error."""
        handle = self._acquire()
        result: Optional[str] = None
        error: Optional[OpenAIModelError] = None
        self._local.stream_result = None    # this thread's own call is now its last
        try:
            if out:
                local = self._local
                if local.depth == 1:
                    # The thread's outermost call: its result pointer is made once.
                    try:
                        pointer, ref = local.out
                    except AttributeError:
                        pointer = ctypes.c_void_p()
                        ref = ctypes.byref(pointer)
                        local.out = (pointer, ref)
                    pointer.value = None
                else:
                    pointer = ctypes.c_void_p()
                    ref = ctypes.byref(pointer)
                status = fn(handle, *args, ref)
                text = _lib.take_string(pointer)
            else:
                status = fn(handle, *args)
                text = None
            if status == _lib.OM_OK:
                result = text
            else:
                error = self._error(handle, status)
        finally:
            self._release()
        if callback_errors:
            raise callback_errors[0]
        if self._log_sink is not None:
            log_error = self._log_sink.take_error()
            if log_error is not None:
                raise log_error
        if error is not None:
            raise error
        if out and result is None:
            result = ""
        return result

    def _call_json(self, fn: Callable[..., Any], *args: Any,
                   callback_errors: Optional[List[BaseException]] = None) -> Any:
        return _loads(self._call(fn, *args, callback_errors=callback_errors))

    def _call_object(self, fn: Callable[..., Any], *args: Any,
                     callback_errors: Optional[List[BaseException]] = None) -> Dict[str, Any]:
        value = self._call_json(fn, *args, callback_errors=callback_errors)
        if not isinstance(value, dict):
            raise APIResponseValidationError(f"expected a JSON object, got {type(value).__name__}")
        return value

    # -- models --------------------------------------------------------------------
    @property
    def list_models(self) -> List[str]:
        """The ids of the models the server lists (GET /models)."""
        return list(self._call_json(_lib.om_list_models))

    # -- chat ----------------------------------------------------------------------
    def ask(self, message: str, system_instruction: Optional[str] = None,
            attempts: int = 3) -> str:
        """Send ``message`` and return the reply (trimmed). ``attempts`` is the total
        number of tries. The exchange is added to the dialogue."""
        # The common case in this one frame: a chat loop calls ask() thousands
        # of times, and each Python call level costs about a microsecond next
        # to the library's 40 or so. It does what _call does for a str message,
        # no system instruction, no log callback, outside any callback;
        # anything else goes the general way.
        if (type(message) is str and system_instruction is None and type(attempts) is int
                and _INT_MIN <= attempts <= _INT_MAX and self._log_sink is None):
            data = message.encode("utf-8", "surrogateescape")
            local = self._local
            if b"\0" not in data and not getattr(local, "depth", 0):
                with self._lock:
                    handle = self._handle
                    if handle is None:
                        raise ModelClosedError("this OpenAIModel is closed")
                    self._inflight += 1
                local.depth = 1
                local.stream_result = None
                try:
                    try:
                        pointer, ref, chars = local.reply
                    except AttributeError:
                        pointer = ctypes.c_void_p()
                        ref = ctypes.byref(pointer)
                        chars = ctypes.c_char_p.from_buffer(pointer)   # the same pointer, read as text
                        local.reply = (pointer, ref, chars)
                    pointer.value = None
                    status = _lib.om_ask(handle, data, None, attempts, ref)
                    address = pointer.value
                    text = None
                    if address:
                        try:
                            text = chars.value.decode("utf-8", "replace")
                        finally:
                            _lib.om_string_free(address)
                    error = None if status == _lib.OM_OK else self._error(handle, status)
                finally:
                    local.depth = 0
                    with self._lock:
                        self._inflight -= 1
                        if not self._inflight and self._cond is not None:
                            self._cond.notify_all()
                if error is not None:
                    raise error
                return text or ""
        return self._call(_lib.om_ask, _lib.c_str(message, "message"),
                          _lib.c_str(system_instruction, "system_instruction"),
                          _c_int(attempts, "attempts")) or ""

    def ask_stream(self, message: str, system_instruction: Optional[str] = None,
                   attempts: int = 3) -> Iterator[str]:
        """As ``ask()``, yielding the reply's pieces as they arrive.

        The request runs on a worker thread. Leaving the loop early (``break``,
        an exception, ``close()`` of the generator) stops the transfer at the
        next piece and waits for the worker to end - at most
        ``STREAM_STOP_GRACE`` seconds, so a stalled stream does not hold the
        caller: its worker then ends by itself at the next piece, the idle
        timeout, ``cancel()`` or ``close()``."""
        msg = _lib.c_str(message, "message")
        system = _lib.c_str(system_instruction, "system_instruction")
        tries = _c_int(attempts, "attempts")
        self._check_open()
        return self._stream(msg, system, tries)

    def _stream(self, message: Optional[bytes], system: Optional[bytes],
                attempts: int) -> Iterator[str]:
        # The worker appends each piece's bytes to `pending` and wakes the reader
        # only when it is waiting and a batch is ready or its last wake-up is
        # older than STREAM_WAKE_INTERVAL; a reader that found nothing looks
        # again after at most that long. (Waking the reader for every piece cost
        # a thread switch per piece, more than all the other work on it.)
        import threading
        from collections import deque

        pending: Deque[bytes] = deque()
        wake = threading.Condition(threading.Lock())
        state = _StreamState()
        errors: List[BaseException] = []
        monotonic = time.monotonic

        def on_delta(delta: Any, length: int, _userdata: Any) -> int:
            if state.stop or errors:
                return 1
            try:
                pending.append(delta[:length] if delta else b"")
                if state.waiting:
                    now = monotonic()
                    if len(pending) >= STREAM_WAKE_BATCH or now - state.last_wake >= STREAM_WAKE_INTERVAL:
                        state.last_wake = now
                        with wake:
                            wake.notify()
                return 0
            except BaseException as e:
                errors.append(e)
                return 1

        callback = _lib.STREAM_CB(on_delta)

        def finish(outcome: Tuple[str, Any]) -> None:
            with wake:
                state.outcome = outcome
                wake.notify()

        def snapshot() -> None:
            # The call ran on this worker thread: what the library keeps for
            # its thread (request id, status, last response) is handed to the
            # thread reading the stream.
            try:
                handle = self._acquire()
            except ModelClosedError:
                return
            try:
                state.result = (_lib.om_last_response(handle), _lib.om_last_request_id(handle),
                                int(_lib.om_last_http_status(handle)))
            finally:
                self._release()

        def work() -> None:
            try:
                self._call(_lib.om_ask_stream, message, system, attempts, callback, None,
                           callback_errors=errors)
                snapshot()
                finish(("done", None))
            except BaseException as e:
                snapshot()
                finish(("error", e))

        worker = threading.Thread(target=work, name="openaimodel-ask-stream", daemon=True)
        worker.start()
        take = pending.popleft
        look = STREAM_WAKE_INTERVAL
        try:
            while True:
                if pending:
                    while pending:
                        piece = take()
                        if piece:
                            yield piece.decode("utf-8", "replace")
                    look = STREAM_WAKE_INTERVAL
                    continue
                with wake:
                    if pending:
                        continue
                    outcome = state.outcome
                    if outcome is None:
                        state.waiting = True
                        wake.wait(look)
                        state.waiting = False
                        if not pending:
                            look = min(look * 2, STREAM_IDLE_LOOK)
                        continue
                # The worker has ended: every piece it delivered was taken.
                self._local.stream_result = state.result
                kind, value = outcome
                if kind == "done":
                    return
                raise value
        finally:
            state.stop = True
            # The flag is seen at the next piece, which normally follows at once.
            # A stalled stream delivers none: then the worker is left to end by
            # itself (at the next piece, the idle timeout, cancel() or close()).
            worker.join(STREAM_STOP_GRACE)

    def determine_sentiment(self, message: str) -> str:
        """"positive", "negative" or "neutral" (offline)."""
        return determine_sentiment(message)

    @property
    def dialogue(self) -> List[Dict[str, Any]]:
        """This model's dialogue so far: ``{"role", "content"[, "sentiment"]}`` entries."""
        return list(self._call_json(_lib.om_dialogue))

    # -- images --------------------------------------------------------------------
    def describe_image(self, image_path: PathArg, prompt: Optional[str] = None,
                       system_instruction: Optional[str] = None) -> Any:
        """Describe a local image (PNG, JPEG, GIF, WebP) or an http(s) URL; returns the
        reply parsed as JSON, or ``{"description": reply}`` when the reply is prose."""
        return self._call_json(_lib.om_describe_image, _lib.c_str(image_path, "image_path"),
                               _lib.c_str(prompt, "prompt"),
                               _lib.c_str(system_instruction, "system_instruction"))

    def describe_image_by_requests(self, image_path: PathArg, prompt: Optional[str] = None) -> str:
        """The same request as ``describe_image``, returning the reply text as is."""
        return self._call(_lib.om_describe_image_text, _lib.c_str(image_path, "image_path"),
                          _lib.c_str(prompt, "prompt"), None) or ""

    # -- assistants ----------------------------------------------------------------
    def assistants(self) -> List[Dict[str, Any]]:
        """The assistants of the assistants file, in file order:
        ``{"id", "name", "title", "description"}``."""
        return list(self._call_json(_lib.om_list_assistants))

    @property
    def list_assistants(self) -> List[str]:
        """The names of the assistants of the assistants file, in file order."""
        return [str(a.get("name")) for a in self.assistants()]

    def set_assistant(self, assistant_id: str) -> None:
        """Make an assistant current (local definition first, then the server)."""
        self._call(_lib.om_set_assistant, _lib.c_str(assistant_id, "assistant_id"), out=False)
        self.assistant_id = assistant_id

    # -- fine-tuning ---------------------------------------------------------------
    def train(self, data: Optional[Union[str, bytes]] = None, data_dir: Optional[PathArg] = None,
              data_file: Optional[PathArg] = None, positive: bool = True, *,
              progress: Optional[ProgressCallback] = None, model: Optional[str] = None,
              suffix: Optional[str] = None) -> str:
        """Fine-tune on CSV training data: ``data`` (CSV text), ``data_dir`` (its
        *.csv files) or ``data_file`` - exactly one. Returns the job id, which
        becomes ``current_job_id``. ``progress(stage, done, total)`` (total None
        when unknown) may return a true value to stop."""
        args = (_lib.c_str(data, "data"), _lib.c_str(data_dir, "data_dir"),
                _lib.c_str(data_file, "data_file"))
        if progress is None and model is None and suffix is None:
            return self._call(_lib.om_train, *args, 1 if positive else 0) or ""
        opts = _lib.OmTrainOptions()
        opts.version = _lib.TRAIN_OPTIONS_VERSION
        opts.data, opts.data_dir, opts.data_file = args
        opts.positive = 1 if positive else 0
        model_b, suffix_b = _lib.c_str(model, "model"), _lib.c_str(suffix, "suffix")
        opts.model, opts.suffix = model_b, suffix_b
        errors: List[BaseException] = []
        callback = None
        if progress is not None:
            user = progress

            def on_progress(stage: Optional[bytes], done: int, total: int, _ud: Any) -> int:
                return _guarded(errors, user, (stage or b"").decode("utf-8", "replace"),
                                int(done), None if total < 0 else int(total))

            callback = _lib.PROGRESS_CB(on_progress)
            opts.progress = callback
        try:
            return self._call(_lib.om_train_ex, ctypes.byref(opts), callback_errors=errors) or ""
        finally:
            del callback, args, model_b, suffix_b

    def dynamic_train(self) -> str:
        """Fine-tune on this model's dialogue; returns the job id."""
        return self._call(_lib.om_dynamic_train) or ""

    @property
    def current_job_id(self) -> Optional[str]:
        """The id of the current fine-tuning job, or None."""
        try:
            return self._call(_lib.om_current_job_id)
        except NotFoundError as e:
            if e.status_code is None:
                return None
            raise

    def save_job_id(self, job_id: str, description: Optional[str],
                    filename: PathArg = "job_ids.json") -> None:
        """Append ``{"id", "description", "created"}`` to the JSON list in
        ``filename`` (relative names are inside the data folder)."""
        self._call(_lib.om_save_job_id, _lib.c_str(job_id, "job_id"),
                   _lib.c_str(description, "description"), _lib.c_str(filename, "filename"),
                   out=False)

    def job(self, job_id: str) -> Dict[str, Any]:
        """The fine-tuning job object (GET /fine_tuning/jobs/{id})."""
        return self._call_object(_lib.om_job_get, _lib.c_str(job_id, "job_id"))

    def job_events(self, job_id: str, after: Optional[str] = None,
                   limit: Optional[int] = None) -> Dict[str, Any]:
        """The job's events: the server's list object ``{"data": [...], "has_more"}``."""
        return self._call_object(_lib.om_job_events, _lib.c_str(job_id, "job_id"),
                               _lib.c_str(after, "after"),
                               0 if limit is None else _c_int(limit, "limit"))

    def jobs(self, after: Optional[str] = None, limit: Optional[int] = None) -> Dict[str, Any]:
        """The fine-tuning jobs: the server's list object."""
        return self._call_object(_lib.om_list_jobs, _lib.c_str(after, "after"),
                               0 if limit is None else _c_int(limit, "limit"))

    def cancel_job(self, job_id: str) -> Dict[str, Any]:
        """Cancel a fine-tuning job; returns the job object."""
        return self._call_object(_lib.om_job_cancel, _lib.c_str(job_id, "job_id"))

    def wait_for_job(self, job_id: Optional[str] = None, timeout: Optional[float] = None,
                     progress: Optional[JobProgressCallback] = None) -> Dict[str, Any]:
        """Poll a job (default: ``current_job_id``) until it succeeds, fails or is
        cancelled; returns the final job object. ``progress(status, event)`` is
        called on each status change (event None) and each new event (a dict);
        it may return a true value to stop waiting. ``timeout`` in seconds
        (None = no limit) gives ``APITimeoutError``."""
        if job_id is None:
            job_id = self.current_job_id
            if job_id is None:
                raise ValueError("wait_for_job(): no job_id given and there is no current job")
        timeout_ms = 0 if timeout is None else _milliseconds(timeout, "timeout")
        if timeout_ms < 0:
            timeout_ms = 0
        errors: List[BaseException] = []
        callback = _lib.JOB_CB()          # NULL: no progress callback
        if progress is not None:
            user = progress

            import json

            def on_job(status: Optional[bytes], event: Optional[bytes], _ud: Any) -> int:
                def deliver() -> Any:
                    return user((status or b"").decode("utf-8", "replace"),
                                json.loads(event) if event else None)
                return _guarded(errors, deliver)

            callback = _lib.JOB_CB(on_job)
        return self._call_object(_lib.om_job_wait, _lib.c_str(job_id, "job_id"), timeout_ms,
                               callback, None, callback_errors=errors)

    # -- control and diagnostics ---------------------------------------------------
    def cancel(self) -> None:
        """Stop every call in flight on this model (they raise ``Cancelled``).
        Calls made afterwards run normally. Safe from any thread."""
        self._call(_lib.om_cancel, out=False)

    def _last(self, index: int, fn: Callable[..., Any]) -> Any:
        """What the library keeps about this thread's last call, or, when that
        was an ``ask_stream()`` read to its end (its request ran on a worker
        thread), about that stream's call."""
        snap = getattr(self._local, "stream_result", None)
        if snap is not None:
            self._check_open()
            return snap[index]
        handle = self._acquire()
        try:
            return fn(handle)
        finally:
            self._release()

    @property
    def last_request_id(self) -> Optional[str]:
        """The x-request-id of the last response this thread received, or None."""
        value = self._last(1, _lib.om_last_request_id)
        return value.decode("utf-8", "replace") if value else None

    @property
    def last_http_status(self) -> int:
        """The HTTP status of the last response this thread received (0 if none)."""
        return int(self._last(2, _lib.om_last_http_status))

    @property
    def last_response(self) -> Optional[Dict[str, Any]]:
        """The last successful response of this thread's last call, parsed, for
        what the call's result leaves out: after ``ask()`` the whole chat
        completion (``usage``, ``id``, ``choices[0].finish_reason``, ...), after
        ``ask_stream()`` the stream's last event (its ``usage``), after
        ``train()`` the job. None when that call failed or sent no request."""
        value = self._last(0, _lib.om_last_response)
        if not value:
            return None
        import json
        parsed = json.loads(value.decode("utf-8", "replace"))
        return parsed if isinstance(parsed, dict) else {"value": parsed}
