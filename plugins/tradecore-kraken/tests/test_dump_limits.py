"""Dump imports under caps: ZIP bombs refused at once, large members streamed in bounded memory, and every
import error naming the file."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
import zipfile

import pytest
from tradecore_kraken.dumps import DumpLedger, find_members, import_member
from tradecore_kraken.errors import DumpError
from tradecore_kraken.limits import ImportLimits

from tradecore.api import TradecoreError
from tradecore.testing import run_cli

HOUR_S = 3600


def rows(first_s: int, count: int, step_s: int = 60) -> bytes:
    return "".join(f"{first_s + i * step_s},30000,30010,29990,30005,1.5,12\n" for i in range(count)).encode()


def test_a_zip_bomb_is_refused_before_a_byte_is_inflated(lake, tmp_path):
    bomb = tmp_path / "Kraken_OHLCVT.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf, zf.open("XBTUSD_1.csv", "w") as member:
        zeros = bytes(1 << 20)
        for _ in range(256):  # 256 MiB of zeros, about 250 KiB compressed
            member.write(zeros)
    assert bomb.stat().st_size < 1 << 20
    (member,) = find_members([bomb])
    started = time.monotonic()
    with pytest.raises(
        DumpError, match=r"Kraken_OHLCVT\.zip!XBTUSD_1\.csv: 256\.0 MiB from .* looks like a ZIP bomb.*--max-ratio"
    ):
        import_member(member, lake, DumpLedger(lake.root))
    assert time.monotonic() - started < 1.0
    assert lake.last_time("kraken", "BTC/USD", "1m") is None


def test_the_size_cap_is_configurable_by_option_and_environment(lake, tmp_path, monkeypatch):
    archive = tmp_path / "Kraken_OHLCVT_Q3_2023.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("Q3/XBTUSD_1.csv", rows(1688169600, 40_000))  # ~1.5 MiB
    args = ("kraken", "import-dump", str(archive), "--lake", str(lake.root))
    refused = run_cli(*args, "--max-member-size", "1MiB")
    assert refused.exit_code != 0
    assert "Kraken_OHLCVT_Q3_2023.zip!Q3/XBTUSD_1.csv" in refused.output and "--max-member-size" in refused.output
    assert "Traceback" not in refused.output
    monkeypatch.setenv("TRADECORE_KRAKEN_MAX_MEMBER_SIZE", "1MiB")
    (member,) = find_members([archive])
    with pytest.raises(DumpError, match="over the 1.0 MiB cap"):
        import_member(member, lake, DumpLedger(lake.root))
    monkeypatch.setenv("TRADECORE_KRAKEN_MAX_MEMBER_SIZE", "2MiB")
    assert import_member(member, lake, DumpLedger(lake.root)).rows == 40_000
    assert ImportLimits.from_env("8GiB", 50).max_ratio == 50


def test_a_plain_file_over_the_cap_is_refused(lake, tmp_path):
    big = tmp_path / "XBTUSD_60.csv"
    big.write_bytes(rows(1688169600, 1000, HOUR_S))
    (member,) = find_members([big])
    with pytest.raises(DumpError, match=r"XBTUSD_60\.csv: .* over the 1\.0 KiB cap"):
        import_member(member, lake, DumpLedger(lake.root), limits=ImportLimits(max_bytes=1024))


def test_duplicate_and_unordered_candles_name_the_file_and_line(lake, tmp_path):
    dup = tmp_path / "XBTUSD_60.csv"
    dup.write_bytes(rows(1688169600, 3, HOUR_S) + rows(1688169600 + 2 * HOUR_S, 1, HOUR_S))
    (member,) = find_members([dup])
    with pytest.raises(TradecoreError, match=r"XBTUSD_60\.csv, line 4: time 1688176800 repeats the previous row"):
        import_member(member, lake, DumpLedger(lake.root))
    back = tmp_path / "ETHUSD_60.csv"
    back.write_bytes(rows(1688169600, 3, HOUR_S) + rows(1688169600, 1, HOUR_S))
    (member,) = find_members([back])
    with pytest.raises(TradecoreError, match=r"ETHUSD_60\.csv, line 4: time 1688169600 comes before"):
        import_member(member, lake, DumpLedger(lake.root))


def test_bad_lines_deep_in_a_streamed_file_keep_their_line_number(lake, tmp_path, monkeypatch):
    import tradecore_kraken.dumps as dumps

    monkeypatch.setattr(dumps, "BLOCK_BYTES", 4096)  # many blocks
    bad = tmp_path / "XBTUSD_1.csv"
    bad.write_bytes(rows(1688169600, 5000) + b"1688469600,1,2,oops,1,1,1\n")
    (member,) = find_members([bad])
    with pytest.raises(TradecoreError, match=r"XBTUSD_1\.csv, line 5001: low 'oops' is not a number"):
        import_member(member, lake, DumpLedger(lake.root))


def test_blocks_and_years_tile_the_file_exactly(lake, tmp_path, monkeypatch):
    """Small blocks and flushes: the lake holds every row once, the same as a single read."""
    import tradecore_kraken.dumps as dumps
    from tradecore_kraken.kraken_csv import read_ohlcvt

    monkeypatch.setattr(dumps, "BLOCK_BYTES", 64 << 10)
    monkeypatch.setattr(dumps, "FLUSH_ROWS", 5000)
    path = tmp_path / "XBTUSD_60.csv"
    # three years of hours with a hole across New Year 2023
    body = rows(1640995200, 8700, HOUR_S) + rows(1640995200 + 8800 * HOUR_S, 17_000, HOUR_S)
    path.write_bytes(body)
    (member,) = find_members([path])
    outcome = import_member(member, lake, DumpLedger(lake.root))
    stored = lake.read("kraken", "BTC/USD", "1h").drop("origin")
    assert outcome.rows == stored.height == 25_700
    assert stored.equals(read_ohlcvt(path).with_columns(stored["trades"]))
    assert [p.year for p in lake.partitions("kraken", "BTC/USD", "1h")] == [2022, 2023, 2024]


@pytest.mark.slow
def test_a_large_member_imports_in_memory_well_under_its_size(tmp_path):
    """~360 MB of valid 1-minute rows (Kraken's decimals) in a ZIP: the import's peak memory growth stays under
    half the member's size (it is bounded by a year of candles and a parse block, whatever the file's size)."""
    script = textwrap.dedent(
        """
        import json, resource, sys, zipfile
        from pathlib import Path
        import numpy as np, polars as pl
        from tradecore.api import Lake
        from tradecore_kraken.dumps import DumpLedger, find_members, import_member

        root = Path(sys.argv[1])
        n = 4_500_000  # 1-minute rows, 2015 .. 2023
        t = 1420070400 + np.arange(n, dtype=np.int64) * 60
        rng = np.random.default_rng(1)
        price = 30000 + np.cumsum(rng.normal(0, 5, n))
        volume = rng.exponential(1.0, n)
        frame = pl.DataFrame({"t": t, "o": price, "h": price + 5, "l": price - 5, "c": price, "v": volume, "n": 7})
        csv = root / "XBTUSD_1.csv"
        frame.write_csv(csv, include_header=False, float_precision=5)
        del frame, t, price
        size = csv.stat().st_size
        archive = root / "Kraken_OHLCVT.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
            zf.write(csv, "Kraken_OHLCVT/XBTUSD_1.csv")
        csv.unlink()
        small = root / "small" / "XBTUSD_60.csv"  # warm up every code path first
        small.parent.mkdir()
        small.write_text("".join(f"{1420070400 + i * 3600},1,2,0.5,1.5,3,4\\n" for i in range(100)))
        lake = Lake(root / "lake")
        import_member(next(find_members([small])), lake, DumpLedger(lake.root))
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        outcome = import_member(next(find_members([archive])), lake, DumpLedger(lake.root))
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        print(json.dumps({"size": size, "rows": outcome.rows, "growth": peak - before,
                          "stored": lake.read("kraken", "BTC/USD", "1m").height}))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["rows"] == figures["stored"] == 4_500_000
    assert figures["size"] > 300e6
    assert figures["growth"] < figures["size"] / 2, figures
