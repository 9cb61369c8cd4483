"""Per-tenant state: faults, config, request log, violations, files, jobs.

A tenant is identified by the API key of a request.  Everything a test can
observe or change is scoped to one tenant, so tests can share one server.
"""

import copy
import os
import secrets
import string
import threading
import time

_ALNUM = string.ascii_letters + string.digits


def new_id(prefix, n=24):
    return prefix + "".join(secrets.choice(_ALNUM) for _ in range(n))


def request_id():
    return "req_" + secrets.token_hex(16)


class FileRecord:
    __slots__ = ("id", "path", "bytes", "created_at", "filename", "purpose", "sha256",
                 "line_count", "seq")

    def __init__(self, file_id, path, size, filename, purpose, sha256=None, line_count=None):
        self.id = file_id
        self.path = path
        self.bytes = size
        self.created_at = int(time.time())
        self.filename = filename
        self.purpose = purpose
        self.sha256 = sha256
        self.line_count = line_count
        self.seq = 0

    def to_api(self):
        return {"id": self.id, "object": "file", "bytes": self.bytes,
                "created_at": self.created_at, "filename": self.filename,
                "purpose": self.purpose, "status": "processed"}


class TenantState:
    def __init__(self, key):
        self.key = key
        self.lock = threading.RLock()
        self.faults = []
        self.config = {}
        self.log = []
        self.violations = []
        self.files = {}          # id -> FileRecord, in creation order
        self.jobs = {}           # id -> finetune.Job, in creation order
        self.extra_models = []   # fine-tuned models created for this tenant
        self.seq = 0

    # -- faults ------------------------------------------------------------
    def add_faults(self, faults):
        with self.lock:
            for f in faults:
                f = dict(f)
                f.setdefault("times", 1)
                self.faults.append(f)
            return len(self.faults)

    def take_fault(self, method, path):
        """The first queued fault matching the request, consuming one use."""
        with self.lock:
            for i, f in enumerate(self.faults):
                if f.get("path") and not path.startswith(f["path"]):
                    continue
                if f.get("method") and f["method"].upper() != method.upper():
                    continue
                times = f.get("times", 1)
                if times is not None and times >= 0:
                    times -= 1
                    if times <= 0:
                        del self.faults[i]
                    else:
                        f["times"] = times
                return f
        return None

    # -- config ------------------------------------------------------------
    def merge_config(self, update):
        """Merge settings: dict values merge one level deep, None removes."""
        with self.lock:
            for k, v in update.items():
                if v is None:
                    self.config.pop(k, None)
                elif isinstance(v, dict) and isinstance(self.config.get(k), dict):
                    merged = dict(self.config[k])
                    for kk, vv in v.items():
                        if vv is None:
                            merged.pop(kk, None)
                        else:
                            merged[kk] = vv
                    self.config[k] = merged
                elif k == "replies":
                    self.config[k] = list(v)
                else:
                    self.config[k] = copy.deepcopy(v)
            return copy.deepcopy(self.config)

    def cfg(self, key, default=None):
        with self.lock:
            return self.config.get(key, default)

    def next_reply(self):
        with self.lock:
            replies = self.config.get("replies")
            if replies:
                return replies.pop(0)
        return None

    # -- log and violations -------------------------------------------------
    def add_log(self, entry):
        with self.lock:
            self.log.append(entry)

    def violation(self, text):
        with self.lock:
            self.violations.append(text)

    def take_violations(self, clear=False):
        with self.lock:
            out = list(self.violations)
            if clear:
                self.violations.clear()
            return out

    # -- files -------------------------------------------------------------
    def add_file(self, rec):
        with self.lock:
            self.seq += 1
            rec.seq = self.seq
            self.files[rec.id] = rec

    def get_file(self, file_id):
        with self.lock:
            return self.files.get(file_id)

    def delete_file(self, file_id):
        with self.lock:
            rec = self.files.pop(file_id, None)
        if rec is not None:
            _unlink(rec.path)
        return rec

    def clear(self):
        with self.lock:
            files = list(self.files.values())
            self.faults.clear()
            self.config.clear()
            self.log.clear()
            self.violations.clear()
            self.files.clear()
            self.jobs.clear()
            self.extra_models.clear()
        for rec in files:
            _unlink(rec.path)


def _unlink(path):
    try:
        os.unlink(path)
    except OSError:
        pass


class Registry:
    """All tenants, created on first use."""

    def __init__(self, file_dir):
        self.file_dir = file_dir
        self._lock = threading.Lock()
        self._tenants = {}

    def get(self, key):
        with self._lock:
            t = self._tenants.get(key)
            if t is None:
                t = self._tenants[key] = TenantState(key)
            return t

    def peek(self, key):
        with self._lock:
            return self._tenants.get(key)
