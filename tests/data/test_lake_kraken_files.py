"""Acceptance on the real Kraken files in ../shared (skipped when absent): row and gap counts from
SOURCES.md, the hourly -> daily resampling oracle, trades rebuilt without dropping identical rows."""

from __future__ import annotations

import polars as pl
import pytest

from tradecore.data.gaps import find_gaps, gap_report
from tradecore.data.kraken_csv import KrakenCsvError, parse_ohlcvt_name, read_ohlcvt, read_trades
from tradecore.data.lake import Lake
from tradecore.data.resample import resample
from tradecore.data.trades import CandleBuilder, trades_to_candles
from tradecore.timeframes import timeframe_ms

# file -> (rows, expected slots, gaps, missing slots, rows in scientific notation) from SOURCES.md
FILES = {
    "ohlcvt/full_history_to_2020Q3/XBTUSD_60.csv": (50_378, 61_227, 3_250, 10_849),
    "ohlcvt/full_history_to_2020Q3/ETHUSD_60.csv": (41_688, 45_154, 838, 3_466),
    "ohlcvt/full_history_to_2021Q1/XBTUSD_1440.csv": (2_722, 2_734, 11, 12),
    "ohlcvt/Q1_2023/XBTUSDC_1.csv": (56_717, 129_600, 26_746, 72_883),
    "ohlcvt/Q3_2023/XBTUSD_15.csv": (8_829, 8_832, 3, 3),
    "ohlcvt/Q3_2023/ETHUSD_5.csv": (26_444, 26_496, 27, 52),
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
    rows, expected, n_gaps, missing = FILES[name]
    _, timeframe = parse_ohlcvt_name(name)
    frame = read_ohlcvt(kraken_dir / name)
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
    assert report.counts()["gaps"] == n_gaps and report.missing_slots == missing
    from tradecore.data.coverage import lake_coverage

    [cov] = lake_coverage(lake)
    assert (cov.rows, cov.expected, cov.holes, cov.missing_slots) == (rows, expected, n_gaps, missing)


@pytest.mark.shared
def test_scientific_notation_volumes_parse(kraken_dir) -> None:
    raw = (kraken_dir / "ohlcvt/full_history_to_2020Q3/ETHUSD_60.csv").read_text().splitlines()
    sci = [line for line in raw if "E+" in line.split(",")[5] or "e+" in line.split(",")[5]]
    assert len(sci) == 236
    frame = read_ohlcvt(kraken_dir / "ohlcvt/full_history_to_2020Q3/ETHUSD_60.csv")
    by_time = dict(zip(frame["time"].dt.epoch("s").to_list(), frame["volume"].to_list(), strict=True))
    for line in sci[:20]:
        fields = line.split(",")
        assert by_time[int(fields[0])] == float(fields[5])


@pytest.mark.shared
def test_hourly_resampled_to_daily_equals_kraken_daily(kraken_dir) -> None:
    hourly = read_ohlcvt(kraken_dir / "ohlcvt/full_history_to_2020Q3/XBTUSD_60.csv")
    daily = read_ohlcvt(kraken_dir / "ohlcvt/full_history_to_2021Q1/XBTUSD_1440.csv")
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
        trades = read_trades(kraken_dir / "trades" / name)
        assert trades.height == rows and trades.unique().height == distinct
        candles = trades_to_candles(trades, "1m")
        assert candles["trades"].sum() == rows  # freqtrade's importer keeps 340 of 634
        assert candles["volume"].sum() == pytest.approx(trades["volume"].sum(), rel=1e-12)
        builder = CandleBuilder("1m")
        parts = [builder.add(trades.slice(i, 37)) for i in range(0, trades.height, 37)] + [builder.flush()]
        streamed = pl.concat(parts)
        assert streamed.drop("volume").equals(candles.drop("volume"))
        assert ((streamed["volume"] - candles["volume"]).abs() < 1e-9).all()


def test_corrupt_and_truncated_csv_name_file_and_line(tmp_path) -> None:
    good = "1381093200,122,123,121,122,1E+1,3\n1381096800,122,123,121,122.5,5.5E+2,4\n"
    cases = {
        "XBTUSD_60.csv": (good + "1381100400,122,123\n", "line 3: truncated"),
        "ETHUSD_60.csv": (good + "1381100400,122,123,121,abc,1,1\n", "line 3: close 'abc'"),
        "XRPUSD_60.csv": (good + "1381100401,122,123,121,122,1,1\n", "line 3: time 1381100401 is not on the 1h grid"),
        "ADAUSD_60.csv": (good + "1381100400,1,2,3,4,5,6,7\n", "line 3: too many fields"),
    }
    for name, (text, message) in cases.items():
        path = tmp_path / name
        path.write_text(text)
        with pytest.raises(KrakenCsvError, match=message) as info:
            read_ohlcvt(path)
        assert name in str(info.value)
    ok = tmp_path / "XBTUSD_60.csv"
    ok.write_text(good)
    frame = read_ohlcvt(ok)
    assert frame["volume"].to_list() == [10.0, 550.0]
    with pytest.raises(KrakenCsvError, match="not a Kraken OHLCVT file name"):
        parse_ohlcvt_name("bitcoin.csv")
    with pytest.raises(KrakenCsvError, match="no such file"):
        read_ohlcvt(tmp_path / "missing_60.csv")
