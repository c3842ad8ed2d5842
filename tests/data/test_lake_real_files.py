"""Acceptance on the real Kraken files in ../shared (skipped when absent): row and gap counts from
SOURCES.md, the hourly -> daily resampling oracle, trades rebuilt without dropping identical rows.

The files are read with plain Polars here; the Kraken plugin's own CSV readers are tested with it."""

from __future__ import annotations

import polars as pl
import pytest

from tests.data.conftest import read_candle_csv, read_trades_csv
from tradecore.data.exchange_facts import ExchangeFacts
from tradecore.data.gaps import find_gaps, gap_report, lake_gap_report
from tradecore.data.lake import Lake
from tradecore.data.resample import resample
from tradecore.data.trades import CandleBuilder, trades_to_candles
from tradecore.timeframes import timeframe_ms

# file -> (timeframe, rows, expected slots, gaps, missing slots) from SOURCES.md
FILES = {
    "ohlcvt/full_history_to_2020Q3/XBTUSD_60.csv": ("1h", 50_378, 61_227, 3_250, 10_849),
    "ohlcvt/full_history_to_2020Q3/ETHUSD_60.csv": ("1h", 41_688, 45_154, 838, 3_466),
    "ohlcvt/full_history_to_2021Q1/XBTUSD_1440.csv": ("1d", 2_722, 2_734, 11, 12),
    "ohlcvt/Q1_2023/XBTUSDC_1.csv": ("1m", 56_717, 129_600, 26_746, 72_883),
    "ohlcvt/Q3_2023/XBTUSD_15.csv": ("15m", 8_829, 8_832, 3, 3),
    "ohlcvt/Q3_2023/ETHUSD_5.csv": ("5m", 26_444, 26_496, 27, 52),
}
TRADE_TOTALS = {
    "ohlcvt/Q3_2023/XBTUSD_15.csv": 2_135_314,
    "ohlcvt/Q3_2023/ETHUSD_5.csv": 640_183,
    "ohlcvt/Q1_2023/XBTUSDC_1.csv": 232_786,
    "ohlcvt/full_history_to_2021Q1/XBTUSD_1440.csv": 33_511_377,
}


@pytest.mark.shared
@pytest.mark.parametrize("name", sorted(FILES))
def test_rows_and_gaps_match_sources(kraken_dir, tmp_path, name) -> None:
    timeframe, rows, expected, n_gaps, missing = FILES[name]
    frame = read_candle_csv(kraken_dir / name)
    assert frame.height == rows
    times = frame["time"].dt.epoch("ms").to_numpy()
    step = timeframe_ms(timeframe)
    assert (times[-1] - times[0]) // step + 1 == expected
    _, _, slots = find_gaps(times, step)
    assert (len(slots), int(slots.sum())) == (n_gaps, missing)
    if name in TRADE_TOTALS:
        assert frame["trades"].sum() == TRADE_TOTALS[name]
    # through the lake: same rows back, gap report and coverage agree with the file
    lake = Lake(tmp_path / "lake")
    lake.write("kraken", "BTC/USD", timeframe, frame, "dump")
    stored = lake.read("kraken", "BTC/USD", timeframe)
    assert stored.drop("origin").equals(frame)
    report = gap_report(stored, "kraken", "BTC/USD", timeframe)
    assert report.counts()["gap_count"] == n_gaps and report.counts()["gap_slots"] == missing
    # one complete-history dump: every empty slot inside it means nobody traded
    dumps_complete = ExchangeFacts(complete_origins=("dump",))
    assert (
        lake_gap_report(lake, "kraken", "BTC/USD", timeframe, facts=dumps_complete).counts()["no_trades_slots"]
        == missing
    )
    from tradecore.data.coverage import lake_coverage

    [cov] = lake_coverage(lake)
    assert (cov.rows, cov.expected, cov.holes, cov.hole_slots) == (rows, expected, n_gaps, missing)


@pytest.mark.shared
def test_hourly_resampled_to_daily_equals_kraken_daily(kraken_dir) -> None:
    hourly = read_candle_csv(kraken_dir / "ohlcvt/full_history_to_2020Q3/XBTUSD_60.csv")
    daily = read_candle_csv(kraken_dir / "ohlcvt/full_history_to_2021Q1/XBTUSD_1440.csv")
    built = resample(hourly, "1h", "1d")
    joined = daily.join(built, on="time", how="inner", suffix="_r")
    last_full_day = hourly["time"].max().replace(hour=0)
    overlap = daily.filter((pl.col("time") >= built["time"].min()) & (pl.col("time") <= last_full_day))
    assert joined.height == overlap.height == 2540
    for col in ("open", "high", "low", "close"):
        assert (joined[col] == joined[f"{col}_r"]).all(), col
    assert ((joined["volume"] - joined["volume_r"]).abs() <= 1e-8).all()
    assert (joined["trades"] == joined["trades_r"]).all()


@pytest.mark.shared
def test_trades_rebuild_keeps_identical_rows(kraken_dir) -> None:
    for name, rows, distinct in (("full_history/BCHEUR.csv", 148, 147), ("incremental_q2/BCHEUR.csv", 486, 438)):
        trades = read_trades_csv(kraken_dir / "trades" / name)
        assert trades.height == rows and trades.unique().height == distinct
        candles = trades_to_candles(trades, "1m")
        assert candles["trades"].sum() == rows  # freqtrade's importer keeps 340 of 634
        assert candles["volume"].sum() == pytest.approx(trades["volume"].sum(), rel=1e-12)
        builder = CandleBuilder("1m")
        parts = [builder.add(trades.slice(i, 37)) for i in range(0, trades.height, 37)] + [builder.flush()]
        streamed = pl.concat(parts)
        assert streamed.drop("volume").equals(candles.drop("volume"))
        assert ((streamed["volume"] - candles["volume"]).abs() < 1e-9).all()
