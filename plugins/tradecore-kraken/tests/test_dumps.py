"""Dump import: real Kraken files, ZIP layouts, content-hash no-ops, corrupt and unsafe inputs."""

from __future__ import annotations

import zipfile

import pytest
from kraken_helpers import SHARED_KRAKEN
from tradecore_kraken.dumps import DumpLedger, find_members, import_member
from tradecore_kraken.errors import DumpError
from tradecore_kraken.pairs import altname_to_symbol, symbol_to_altname

needs_shared = pytest.mark.skipif(not SHARED_KRAKEN.is_dir(), reason="../shared/data/kraken is absent")

#: rows per file, from ../shared/data/kraken/SOURCES.md
REAL_FILES = {
    "ohlcvt/full_history_to_2020Q3/XBTUSD_60.csv": ("BTC/USD", "1h", 50_378),
    "ohlcvt/full_history_to_2020Q3/ETHUSD_60.csv": ("ETH/USD", "1h", 41_688),
    "ohlcvt/full_history_to_2021Q1/XBTUSD_1440.csv": ("BTC/USD", "1d", 2_722),
    "ohlcvt/Q1_2023/XBTUSDC_1.csv": ("BTC/USDC", "1m", 56_717),
    "ohlcvt/Q3_2023/XBTUSD_15.csv": ("BTC/USD", "15m", 8_829),
    "ohlcvt/Q3_2023/ETHUSD_5.csv": ("ETH/USD", "5m", 26_444),
}


def test_pair_names_map_both_ways():
    assert altname_to_symbol("XBTUSD") == "BTC/USD"
    assert altname_to_symbol("XBTUSDC") == "BTC/USDC"
    assert altname_to_symbol("XXBTZUSD") == "BTC/USD"
    assert altname_to_symbol("XDGUSD") == "DOGE/USD"
    assert altname_to_symbol("ETHXBT") == "ETH/BTC"
    assert symbol_to_altname("BTC/USDC") == "XBTUSDC"


@needs_shared
@pytest.mark.shared
def test_real_ohlcvt_files_import_with_their_row_counts(lake):
    ledger = DumpLedger(lake.root)
    for rel, (symbol, timeframe, rows) in REAL_FILES.items():
        (member,) = find_members([SHARED_KRAKEN / rel])
        outcome = import_member(member, lake, ledger)
        assert (outcome.status, outcome.pair, outcome.timeframe, outcome.rows) == ("imported", symbol, timeframe, rows)
    assert lake.read("kraken", "BTC/USD", "1h").height == 50_378
    assert lake.read("kraken", "BTC/USDC", "1m")["origin"].unique().to_list() == ["dump"]
    # the same content again is a no-op
    (member,) = find_members([SHARED_KRAKEN / "ohlcvt/Q3_2023/XBTUSD_15.csv"])
    assert import_member(member, lake, ledger).status == "skipped"


@needs_shared
@pytest.mark.shared
def test_kraken_zip_layout_nested_members_and_hash_no_op(lake, tmp_path):
    archive = tmp_path / "Kraken_OHLCVT_Q3_2023.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(SHARED_KRAKEN / "ohlcvt/Q3_2023/XBTUSD_15.csv", "Kraken_OHLCVT_Q3_2023/XBTUSD_15.csv")
        zf.write(SHARED_KRAKEN / "ohlcvt/Q3_2023/ETHUSD_5.csv", "master_q3/deeper/ETHUSD_5.csv")
        zf.writestr("README.txt", "not a dump file")
    members = list(find_members([archive]))
    assert sorted(m.altname for m in members) == ["ETHUSD", "XBTUSD"]
    ledger = DumpLedger(lake.root)
    assert [import_member(m, lake, ledger).status for m in members] == ["imported", "imported"]
    # the plain CSV holds the same bytes as the ZIP member: recognised by content, not by name
    (plain,) = find_members([SHARED_KRAKEN / "ohlcvt/Q3_2023/XBTUSD_15.csv"])
    assert import_member(plain, lake, ledger).status == "skipped"
    assert lake.read("kraken", "ETH/USD", "5m").height == 26_444


def test_truncated_csv_names_file_and_line(lake, tmp_path):
    bad = tmp_path / "XBTUSD_60.csv"
    bad.write_text("1688169600,30000,30010,29990,30005,1.5,12\n1688173200,30005,30020,29995\n")
    (member,) = find_members([bad])
    with pytest.raises(Exception, match=r"XBTUSD_60\.csv, line 2: truncated"):
        import_member(member, lake, DumpLedger(lake.root))
    assert lake.last_time("kraken", "BTC/USD", "1h") is None  # nothing half-written


def test_corrupt_zip_and_escaping_member_are_refused(lake, tmp_path):
    broken = tmp_path / "Kraken_OHLCVT.zip"
    broken.write_bytes(b"PK\x03\x04 this is not really a zip")
    with pytest.raises(DumpError, match="not a readable ZIP"):
        list(find_members([broken]))
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("../../XBTUSD_60.csv", "1688169600,1,1,1,1,1,1\n")
    with pytest.raises(DumpError, match="escapes the archive"):
        list(find_members([evil]))
    truncated = tmp_path / "Kraken_OHLCVT_Q1_2024.zip"
    with zipfile.ZipFile(truncated, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("XBTUSD_60.csv", "".join(f"{1688169600 + i * 3600},1,2,0.5,1.5,3,4\n" for i in range(5000)))
    data = truncated.read_bytes()
    # keep the central directory but damage the compressed member
    damaged = data[:200] + bytes(b ^ 0xFF for b in data[200:400]) + data[400:]
    truncated.write_bytes(damaged)
    (member,) = find_members([truncated])
    with pytest.raises(DumpError, match=r"Kraken_OHLCVT_Q1_2024\.zip!XBTUSD_60\.csv: the ZIP member is corrupt"):
        import_member(member, lake, DumpLedger(lake.root))


def test_misnamed_file_is_refused(tmp_path):
    odd = tmp_path / "btc-hourly.csv"
    odd.write_text("1,2,3\n")
    with pytest.raises(DumpError, match="<ALTNAME>_<minutes>.csv"):
        list(find_members([odd]))


@needs_shared
@pytest.mark.shared
def test_trades_csv_rebuild_keeps_every_identical_trade():
    from tradecore_kraken.kraken_csv import read_trades

    from tradecore.api import candles_from_trades

    for rel, rows in (("trades/full_history/BCHEUR.csv", 148), ("trades/incremental_q2/BCHEUR.csv", 486)):
        trades = read_trades(SHARED_KRAKEN / rel)
        assert trades.height == rows
        candles = candles_from_trades(
            trades["time"].to_numpy(), trades["price"].to_numpy(), trades["volume"].to_numpy(), 60_000
        )
        assert candles["trades"].sum() == rows  # freqtrade's importer would keep 340 of the 634
        assert abs(candles["volume"].sum() - trades["volume"].sum()) < 1e-9


@needs_shared
@pytest.mark.shared
def test_dump_method_plans_the_dump_and_refuses_what_it_lacks(lake):
    from tradecore_kraken.errors import OutOfReach
    from tradecore_kraken.params import KrakenParams
    from tradecore_kraken.source import KrakenSource

    path = str(SHARED_KRAKEN / "ohlcvt/Q3_2023/XBTUSD_15.csv")
    steps = KrakenSource(KrakenParams(timeframe="15m", method="dump", dumps=[path])).plan(lake)
    assert [s.method for s in steps] == ["dump"]
    with pytest.raises(OutOfReach, match=r"get XBTUSD_15\.csv from Kraken_OHLCVT_Q4_2023\.zip"):
        KrakenSource(
            KrakenParams(timeframe="15m", method="dump", dumps=[path], start="2023-07-01", end="2023-11-01")
        ).plan(lake)
