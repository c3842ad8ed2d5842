"""Trades rebuilt into candles: exact, fault tolerant, never deduplicated, stalls reported."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from kraken_helpers import lake_frame, run_fetch, utc
from tradecore_kraken.errors import CursorStalled, KrakenError


def expected_candles(server, pid="XXBTZUSD", step_ms=300_000):
    """Candles computed straight from the server's tape (independent of the client code path)."""
    tape = server.tapes[pid]
    limit = server.visible(tape)
    t_ms = np.rint(tape.time_ns[:limit] / 1e3).astype(np.int64) // 1000
    frame = pl.DataFrame({"t": t_ms - t_ms % step_ms, "p": tape.price[:limit], "v": tape.volume[:limit]})
    return (
        frame.group_by("t", maintain_order=True)
        .agg(
            pl.col("p").first().alias("open"),
            pl.col("p").max().alias("high"),
            pl.col("p").min().alias("low"),
            pl.col("p").last().alias("close"),
            pl.col("v").sum().alias("volume"),
            pl.len().cast(pl.Int64).alias("trades"),
        )
        .sort("t")
    )


def test_clean_backfill_equals_the_tape(server, lake):
    result, job = run_fetch(server, lake)
    stored = lake_frame(lake)
    want = expected_candles(server)
    assert stored.height == want.height == result.rows
    assert stored["trades"].sum() == len(server.tapes["XXBTZUSD"])  # no trade lost or counted twice
    assert (stored["time"].dt.epoch("ms").to_numpy() == want["t"].to_numpy()).all()
    for col in ("open", "high", "low", "close", "trades"):
        assert (stored[col].to_numpy() == want[col].to_numpy()).all(), col
    assert np.allclose(stored["volume"].to_numpy(), want["volume"].to_numpy(), rtol=0, atol=1e-9)
    assert set(stored["origin"]) == {"trades-rebuild"}
    assert job.counts["trades"] == len(server.tapes["XXBTZUSD"])
    assert '"reached_ms"' in job.cursor


def test_identical_same_second_trades_are_all_counted(server, lake):
    tape = server.tapes["XXBTZUSD"]
    secs = tape.time_ns // 10**9
    twins = int(
        ((secs[1:] == secs[:-1]) & (tape.price[1:] == tape.price[:-1]) & (tape.volume[1:] == tape.volume[:-1])).sum()
    )
    assert twins > 50  # the tape really holds identical rows in one second
    run_fetch(server, lake)
    assert lake_frame(lake)["trades"].sum() == len(tape)


@pytest.mark.slow
def test_backfill_under_20_percent_faults_equals_a_clean_run(lake, tmp_path):
    from tradecore_kraken.loopback import KrakenLoopback

    from tradecore.api import Lake

    with KrakenLoopback(hours=48, trades_per_minute=70, seed=5) as server:
        _faulty_run(server, lake, tmp_path, Lake)


def _faulty_run(server, lake, tmp_path, Lake):
    run_fetch(server, lake)
    clean = lake_frame(lake)
    server.faults.rate, server.faults.timeout_s = 0.2, 0.35
    server.faults.kinds = (
        "http429",
        "http502",
        "http503",
        "rate_limit",
        "unavailable",
        "malformed",
        "repeat",
        "timeout",
        "http429",
        "repeat",
        "malformed",
        "rate_limit",
    )
    faulty_lake = Lake(tmp_path / "faulty")
    result, job = run_fetch(server, faulty_lake, timeout_ms=250, max_retries=12)
    faulty = lake_frame(faulty_lake)
    assert sum(server.faults.injected.values()) >= 20 and len(server.faults.injected) >= 7
    assert faulty.equals(clean)
    assert sum(result.counts["retries"].values()) == sum(server.faults.injected.values())


def test_a_cursor_that_stops_advancing_is_reported_and_progress_kept(server, lake):
    tape = server.tapes["XXBTZUSD"]
    stall = int(np.searchsorted(tape.time_ns, (server.start_s + 26 * 3600) * 10**9))  # after the first day
    server.faults.stall_after = stall
    with pytest.raises(CursorStalled, match="stopped advancing at since="):
        run_fetch(server, lake, max_retries=2)
    stored = lake_frame(lake)
    stall_ms = int(tape.time_ns[stall - 1] // 10**6)
    assert 0 < stored.height and stored["time"].dt.epoch("ms").max() < stall_ms  # whole windows only
    server.faults.stall_after = None
    run_fetch(server, lake)  # a rerun resumes and completes
    assert lake_frame(lake)["trades"].sum() == len(server.tapes["XXBTZUSD"])


def test_resume_from_a_saved_cursor_mid_range(server, lake, tmp_path):
    """Stop after the first committed window, resume with that cursor: same lake as one clean run."""
    from tradecore_kraken.params import KrakenParams
    from tradecore_kraken.source import KrakenSource

    from tradecore.api import JobStore, Lake, Progress

    run_fetch(server, lake)
    clean = lake_frame(lake)

    class Stop(Exception):
        pass

    other = Lake(tmp_path / "resumed")
    jobs = JobStore(other.root)
    job = jobs.create("fetch", {})
    params = KrakenParams(
        symbol="BTC/USD",
        timeframe="5m",
        start=utc(server.start_s),
        method="trades",
        rate_limit=False,
        api_url=server.url,
        backoff_s=0,
    )
    original_update = jobs.update

    def update_then_die(job_id, **fields):
        original_update(job_id, **fields)
        raise Stop()

    jobs.update = update_then_die
    with pytest.raises(Stop):
        KrakenSource(params).fetch(other, jobs, job, Progress(0, 1, enabled=False))
    jobs.update = original_update
    saved = jobs.get(job.id)
    assert '"since"' in saved.cursor and '"window_start"' in saved.cursor
    KrakenSource(params).fetch(other, jobs, saved, Progress(0, 1, enabled=False))
    assert lake_frame(other).equals(clean)


def test_bad_symbol_fails_fast_naming_choices(server, lake):
    with pytest.raises(KrakenError, match="no market 'ETH/USDT'.*ETH/USD"):
        run_fetch(server, lake, symbol="ETH/USDT")
    assert server.counts.get("Trades", 0) == 0


def test_unknown_timeframe_names_the_valid_choices():
    from pydantic import ValidationError
    from tradecore_kraken.params import KrakenParams

    with pytest.raises(ValidationError, match="use one of 1m, 5m, 15m"):
        KrakenParams(timeframe="3m")
    with pytest.raises(ValidationError, match="is not before end"):
        KrakenParams(start="2024-02-01", end="2024-01-01")
    with pytest.raises(ValidationError, match="BASE/QUOTE"):
        KrakenParams(symbol="../../etc")


def test_rest_fills_the_newest_bars_without_the_one_in_progress(server, lake):
    start = server.now_s - 3600 * 10
    result, _ = run_fetch(server, lake, method="rest", start=utc(start), timeframe="15m")
    stored = lake_frame(lake, timeframe="15m")
    assert stored.height == result.rows > 0
    assert stored["time"].dt.epoch("ms").max() + 900_000 <= server.now_s * 1000
    assert set(stored["origin"]) == {"rest"} and (stored["trades"] > 0).all()
    assert server.counts["OHLC"] == 1


def test_rest_out_of_reach_is_refused_before_any_data_call(server, lake):
    from tradecore_kraken.errors import OutOfReach

    with pytest.raises(OutOfReach, match=r"newest 720 1m bars.*XBTUSD_1\.csv.*Kraken_OHLCVT_Q3_2023\.zip"):
        run_fetch(server, lake, method="rest", timeframe="1m")
    assert "OHLC" not in server.counts and "Trades" not in server.counts


def test_auto_plans_trades_then_rest_and_refreshes_incrementally(server, lake):
    from tradecore_kraken.params import KrakenParams
    from tradecore_kraken.source import KrakenSource

    params = KrakenParams(
        symbol="BTC/USD", timeframe="1m", start=utc(server.start_s), rate_limit=False, api_url=server.url
    )
    steps = KrakenSource(params).plan(lake)
    assert [s.method for s in steps] == ["trades", "rest"]
    assert steps[0].end_ms == steps[1].start_ms and steps[-1].end_ms == server.now_s * 1000
    run_fetch(server, lake, method="auto", timeframe="1m")
    origins = set(lake_frame(lake, timeframe="1m")["origin"])
    assert origins == {"trades-rebuild", "rest"}
    again = KrakenSource(params.model_copy(update={"start": None})).plan(lake)
    assert all(s.start_ms > lake.last_time("kraken", "BTC/USD", "1m") for s in again)
