"""Fixtures for the Python binding's tests.

The library: ``$OPENAIMODEL_LIBRARY`` when set (``make test`` sets it), else
the checkout's ``.build/release/libopenaimodel.so``. The package is imported
from ``bindings/python``. ``server`` and ``tenant`` come from
``Tests/conftest.py``; ``make_model`` creates models on the tenant with
``data_dir`` in the test's tmp_path and closes them afterwards.
"""

from __future__ import annotations

import os
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
PACKAGE_ROOT = ROOT / "bindings" / "python"
HEADER = ROOT / "include" / "openaimodel.h"
SERVER_DIR = ROOT / "Tests" / "server"

if not os.environ.get("OPENAIMODEL_LIBRARY"):
    os.environ["OPENAIMODEL_LIBRARY"] = str(ROOT / ".build" / "release" / "libopenaimodel.so")
LIBRARY = os.environ["OPENAIMODEL_LIBRARY"]
for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID",
            "OPENAI_LOG", "OPENAIMODEL_DATA_DIR"):
    os.environ.pop(var, None)

sys.path.insert(0, str(PACKAGE_ROOT))
sys.path.insert(0, str(SERVER_DIR))

import openaimodel  # noqa: E402


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: builds or installs things (pip, venv)")


@pytest.fixture
def make_model(server, tenant, tmp_path):
    """``make_model(**kwargs)``: an OpenAIModel on this test's tenant."""
    made = []

    def make(*args, **kwargs):
        if not args:
            kwargs.setdefault("api_key", tenant.key)
        kwargs.setdefault("base_url", server.url)
        kwargs.setdefault("data_dir", tmp_path)
        m = openaimodel.OpenAIModel(*args, **kwargs)
        made.append(m)
        return m

    yield make
    for m in made:
        m.close()


@pytest.fixture
def model(make_model):
    return make_model()

