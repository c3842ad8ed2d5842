"""Kraken's exchange facts: the gap report's fill advice names the REST reach, the trades history and the
dump file and archive to get, through ``tradecore data gaps`` as users run it."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
from tradecore_kraken.facts import KRAKEN_FACTS
from tradecore_kraken.source import KrakenSource

from tradecore.api import Lake
from tradecore.testing import run_cli

T0 = 1_577_836_800_000  # 2020-01-01
MIN = 60_000
NOW = 1_800_000_000_000


def test_old_hole_is_filled_from_the_quarterly_dump() -> None:
    options = KRAKEN_FACTS.fill_options("BTC/USD", "1m", T0 + 500 * MIN, T0 + 530 * MIN, now_ms=NOW, trades_per_slot=25)
    assert options["rest"]["ok"] is False and "newest 720 candles" in options["rest"]["detail"]
    assert options["trades"] == {
        "ok": True,
        "detail": "trades history reaches everything; rebuilt into candles",
        "calls": 1,
        "seconds": 1.2,
    }
    assert options["dump"] == {
        "ok": True,
        "archive": "Kraken_OHLCVT_Q1_2020.zip",
        "file": "XBTUSD_1.csv",
        "detail": "XBTUSD_1.csv inside Kraken_OHLCVT_Q1_2020.zip",
    }
    assert options["recommended"] == "dump"


def test_dump_advice_resamples_spans_quarters_and_recent_holes_take_rest() -> None:
    old = KRAKEN_FACTS.fill_options("BTC/USD", "2w", T0, T0 + 120 * 86_400_000, now_ms=NOW)
    assert old["dump"]["file"] == "XBTUSD_1440.csv" and "resample 1440m to 2w" in old["dump"]["detail"]
    assert old["dump"]["archive"] == "Kraken_OHLCVT.zip"  # two quarters: the complete history
    assert KRAKEN_FACTS.fill_options("DOGE/USD", "1h", T0, T0 + MIN, now_ms=NOW)["dump"]["file"] == "XDGUSD_60.csv"
    recent = KRAKEN_FACTS.fill_options("ETH/USD", "1m", NOW - 300 * MIN, NOW - 290 * MIN, now_ms=NOW)
    assert recent["rest"]["ok"] is True and recent["recommended"] == "rest"
    assert KrakenSource.exchange_facts("kraken") is KRAKEN_FACTS
    # dumps and REST windows (bars with no trade dropped) are complete history, as trades rebuilt are
    assert set(KRAKEN_FACTS.complete_origins) == {"dump", "rest", "trades-rebuild", "stream"}


def test_gaps_command_advises_the_kraken_dump(tmp_path) -> None:
    keep = np.ones(2000, bool)
    keep[500:530] = False  # ~25 trades a minute, then 30 empty minutes: missing data
    rng = np.random.default_rng(0)
    close = 7000 + np.cumsum(rng.normal(0, 1, 2000))
    frame = pl.DataFrame(
        {
            "time": T0 + np.arange(2000, dtype=np.int64) * MIN,
            "open": close,
            "high": close + 1,
            "low": close - 1,
            "close": close,
            "volume": rng.uniform(0.1, 5, 2000),
            "trades": rng.integers(1, 50, 2000),
        }
    ).filter(pl.Series(keep))
    # two quarterly files imported apart: the hole between them is no file's, so it is missing data
    lake = Lake(tmp_path)
    lake.write("kraken", "BTC/USD", "1m", frame.filter(pl.col("time") < T0 + 500 * MIN), "dump")
    lake.write("kraken", "BTC/USD", "1m", frame.filter(pl.col("time") >= T0 + 530 * MIN), "dump")
    args = ("data", "gaps", "-e", "kraken", "-p", "BTC/USD", "-t", "1m", "--lake", str(tmp_path))
    result = run_cli(*args, "--json")
    assert result.exit_code == 0, result.output
    [gap] = json.loads(result.output)["gaps"]
    assert (gap["kind"], gap["slots"]) == ("missing", 30)
    assert gap["fill"]["recommended"] == "dump" and gap["fill"]["dump"]["file"] == "XBTUSD_1.csv"
    table = run_cli(*args).output
    assert "dump: XBTUSD_1.csv inside Kraken_OHLCVT_Q1_2020.zip" in table
