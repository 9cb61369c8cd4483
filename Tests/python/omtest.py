"""Helpers shared by the binding's tests (the fixtures are in conftest.py)."""

from __future__ import annotations

import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]
PACKAGE_ROOT = ROOT / "bindings" / "python"
HEADER = ROOT / "include" / "openaimodel.h"

# retry at once instead of after the library's backoff
FAST_RETRY = {"retry-after-ms": "10"}


def requests_to(tenant, path):
    """The tenant's logged requests whose path starts with /v1<path>."""
    return [r for r in tenant.requests() if r["path"].startswith("/v1" + path)]


def chat_requests(tenant):
    return requests_to(tenant, "/chat/completions")


def stalled_call(model, tenant):
    """Starts ``model.list_models`` on another thread against a server that
    stalls it for 20 s, and gives it half a second to be under way. Returns
    the thread and the list that receives what the call raises."""
    import threading
    import time

    tenant.faults([{"kind": "stall", "seconds": 20, "path": "/v1/models"}])
    caught = []

    def call():
        try:
            model.list_models
        except BaseException as e:
            caught.append(e)

    t = threading.Thread(target=call)
    t.start()
    time.sleep(0.5)
    return t, caught
