"""The lake: idempotent upserts, window replacement, partition-local rewrites, scans, refusals."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import polars as pl
import pytest

from tests.data.conftest import candles
from tradecore.data.lake import Lake, LakeError, WriteResult

T0 = 1_703_980_800_000  # 2023-12-31 00:00 UTC
MIN = 60_000


def test_write_is_idempotent_and_spans_year_partitions(lake: Lake) -> None:
    frame = candles(T0, 3000)  # crosses into 2024
    first = lake.write("kraken", "BTC/USD", "1m", frame, "dump")
    assert isinstance(first, WriteResult) and first.rows_written == 3000 and first.rows_replaced == 0
    assert [p.split("/")[-2] for p in first.partitions] == ["year=2023", "year=2024"]
    again = lake.write("kraken", "BTC/USD", "1m", frame, "dump")
    assert again.rows_replaced == 3000
    stored = lake.read("kraken", "BTC/USD", "1m")
    assert stored.height == 3000
    assert stored["time"].dt.epoch("ms").to_list() == frame["time"].to_list()
    assert stored["close"].to_list() == frame["close"].to_list()
    assert set(stored["origin"]) == {"dump"}
    assert lake.last_time("kraken", "BTC/USD", "1m") == T0 + 2999 * MIN
    assert lake.first_time("kraken", "BTC/USD", "1m") == T0


def test_overlapping_write_replaces_by_key(lake: Lake) -> None:
    lake.write("kraken", "BTC/USD", "1m", candles(T0, 100), "dump")
    newer = candles(T0 + 50 * MIN, 100, seed=9).with_columns(pl.col("close") * 0 + 7.0)
    result = lake.write("kraken", "BTC/USD", "1m", newer, "rest")
    assert result.rows_replaced == 50
    stored = lake.read("kraken", "BTC/USD", "1m")
    assert stored.height == 150
    assert stored["time"].is_sorted() and stored["time"].n_unique() == 150
    assert stored.filter(pl.col("origin") == "rest")["close"].to_list() == [7.0] * 100
    assert stored.filter(pl.col("origin") == "dump").height == 50


def test_replace_window_deletes_then_inserts(lake: Lake) -> None:
    lake.write("kraken", "BTC/USD", "1m", candles(T0, 200), "rest")
    rebuilt = candles(T0 + 60 * MIN, 40, seed=3, drop=[5, 6, 7])  # a window with holes (no trades)
    result = lake.replace_window("kraken", "BTC/USD", "1m", T0 + 60 * MIN, T0 + 100 * MIN, rebuilt, "trades-rebuild")
    assert result.rows_replaced == 40 and result.rows_written == 37
    stored = lake.read("kraken", "BTC/USD", "1m")
    assert stored.height == 197
    window = stored.filter(pl.col("origin") == "trades-rebuild")
    assert window["time"].dt.epoch("ms").to_list() == rebuilt["time"].to_list()
    with pytest.raises(LakeError, match="outside the window"):
        lake.replace_window("kraken", "BTC/USD", "1m", T0, T0 + 10 * MIN, candles(T0, 20), "trades-rebuild")


def test_only_touched_partitions_are_rewritten(lake: Lake) -> None:
    lake.write("kraken", "BTC/USD", "1h", candles(T0 - 400 * 86_400_000, 24 * 500, step_ms=3_600_000), "dump")
    files = dict(lake.partition_files("kraken", "BTC/USD", "1h"))
    assert sorted(files) == [2022, 2023, 2024]
    before = {y: os.stat(p).st_mtime_ns for y, p in files.items()}
    inodes = {y: os.stat(p).st_ino for y, p in files.items()}
    lake.write("kraken", "BTC/USD", "1h", candles(T0 + 10 * 86_400_000, 24, step_ms=3_600_000, seed=5), "rest")
    after = {y: os.stat(p) for y, p in dict(lake.partition_files("kraken", "BTC/USD", "1h")).items()}
    assert after[2022].st_mtime_ns == before[2022] and after[2022].st_ino == inodes[2022]
    assert after[2023].st_mtime_ns == before[2023] and after[2023].st_ino == inodes[2023]
    assert after[2024].st_ino != inodes[2024]


def test_scan_range_and_pushdown(lake: Lake) -> None:
    lake.write("kraken", "ETH/USD", "1m", candles(T0, 5000), "dump")
    lazy = lake.scan("kraken", "ETH/USD", "1m", start=T0 + 100 * MIN, end=T0 + 200 * MIN)
    assert isinstance(lazy, pl.LazyFrame)
    got = lazy.collect()
    assert got.height == 100 and got["time"].dt.epoch("ms")[0] == T0 + 100 * MIN
    assert lake.scan("kraken", "ETH/USD", "1m", start="2024-01-01", end="2024-01-01T01:00").collect().height == 60
    assert "2024" in lazy.explain() or "time" in lazy.explain()
    assert lake.scan("kraken", "NOPE/USD", "1m").collect().height == 0
    import tradecore.data

    assert tradecore.data.scan("kraken", "ETH/USD", "1m", root=lake.root).collect().height == 5000


@pytest.mark.parametrize(
    "frame, message",
    [
        (candles(T0 + 30_000, 10), "not aligned to the 1m grid"),
        (pl.concat([candles(T0, 5), candles(T0, 5)]), "several candles"),
        (candles(T0, 5).drop("close"), "lacks column"),
    ],
)
def test_bad_frames_are_refused(lake: Lake, frame: pl.DataFrame, message: str) -> None:
    with pytest.raises(LakeError, match=message):
        lake.write("kraken", "BTC/USD", "1m", frame, "dump")
    assert lake.read("kraken", "BTC/USD", "1m").height == 0


@pytest.mark.parametrize(
    "exchange, pair",
    [
        ("kraken", "../../etc"),
        ("kraken", "/abs/path"),
        ("..", "BTC/USD"),
        ("kraken", "A/B/C"),
        ("/tmp", "BTC/USD"),
        ("kraken", "..\\x"),
        ("kraken", "BTC/../USD"),
    ],
)
def test_symbols_that_would_escape_are_refused(lake: Lake, exchange: str, pair: str) -> None:
    with pytest.raises(LakeError, match="outside the lake|plain name|path"):
        lake.write(exchange, pair, "1m", candles(T0, 3), "dump")
    assert not (lake.root.parent / "etc").exists()


def test_unknown_origin_and_timeframe(lake: Lake) -> None:
    with pytest.raises(LakeError, match="origin"):
        lake.write("kraken", "BTC/USD", "1m", candles(T0, 3), "scraped")
    with pytest.raises(LakeError, match="invalid timeframe"):
        lake.write("kraken", "BTC/USD", "1x", candles(T0, 3), "dump")


def test_full_disk_leaves_old_data_whole(lake: Lake) -> None:
    """A writer whose file-size limit is hit (EFBIG, like a full disk) gets a clear error; data is unchanged."""
    lake.write("kraken", "BTC/USD", "1m", candles(T0, 2000), "dump")
    before = lake.read("kraken", "BTC/USD", "1m")
    script = textwrap.dedent(f"""
        import resource, signal, sys
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        sys.path.insert(0, {str(os.getcwd())!r})
        from tests.data.conftest import candles
        from tradecore.data.lake import Lake, LakeError
        resource.setrlimit(resource.RLIMIT_FSIZE, (2048, 2048))
        try:
            Lake({str(lake.root)!r}).write("kraken", "BTC/USD", "1m", candles({T0}, 3000, seed=4), "rest")
        except LakeError as exc:
            print("LAKEERROR", exc)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert "LAKEERROR" in out.stdout and "disk full or read-only" in out.stdout, out.stdout + out.stderr
    assert lake.read("kraken", "BTC/USD", "1m").equals(before)
    leftovers = [p for p in lake.root.rglob("*.tmp")]
    assert leftovers == []


def test_unwritable_lake_root_is_a_clear_error(tmp_path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(LakeError, match="cannot create"):
        Lake(blocker / "lake").write("kraken", "BTC/USD", "1m", candles(T0, 3), "dump")


def test_coverage_from_footers(lake: Lake) -> None:
    from tradecore.data.coverage import lake_coverage

    lake.write("kraken", "BTC/USD", "1m", candles(T0, 3000, drop=[10, 11, 12, 2000]), "dump")
    lake.write("kraken", "BTC/USD", "1m", candles(T0 + 3000 * MIN, 10), "rest")
    [cov] = lake_coverage(lake)
    assert (cov.exchange, cov.pair, cov.timeframe) == ("kraken", "BTC/USD", "1m")
    assert cov.rows == 3006 and cov.expected == 3010 and cov.hole_slots == 4 and cov.holes == 2
    assert cov.origins == {"dump": 2996, "rest": 10}
    assert cov.ranges == [(T0, T0 + 3009 * MIN)]
    assert round(cov.percent, 2) == round(100 * 3006 / 3010, 2)
