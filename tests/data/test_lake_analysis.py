"""Gaps classification and fill advice, QC, slices, trades -> candles, the job store."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from tests.data.conftest import candles
from tradecore.data.exchange_facts import ExchangeFacts
from tradecore.data.gaps import gap_report, lake_gap_report, summary_line
from tradecore.data.jobs import JobError, JobStore
from tradecore.data.qc import check_candles
from tradecore.data.slices import SliceRules, find_slices
from tradecore.data.trades import trades_to_candles

T0 = 1_577_836_800_000  # 2020-01-01
MIN = 60_000
NOW = 1_800_000_000_000
#: an exchange whose REST OHLC serves only the newest 720 candles and whose trades history reaches everything
REACH_720 = ExchangeFacts(rest_candle_limit=720, trades_history=True)


class WithDumps(ExchangeFacts):
    """An exchange with downloadable candle files: the gap report passes the source's dump advice on."""

    def dump_option(self, pair: str, timeframe: str, start_ms: int, end_ms: int) -> dict:
        name = f"{pair.replace('/', '')}_{timeframe}.csv"
        return {"ok": True, "archive": "all.zip", "file": name, "detail": f"{name} inside all.zip"}


def _with(frame: pl.DataFrame, origin: str) -> pl.DataFrame:
    return frame.with_columns(pl.col("time").cast(pl.Datetime("ms", "UTC")), pl.lit(origin).alias("origin"))


def test_liquid_hole_is_missing_and_names_the_dump() -> None:
    # ~25 trades/minute, 30 empty minutes, from ccxt (not complete history): the rate says missing
    frame = _with(candles(T0, 2000, drop=np.arange(500, 530)), "ccxt")
    report = gap_report(frame, "kraken", "BTC/USD", "1m", now_ms=NOW, facts=REACH_720)
    [gap] = report.gaps
    assert (gap.kind, gap.slots, gap.start_ms) == ("missing", 30, T0 + 500 * MIN)
    assert gap.fill["rest"]["ok"] is False and gap.fill["trades"]["ok"] is True
    assert "dump" not in gap.fill and gap.fill["recommended"] == "trades"
    assert gap.fill["trades"]["calls"] >= 1 and gap.fill["trades"]["seconds"] is not None
    [gap] = gap_report(frame, "kraken", "BTC/USD", "1m", now_ms=NOW, facts=WithDumps(rest_candle_limit=720)).gaps
    assert gap.fill["dump"]["file"] == "BTCUSD_1m.csv" and gap.fill["recommended"] == "dump"


def test_illiquid_hole_is_no_trades() -> None:
    rng = np.random.default_rng(1)
    drop = np.nonzero(rng.random(3000) < 0.6)[0]  # a pair traded in 40 % of minutes
    frame = _with(candles(T0, 3000, drop=drop, trades=False), "ccxt").with_columns(pl.lit(1, pl.Int64).alias("trades"))
    report = gap_report(frame, "kraken", "BTC/USD", "1m", now_ms=NOW)
    counts = report.counts()
    assert counts["gap_count"] > 100
    assert counts["no_trades_gaps"] >= 0.95 * counts["gap_count"]


def test_recent_hole_is_rest_fillable_and_head_tail_are_reported() -> None:
    start = NOW - 300 * MIN
    frame = _with(candles(start, 200, drop=[50, 51]), "ccxt")
    report = gap_report(
        frame,
        "kraken",
        "ETH/USD",
        "1m",
        start_ms=start - 10 * MIN,
        end_ms=start + 250 * MIN,
        now_ms=NOW,
        facts=REACH_720,
    )
    kinds = [(g.slots, g.kind, g.fill["recommended"]) for g in report.gaps]
    assert kinds == [(10, "missing", "rest"), (2, "missing", "rest"), (50, "missing", "rest")]
    generic = ExchangeFacts().fill_options("BTC/USDT", "1h", T0, T0 + 3_600_000)
    assert generic == {"rest": {"ok": True, "detail": "paginated OHLCV history"}, "recommended": "rest"}
    assert gap_report(frame, "binance", "ETH/USD", "1m", end_ms=NOW).gaps[-1].fill["recommended"] == "rest"


def test_a_hole_inside_one_complete_history_write_is_no_trades(lake) -> None:
    liquid = candles(T0, 2000, drop=np.arange(500, 530))  # ~25 trades/minute: the rate alone says missing
    lake.write("kraken", "BTC/USD", "1m", liquid.slice(0, 970), "dump")  # minutes 0 .. 999
    lake.write("kraken", "BTC/USD", "1m", candles(T0 + 1200 * MIN, 800, seed=1), "dump")  # a second import
    dumps_complete = ExchangeFacts(rest_candle_limit=720, trades_history=True, complete_origins=("dump",))
    report = lake_gap_report(lake, "kraken", "BTC/USD", "1m", now_ms=NOW, facts=dumps_complete)
    inside, between = report.gaps
    assert (inside.kind, inside.slots, inside.fill) == ("no_trades", 30, None)
    assert "complete history" in inside.evidence[-1]
    assert (between.kind, between.slots) == ("missing", 200)  # never fetched, though both sides are dumps
    assert report.counts() == {
        "gap_count": 2,
        "gap_slots": 230,
        "no_trades_gaps": 1,
        "no_trades_slots": 30,
        "missing_gaps": 1,
        "missing_slots": 200,
    }
    text = summary_line(report)
    assert "2 gaps (230 empty slots)" in text and "1 no trades (30 slots)" in text and "1 missing (200 slots)" in text
    generic = ExchangeFacts()  # dumps not known to be complete history: the rate decides
    assert lake_gap_report(lake, "kraken", "BTC/USD", "1m", facts=generic).counts()["missing_gaps"] == 2
    one_frame = _with(liquid, "dump")  # a frame without write records: rows of one origin count as one write
    assert gap_report(one_frame, "kraken", "BTC/USD", "1m", facts=dumps_complete).gaps[0].kind == "no_trades"


def test_a_source_that_emits_every_slot_has_no_no_trades_holes() -> None:
    rng = np.random.default_rng(1)
    drop = np.nonzero(rng.random(3000) < 0.6)[0]
    frame = _with(candles(T0, 3000, drop=drop, trades=False), "synthetic")
    every_slot = ExchangeFacts(rest_history=False, skips_empty_candles=False)
    report = gap_report(frame, "synthetic", "SYN/USD", "1m", now_ms=NOW, facts=every_slot)
    assert report.counts()["no_trades_gaps"] == 0 and report.counts()["missing_gaps"] > 100
    assert {g.fill["recommended"] for g in report.gaps} == {None}


def test_qc_finds_each_problem() -> None:
    frame = candles(T0, 500).with_columns(pl.col("time").cast(pl.Datetime("ms", "UTC")))
    bad = (
        frame.with_row_index()
        .with_columns(
            pl.when(pl.col("index") == 10).then(1e9).otherwise(pl.col("low")).alias("low"),
            pl.when(pl.col("index") == 20).then(-1.0).otherwise(pl.col("volume")).alias("volume"),
            pl.when(pl.col("index") == 30).then(pl.col("close") * 1.5).otherwise(pl.col("close")).alias("close"),
        )
        .drop("index")
    )
    bad = pl.concat([bad, bad.slice(40, 1), bad.slice(5, 1)])  # a duplicate and a step backwards
    off = bad.slice(0, 1).with_columns(pl.col("time") + pl.duration(seconds=30))
    report = check_candles(pl.concat([bad, off]), "1m", "test")
    found = {c.name: c.count for c in report.checks}
    assert found["ohlc"] >= 2 and found["volume"] == 1 and found["duplicates"] >= 2
    assert found["off_grid"] == 1 and found["non_monotonic"] >= 1 and found["outlier_returns"] >= 1
    assert not report.ok and "FAIL" in report.render()
    assert check_candles(frame, "1m").ok


def test_slices_split_at_long_and_missing_holes() -> None:
    frame = _with(candles(T0, 5000, drop=np.r_[np.arange(1000, 1100), 3000]), "ccxt")
    slices = find_slices(frame, "1m", SliceRules(min_bars=500, max_gap_bars=60, min_coverage=0.9))
    assert [s["rows"] for s in slices] == [1000, 1900, 1999]
    relaxed = find_slices(
        frame, "1m", SliceRules(min_bars=500, max_gap_bars=60, min_coverage=0.9, split_on_missing=False)
    )
    assert [s["rows"] for s in relaxed] == [1000, 3899]


def test_trades_to_candles_matches_a_plain_loop() -> None:
    rng = np.random.default_rng(7)
    n = 5000
    t = np.sort(rng.integers(T0, T0 + 3 * 3_600_000, n))
    trades = pl.DataFrame({"time": t, "price": rng.uniform(90, 110, n).round(1), "volume": rng.uniform(0, 2, n)})
    trades = pl.concat([trades, trades.slice(100, 3)]).sort("time", maintain_order=True)  # identical rows stay
    got = trades_to_candles(trades, "5m")
    buckets: dict[int, list[tuple[float, float]]] = {}
    for ts, price, vol in trades.iter_rows():
        buckets.setdefault(ts - ts % 300_000, []).append((price, vol))
    assert got.height == len(buckets)
    for row in got.iter_rows(named=True):
        items = buckets[int(row["time"].timestamp() * 1000)]
        prices = [p for p, _ in items]
        assert (row["open"], row["high"], row["low"], row["close"]) == (prices[0], max(prices), min(prices), prices[-1])
        assert row["trades"] == len(items) and row["volume"] == pytest.approx(sum(v for _, v in items))
    assert got["trades"].sum() == n + 3


def test_job_store_roundtrip(tmp_path) -> None:
    store = JobStore(tmp_path)
    job = store.create("fetch", {"source": "kraken", "params": {"symbol": "BTC/USD"}})
    assert job.status == "pending" and job.cursor is None and job.request["source"] == "kraken"
    cursor = "1688671969993150842"  # a 19-digit Kraken cursor must survive exactly
    store.update(job.id, status="running", cursor=cursor, progress=0.5, counts={"rows": 10}, message="page 1")
    store.update(job.id, message="page 2")
    again = JobStore(tmp_path).get(job.id)
    assert again.cursor == cursor and again.counts == {"rows": 10} and again.messages == ["page 1", "page 2"]
    assert [j.id for j in store.list(status="running")] == [job.id] and store.list(status="done") == []
    assert (tmp_path / "_jobs.sqlite3").is_file()
    with pytest.raises(JobError, match="no job 99"):
        store.get(99)
    with pytest.raises(JobError, match="status 'weird'"):
        store.update(job.id, status="weird")
    with pytest.raises(JobError, match="unknown job field"):
        store.update(job.id, colour="red")
