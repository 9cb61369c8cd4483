"""Exceptions raised by openaimodel, shaped like the official ``openai`` SDK's.

Every exception derives from ``OpenAIModelError`` and carries ``errcode``, the
library's ``om_status`` code (``openaimodel.Status``). API failures follow the
SDK's hierarchy::

    OpenAIModelError
    +-- APIError                    message, request_id, body, code, type, param
    |   +-- APIStatusError          + status_code (the SDK's, without .response)
    |   |   +-- BadRequestError            400 (other 4xx / 3xx: APIStatusError)
    |   |   +-- AuthenticationError        401
    |   |   +-- PermissionDeniedError      403
    |   |   +-- NotFoundError              404 / 410, or a named local entry
    |   |   +-- ConflictError              409
    |   |   +-- UnprocessableEntityError   422
    |   |   +-- RateLimitError             429 (code "insufficient_quota" or a rate limit)
    |   |   +-- InternalServerError        >= 500
    |   +-- APIConnectionError      could not connect, connection lost, truncated
    |   |   +-- APITimeoutError     connect, total or idle timeout
    |   +-- APIResponseValidationError  the server's answer could not be understood
    +-- Cancelled                   om_cancel() or a callback stopped the call
    +-- InvalidArgumentError (ValueError)   OM_EINVAL
    +-- InvalidDataError (ValueError)       OM_EDATA: image, CSV, training data, files
    +-- NoSuchFileError (FileNotFoundError) OM_ENOFILE
    +-- LocalIOError (OSError)              OM_EIO
    +-- OutOfMemoryError (MemoryError)      OM_ENOMEM
    +-- UnsupportedError (NotImplementedError)  OM_EUNSUPPORTED
    +-- InternalLibraryError        OM_EINTERNAL (a defect in the library)
    +-- ModelClosedError (ValueError)       the model was closed

``body`` is what the SDK calls body: the ``error`` object of the JSON
response when there is one, else the parsed JSON, else the raw text;
``raw_body`` always holds the response text as received.
"""

from __future__ import annotations

import errno as _errno
import json
from typing import Any, Dict, Optional, Type

from . import _lib

__all__ = [
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


class OpenAIModelError(Exception):
    """Base class of every error openaimodel raises.

    ``message`` is the library's message (``om_errmsg``), ``errcode`` the
    ``om_status`` code (None when the error did not come from the library).
    """

    message: str
    errcode: Optional[int]

    def __init__(self, message: str = "", *, errcode: Optional[int] = None) -> None:
        super().__init__(message)
        self.message = message
        self.errcode = errcode

    def __str__(self) -> str:
        return self.message


OpenAIError = OpenAIModelError  # the SDK's name for its base class


class APIError(OpenAIModelError):
    """An error from (or while talking to) the API."""

    request_id: Optional[str]
    body: Any
    raw_body: Optional[str]
    code: Optional[str]
    type: Optional[str]
    param: Optional[str]

    def __init__(self, message: str, request_id: Optional[str] = None, body: Any = None,
                 code: Optional[str] = None, type: Optional[str] = None,
                 param: Optional[str] = None, *, raw_body: Optional[str] = None,
                 errcode: Optional[int] = None) -> None:
        super().__init__(message, errcode=errcode)
        self.request_id = request_id
        self.body = body
        self.raw_body = raw_body
        if isinstance(body, dict):
            code = code if code is not None else body.get("code")
            type = type if type is not None else body.get("type")
            param = param if param is not None else body.get("param")
        self.code = code
        self.type = type
        self.param = param


class APIStatusError(APIError):
    """The server answered with an error status (4xx/5xx).

    Like the SDK's class, without ``response`` (there is no httpx response):
    ``status_code`` and ``request_id`` stand for it. ``status_code`` is None
    only for a ``NotFoundError`` about a local entry (no HTTP involved).
    """

    status_code: Optional[int]
    response: None = None

    def __init__(self, message: str, *, status_code: Optional[int], request_id: Optional[str] = None,
                 body: Any = None, code: Optional[str] = None, type: Optional[str] = None,
                 param: Optional[str] = None, raw_body: Optional[str] = None,
                 errcode: Optional[int] = None) -> None:
        super().__init__(message, request_id, body, code, type, param,
                         raw_body=raw_body, errcode=errcode)
        self.status_code = status_code


class BadRequestError(APIStatusError):
    """HTTP 400."""


class AuthenticationError(APIStatusError):
    """HTTP 401: missing or wrong API key."""


class PermissionDeniedError(APIStatusError):
    """HTTP 403."""


class NotFoundError(APIStatusError):
    """HTTP 404 / 410, or a named local entry (an assistant) that does not exist."""


class ConflictError(APIStatusError):
    """HTTP 409."""


class UnprocessableEntityError(APIStatusError):
    """HTTP 422."""


class RateLimitError(APIStatusError):
    """HTTP 429: a rate limit, or ``code == "insufficient_quota"`` (not retried)."""


class InternalServerError(APIStatusError):
    """HTTP 5xx (after the retries)."""


class APIConnectionError(APIError):
    """Could not connect, connection lost, TLS failure, truncated response."""

    def __init__(self, message: str = "Connection error.", *, request_id: Optional[str] = None,
                 errcode: Optional[int] = None) -> None:
        super().__init__(message, request_id, errcode=errcode)


class APITimeoutError(APIConnectionError):
    """Connect, total or idle timeout."""

    def __init__(self, message: str = "Request timed out.", *, request_id: Optional[str] = None,
                 errcode: Optional[int] = None) -> None:
        super().__init__(message, request_id=request_id, errcode=errcode)


class APIResponseValidationError(APIError):
    """The server's answer could not be understood."""

    status_code: Optional[int]

    def __init__(self, message: str = "Data returned by API invalid for expected schema.", *,
                 status_code: Optional[int] = None, request_id: Optional[str] = None,
                 body: Any = None, errcode: Optional[int] = None) -> None:
        super().__init__(message, request_id, body, errcode=errcode)
        self.status_code = status_code


class Cancelled(OpenAIModelError):
    """The call was stopped: ``cancel()`` or a callback asked to stop."""


class InvalidArgumentError(OpenAIModelError, ValueError):
    """An argument or option is invalid (OM_EINVAL)."""


class InvalidDataError(OpenAIModelError, ValueError):
    """Input data rejected: unsupported image, malformed CSV, training data that
    fails validation, a corrupt assistants file or job registry (OM_EDATA)."""


class NoSuchFileError(OpenAIModelError, FileNotFoundError):
    """A named file or folder does not exist (OM_ENOFILE)."""

    def __init__(self, message: str = "", *, errcode: Optional[int] = None) -> None:
        super().__init__(message, errcode=errcode)
        self.errno = _errno.ENOENT
        self.strerror = message


class LocalIOError(OpenAIModelError, OSError):
    """A local file or system call failed (OM_EIO)."""

    def __init__(self, message: str = "", *, errcode: Optional[int] = None) -> None:
        super().__init__(message, errcode=errcode)
        self.strerror = message


class OutOfMemoryError(OpenAIModelError, MemoryError):
    """The library ran out of memory (OM_ENOMEM)."""


class UnsupportedError(OpenAIModelError, NotImplementedError):
    """The server or this build of the library does not support it (OM_EUNSUPPORTED)."""


class InternalLibraryError(OpenAIModelError):
    """A defect inside libopenaimodel, caught before it reached Python (OM_EINTERNAL)."""


class ModelClosedError(OpenAIModelError, ValueError):
    """The model was used after ``close()``."""


_BY_HTTP_STATUS: Dict[int, Type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    410: NotFoundError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}

_BY_ERRCODE_API: Dict[int, Type[APIStatusError]] = {
    _lib.OM_EAPI: APIStatusError,
    _lib.OM_EAUTH: AuthenticationError,
    _lib.OM_EPERMISSION: PermissionDeniedError,
    _lib.OM_ENOTFOUND: NotFoundError,
    _lib.OM_ERATELIMIT: RateLimitError,
    _lib.OM_ESERVER: InternalServerError,
}

_BY_ERRCODE_LOCAL: Dict[int, Type[OpenAIModelError]] = {
    _lib.OM_EINVAL: InvalidArgumentError,
    _lib.OM_ENOMEM: OutOfMemoryError,
    _lib.OM_EIO: LocalIOError,
    _lib.OM_ENOFILE: NoSuchFileError,
    _lib.OM_EDATA: InvalidDataError,
    _lib.OM_ECANCELLED: Cancelled,
    _lib.OM_EUNSUPPORTED: UnsupportedError,
    _lib.OM_EINTERNAL: InternalLibraryError,
}


def _parse_body(raw: Optional[str]) -> Any:
    """The SDK's ``body``: the ``error`` object, else the JSON, else the text."""
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return raw
    if isinstance(value, dict) and "error" in value:
        return value["error"]
    return value


def _str_or_none(value: Any) -> Optional[str]:
    return None if value is None else str(value)


def make_error(errcode: int, message: str, detail: Optional[str] = None,
               request_id: Optional[str] = None, http_status: int = 0) -> OpenAIModelError:
    """The exception for a failed call, from what the library reports about it.

    ``detail`` is ``om_errdetail`` (JSON, API errors only), ``request_id`` and
    ``http_status`` are ``om_last_request_id`` / ``om_last_http_status``, all
    read on the failing thread right after the call.
    """
    info: Dict[str, Any] = {}
    if detail:
        try:
            parsed = json.loads(detail)
            if isinstance(parsed, dict):
                info = parsed
        except ValueError:
            info = {}
    rid = _str_or_none(info.get("request_id")) or request_id
    status = info.get("status")
    if not isinstance(status, int) or status <= 0:
        status = http_status if http_status > 0 else None

    if errcode in _BY_ERRCODE_API:
        raw_body = info.get("body")
        raw_body = raw_body if isinstance(raw_body, str) else None
        if status is not None and status in _BY_HTTP_STATUS:
            cls: Type[APIStatusError] = _BY_HTTP_STATUS[status]
        elif status is not None and status >= 500:
            cls = InternalServerError
        elif errcode == _lib.OM_ENOTFOUND and not info:
            # a local entry (assistant) that does not exist: no HTTP status
            cls, status = NotFoundError, (status if status in (404, 410) else None)
        else:
            cls = _BY_ERRCODE_API[errcode]
        return cls(message, status_code=status, request_id=rid, body=_parse_body(raw_body),
                   code=_str_or_none(info.get("code")), type=_str_or_none(info.get("type")),
                   param=_str_or_none(info.get("param")), raw_body=raw_body, errcode=errcode)
    if errcode == _lib.OM_ENETWORK:
        return APIConnectionError(message, request_id=rid, errcode=errcode)
    if errcode == _lib.OM_ETIMEDOUT:
        return APITimeoutError(message, request_id=rid, errcode=errcode)
    if errcode == _lib.OM_EPARSE:
        return APIResponseValidationError(message, status_code=status, request_id=rid,
                                          body=_parse_body(info.get("body")), errcode=errcode)
    cls_local = _BY_ERRCODE_LOCAL.get(errcode, InternalLibraryError)
    return cls_local(message, errcode=errcode)
