"""Kraken's CSV dialect: OHLCVT and trades files read with their row counts, scientific-notation volumes,
and bad files named with their first bad line."""

from __future__ import annotations

import pytest
from kraken_helpers import SHARED_KRAKEN
from tradecore_kraken.kraken_csv import KrakenCsvError, parse_ohlcvt_name, read_ohlcvt, read_trades

needs_shared = pytest.mark.skipif(not SHARED_KRAKEN.is_dir(), reason="../shared/data/kraken is absent")

#: file -> (timeframe, rows, trades) from ../shared/data/kraken/SOURCES.md
OHLCVT_FILES = {
    "ohlcvt/full_history_to_2020Q3/XBTUSD_60.csv": ("1h", 50_378, None),
    "ohlcvt/full_history_to_2020Q3/ETHUSD_60.csv": ("1h", 41_688, None),
    "ohlcvt/full_history_to_2021Q1/XBTUSD_1440.csv": ("1d", 2_722, 33_511_377),
    "ohlcvt/Q1_2023/XBTUSDC_1.csv": ("1m", 56_717, 232_786),
    "ohlcvt/Q3_2023/XBTUSD_15.csv": ("15m", 8_829, 2_135_314),
    "ohlcvt/Q3_2023/ETHUSD_5.csv": ("5m", 26_444, 640_183),
}


@needs_shared
@pytest.mark.shared
@pytest.mark.parametrize("name", sorted(OHLCVT_FILES))
def test_real_ohlcvt_files_read_with_their_rows(name) -> None:
    timeframe, rows, trades = OHLCVT_FILES[name]
    assert parse_ohlcvt_name(name)[1] == timeframe
    frame = read_ohlcvt(SHARED_KRAKEN / name)
    assert frame.height == rows and frame["time"].is_sorted()
    if trades is not None:
        assert frame["trades"].sum() == trades


@needs_shared
@pytest.mark.shared
def test_real_trades_files_keep_identical_rows() -> None:
    for name, rows, distinct in (("full_history/BCHEUR.csv", 148, 147), ("incremental_q2/BCHEUR.csv", 486, 438)):
        trades = read_trades(SHARED_KRAKEN / "trades" / name)
        assert trades.height == rows and trades.unique().height == distinct


@needs_shared
@pytest.mark.shared
def test_scientific_notation_volumes_parse() -> None:
    raw = (SHARED_KRAKEN / "ohlcvt/full_history_to_2020Q3/ETHUSD_60.csv").read_text().splitlines()
    sci = [line for line in raw if "E+" in line.split(",")[5] or "e+" in line.split(",")[5]]
    assert len(sci) == 236
    frame = read_ohlcvt(SHARED_KRAKEN / "ohlcvt/full_history_to_2020Q3/ETHUSD_60.csv")
    by_time = dict(zip(frame["time"].dt.epoch("s").to_list(), frame["volume"].to_list(), strict=True))
    for line in sci[:20]:
        fields = line.split(",")
        assert by_time[int(fields[0])] == float(fields[5])


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
