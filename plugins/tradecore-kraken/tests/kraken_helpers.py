"""Helpers the Kraken plugin's tests share (a module of its own: several test folders hold a conftest.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from tradecore_kraken.loopback import KrakenLoopback

SHARED_KRAKEN = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "kraken"


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
