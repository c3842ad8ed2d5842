"""A complete-history dump's holes are "no trades": the import covers the file's whole span (in windows that
tile it, across year flushes), so the gap report reads an empty interval between two of its rows as an
interval nobody traded in, and gives no advice to fetch the dump it came from."""

from __future__ import annotations

import json

import pytest
from kraken_helpers import SHARED_KRAKEN
from tradecore_kraken.dumps import DumpLedger, find_members, import_member

from tradecore.testing import run_cli

needs_shared = pytest.mark.skipif(not SHARED_KRAKEN.is_dir(), reason="../shared/data/kraken is absent")
HOUR_S = 3600


def gaps(lake, pair: str, timeframe: str) -> list[dict]:
    result = run_cli("data", "gaps", "-e", "kraken", "-p", pair, "-t", timeframe, "--lake", str(lake.root), "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)["gaps"]


def busy_hours(first_s: int, count: int) -> str:
    return "".join(f"{first_s + i * HOUR_S},30000,30010,29990,30005,12.5,400\n" for i in range(count))


def test_a_long_hole_in_a_busy_dump_across_new_year_is_no_trades(lake, tmp_path, monkeypatch):
    """400 trades an hour around a 30-hour outage that spans New Year, imported in many small flushes."""
    import tradecore_kraken.dumps as dumps

    monkeypatch.setattr(dumps, "FLUSH_ROWS", 100)
    monkeypatch.setattr(dumps, "BLOCK_BYTES", 4096)
    start = 1_703_980_800 - 300 * HOUR_S  # 300 hours before 2023-12-31 00:00
    path = tmp_path / "XBTUSD_60.csv"
    path.write_text(busy_hours(start, 324) + busy_hours(start + 354 * HOUR_S, 400))  # hole: 2024-01-01 00:00 + 30 h
    import_member(next(find_members([path])), lake, DumpLedger(lake.root))
    [gap] = gaps(lake, "BTC/USD", "1h")
    assert (gap["slots"], gap["kind"], gap["fill"]) == (30, "no_trades", None)


@needs_shared
@pytest.mark.shared
def test_the_complete_history_dump_has_no_missing_hours(lake):
    """Kraken's complete-history XBTUSD_60 (2013-10 .. 2020-09): 3,250 holes, every one an hour nobody traded
    (522 of them, 4,078 slots, were called missing with advice to fetch a quarterly dump)."""
    member = next(find_members([SHARED_KRAKEN / "ohlcvt/full_history_to_2020Q3/XBTUSD_60.csv"]))
    import_member(member, lake, DumpLedger(lake.root))
    found = gaps(lake, "BTC/USD", "1h")
    assert (len(found), sum(g["slots"] for g in found)) == (3_250, 10_849)
    assert [g for g in found if g["kind"] != "no_trades"] == []
