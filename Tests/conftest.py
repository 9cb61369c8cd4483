"""Shared pytest fixtures: the OpenAI test server and per-test tenants.

``server`` (session): one server process for the whole run (or the one named
by ``OM_TEST_SERVER=http://127.0.0.1:PORT``).  ``tenant`` (per test): a fresh
API key with its control client; at teardown the test fails if the server
recorded any spec violation for that key.  A test that provokes violations on
purpose reads them with ``tenant.take_violations()`` (which clears them) or
sets ``tenant.allow_violations = True``.
"""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "server"))

from harness import Tenant, attach_server, new_key, start_server  # noqa: E402


@pytest.fixture(scope="session")
def server():
    external = os.environ.get("OM_TEST_SERVER")
    if external:
        yield attach_server(external)
        return
    srv = start_server(validate=True, quiet=True)
    try:
        yield srv
    finally:
        srv.stop(keep_log=True)
        log = srv.log_text()
        srv.remove_log()
        if "Traceback" in log:
            sys.stderr.write("\n--- OpenAI test server log (it reported errors) ---\n"
                             + log[-20000:] + "\n")


@pytest.fixture
def tenant(server, request):
    t = Tenant(server.root, new_key(request.node.name))
    yield t
    found = t.violations()
    t.reset()
    if found and not t.allow_violations:
        pytest.fail(f"the test server recorded {len(found)} API spec violation(s) for "
                    f"{t.key}:\n  " + "\n  ".join(found), pytrace=False)
