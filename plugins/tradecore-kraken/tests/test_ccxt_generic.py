"""The generic ``ccxt`` source driving the real ccxt.bitstamp class against a loopback Bitstamp server."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import polars as pl
import pytest
from bitstamp_loopback import BitstampLoopback
from tradecore_kraken.errors import KrakenError

from tradecore.api import JobStore, Lake, Progress
from tradecore.testing import run_cli

MINUTE = 60
HOUR = 3600


@pytest.fixture
def server():
    with BitstampLoopback(seed=7, history_s=5 * 86400) as srv:
        yield srv


@pytest.fixture
def window(server):
    """3000 one-minute bars (three full pages), well inside the server's history, hour-aligned."""
    start = server.anchor_s - server.anchor_s % HOUR + 2 * HOUR
    return start, start + 3000 * MINUTE


def utc(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def run_ccxt(server: BitstampLoopback, lake: Lake, **overrides):
    """One ``ccxt`` fetch unit (plan, then fetch) as ``tradecore data fetch`` runs it; returns (plan, result, job)."""
    from tradecore_kraken.ccxt_source import CcxtSource
    from tradecore_kraken.params import CcxtParams

    params = dict(
        exchange="bitstamp",
        symbol="BTC/USD",
        timeframe="1m",
        api_url=server.url,
        rate_limit=False,
        backoff_s=0.0,
        timeout_ms=2000,
        lake=str(lake.root),
    )
    params.update(overrides)
    source = CcxtSource(CcxtParams(**params))
    jobs = JobStore(lake.root)
    job = jobs.create("fetch", {"source": "ccxt", "params": source.params.model_dump(mode="json")})
    plan = source.plan(lake)
    result = source.fetch(lake, jobs, job, Progress(0, 1, enabled=False))
    return plan, result, jobs.get(job.id)


def stored(lake: Lake, timeframe: str = "1m") -> list[list[float]]:
    frame = lake.read("bitstamp", "BTC/USD", timeframe)
    frame = frame.with_columns(pl.col("time").dt.epoch("ms"))
    return [list(r) for r in frame.select("time", "open", "high", "low", "close", "volume").iter_rows()]


def stored_on_disk(lake: Lake, timeframe: str = "1m") -> pl.DataFrame:
    """Every row of every Parquet file of the series, read past the lake's own reader."""
    files = [p for _, p in lake.partition_files("bitstamp", "BTC/USD", timeframe)]
    return pl.concat([pl.read_parquet(f) for f in files])


def test_cli_backfill_stores_exactly_the_servers_candles(server, window, tmp_path):
    start, end = window
    lake_dir = tmp_path / "lake"
    result = run_cli(
        "data",
        "fetch",
        "--source",
        "ccxt",
        "--param",
        "exchange=bitstamp",
        "--param",
        f"api_url={server.url}",
        "--param",
        "rate_limit=false",
        "--param",
        "backoff_s=0",
        "--pair",
        "BTC/USD",
        "--timeframe",
        "1m",
        "--start",
        utc(start).isoformat(),
        "--end",
        utc(end).isoformat(),
        "--lake",
        str(lake_dir),
        "--json",
        "-q",
    )
    assert result.exit_code == 0, result.output
    (outcome,) = json.loads(result.output)
    assert outcome["rows"] == 3000
    assert outcome["first_ms"] == start * 1000 and outcome["last_ms"] == (end - MINUTE) * 1000
    lake = Lake(lake_dir)
    expected = server.candles("btcusd", MINUTE, start, end)
    assert len(expected) == 3000
    assert stored(lake) == expected  # every value, parsed from Bitstamp's strings, bar for bar
    assert server.counts == {"/api/v2/markets/": 1, "ohlc": 3}  # markets once, one request per 1000 bars
    job = JobStore(lake_dir).get(outcome["job"])
    assert job.status == "done" and job.counts["candles"] == 3000


def test_injected_faults_are_retried_and_change_nothing(server, window, tmp_path):
    start, end = window
    clean_lake, faulty_lake = Lake(tmp_path / "clean"), Lake(tmp_path / "faulty")
    _, clean, _ = run_ccxt(server, clean_lake, start=utc(start), end=utc(end))
    assert clean.counts.get("retries") is None

    with BitstampLoopback(seed=7, anchor_s=server.anchor_s) as faulty:
        faulty.script = {1: 503, 2: 429, 3: 500, 5: 502, 7: 504}
        _, result, job = run_ccxt(faulty, faulty_lake, start=utc(start), end=utc(end), max_retries=3)
    assert sorted(s for s in faulty.statuses if s != 200) == [429, 500, 502, 503, 504]
    assert faulty.ohlc_requests == 3 + 5
    assert result.counts["retries"] == {"ExchangeNotAvailable": 3, "RateLimitExceeded": 1, "RequestTimeout": 1}
    assert result.rows == clean.rows == 3000
    assert stored(faulty_lake) == stored(clean_lake) == server.candles("btcusd", MINUTE, start, end)
    assert json.loads(job.cursor)["since"] == end * 1000


def test_faults_past_max_retries_fail_with_one_line_and_resume(server, window, tmp_path):
    start, end = window
    lake = Lake(tmp_path / "lake")
    server.script = {2: 503, 3: 503}  # the second page fails twice; one retry is not enough
    with pytest.raises(KrakenError, match=r"gave up after 2 attempts, last error ExchangeNotAvailable"):
        run_ccxt(server, lake, start=utc(start), end=utc(end), max_retries=1)
    assert len(stored(lake)) == 1000  # the first page was kept
    _, result, _ = run_ccxt(server, lake, start=utc(start), end=utc(end), max_retries=1)
    assert stored(lake) == server.candles("btcusd", MINUTE, start, end)


def test_a_page_that_does_not_advance_stops_without_looping(server, window, tmp_path):
    """Past the first page the server repeats it forever; the fetch must end, and quickly."""
    start, end = window
    lake = Lake(tmp_path / "lake")
    server.stuck_after = 1
    try:
        run_ccxt(server, lake, start=utc(start), end=utc(end))
    except KrakenError:
        pass
    assert server.ohlc_requests <= 2
    assert stored(lake) == server.candles("btcusd", MINUTE, start, start + 1000 * MINUTE)


def test_a_page_that_does_not_advance_is_an_error(server, window, tmp_path):
    start, end = window
    server.stuck_after = 1
    with pytest.raises(KrakenError, match="advanc"):
        run_ccxt(server, Lake(tmp_path / "lake"), start=utc(start), end=utc(end))


def test_rerun_is_idempotent_and_refresh_fetches_only_new_bars(server, window, tmp_path):
    start, end = window
    lake = Lake(tmp_path / "lake")
    run_ccxt(server, lake, start=utc(start), end=utc(end))
    first = stored(lake)

    requests = server.ohlc_requests
    _, again, _ = run_ccxt(server, lake, start=utc(start), end=utc(end))
    assert again.rows == 3000 and server.ohlc_requests == requests + 3
    on_disk = stored_on_disk(lake)
    assert on_disk.height == 3000 and on_disk["time"].n_unique() == 3000  # upserted, not appended
    assert stored(lake) == first

    # refresh: no start, so it continues after the newest stored bar up to the new end
    later = end + 1500 * MINUTE
    requests = server.ohlc_requests
    plan, refresh, _ = run_ccxt(server, lake, start=None, end=utc(later))
    assert [(s.start_ms, s.end_ms) for s in plan] == [(end * 1000, later * 1000)]
    assert plan[0].estimate == {"requests": 2, "rows_max": 1500}
    assert refresh.rows == 1500 and refresh.first_ms == end * 1000
    assert server.ohlc_requests == requests + 2
    assert stored(lake) == server.candles("btcusd", MINUTE, start, later)
    assert stored_on_disk(lake)["time"].n_unique() == stored_on_disk(lake).height == 4500

    # nothing new: the plan is empty and the fetch asks nothing
    plan, nothing, _ = run_ccxt(server, lake, start=None, end=utc(later))
    assert plan == [] and nothing.rows == 0 and server.ohlc_requests == requests + 2


def test_refresh_to_now_skips_the_bar_in_progress(server, tmp_path):
    """With no end the range stops at the last closed bar, though Bitstamp also serves the open one."""
    import time

    lake = Lake(tmp_path / "lake")
    now = int(time.time())
    begin = now - now % HOUR - 30 * HOUR
    run_ccxt(server, lake, timeframe="1h", start=utc(begin), end=utc(begin + 20 * HOUR))
    _, refresh, _ = run_ccxt(server, lake, timeframe="1h", start=None)
    closed = int(time.time()) // HOUR * HOUR
    bars = stored(lake, "1h")
    assert refresh.first_ms == (begin + 20 * HOUR) * 1000
    assert bars[-1][0] in (closed * 1000 - HOUR * 1000, closed * 1000 - 2 * HOUR * 1000)  # an hour may turn mid-test
    assert bars == server.candles("btcusd", HOUR, begin, bars[-1][0] // 1000 + HOUR)
