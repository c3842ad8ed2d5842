"""Fixtures: a loopback Kraken server, a fresh lake, helpers to run fetches and read the lake."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from tradecore_kraken.loopback import Faults, KrakenLoopback

#: ../shared/data/kraken relative to the repository (never an absolute path)
SHARED_KRAKEN = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "kraken"


@pytest.fixture
def server():
    with KrakenLoopback(hours=30, trades_per_minute=25, seed=11) as srv:
        yield srv


@pytest.fixture
def lake(tmp_path):
    from tradecore.api import Lake

    return Lake(tmp_path / "lake")


def utc(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def run_fetch(server: KrakenLoopback, lake, **overrides):
    """Run one kraken fetch unit against ``server`` into ``lake``; returns (result, job)."""
    from tradecore_kraken.params import KrakenParams
    from tradecore_kraken.source import KrakenSource

    from tradecore.api import JobStore, Progress

    params = dict(
        symbol="BTC/USD",
        timeframe="5m",
        start=utc(server.start_s),
        method="trades",
        rate_limit=False,
        api_url=server.url,
        backoff_s=0.0,
        timeout_ms=2000,
    )
    params.update(overrides)
    source = KrakenSource(KrakenParams(**params))
    jobs = JobStore(lake.root)
    job = jobs.create("fetch", {"source": "kraken"})
    result = source.fetch(lake, jobs, job, Progress(0, 1, enabled=False))
    return result, jobs.get(job.id)


def lake_frame(lake, symbol="BTC/USD", timeframe="5m"):
    return lake.read("kraken", symbol, timeframe)


__all__ = ["Faults", "SHARED_KRAKEN", "lake_frame", "run_fetch", "utc"]
