"""Shared test helpers: the repository layout and the ../shared folder (skipped when absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not (SHARED / "data" / "kraken").is_dir():
        pytest.skip("../shared is absent (real Kraken files live there)")
    return SHARED


# the real-browser fixtures (tests/browser.py), for every test under tests/
from tests.browser import browser_context, browser_page  # noqa: E402, F401
