"""``openaimodel.Status`` and ``openaimodel.LogLevel``, made when first used
(see ``__getattr__`` in ``__init__``): importing ``enum`` costs start-up time."""

from __future__ import annotations

import enum

from . import _lib


class Status(enum.IntEnum):
    """The library's status codes (``enum om_status``); ``OpenAIModelError.errcode``."""

    __module__ = "openaimodel"

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

    __module__ = "openaimodel"

    OFF = _lib.OM_LOG_OFF
    DEFAULT = _lib.OM_LOG_DEFAULT
    ERROR = _lib.OM_LOG_ERROR
    WARN = _lib.OM_LOG_WARN
    INFO = _lib.OM_LOG_INFO
    DEBUG = _lib.OM_LOG_DEBUG
