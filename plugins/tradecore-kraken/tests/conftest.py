"""Fixtures: a loopback Kraken server, a fresh lake, helpers to run fetches and read the lake."""

from __future__ import annotations

import pytest
from tradecore_kraken.loopback import KrakenLoopback


@pytest.fixture
def server():
    with KrakenLoopback(hours=30, trades_per_minute=25, seed=11) as srv:
        yield srv


@pytest.fixture
def lake(tmp_path):
    from tradecore.api import Lake

    return Lake(tmp_path / "lake")
