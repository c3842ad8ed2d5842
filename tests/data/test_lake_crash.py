"""Crash safety: a writer SIGKILLed at random moments leaves every partition readable and old or new."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import polars as pl
import pytest

from tests.data.conftest import candles
from tradecore.data.lake import Lake

T0 = 1_672_444_800_000  # 2022-12-31: the frames span two year partitions
HOUR = 3_600_000
ROWS = 24 * 400


def _version(seed: int) -> pl.DataFrame:
    return candles(T0, ROWS, step_ms=HOUR, seed=seed)


WRITER = textwrap.dedent("""
    import sys
    sys.path.insert(0, sys.argv[2])
    from tests.data.conftest import candles
    from tradecore.data.lake import Lake
    lake = Lake(sys.argv[1])
    frames = [candles({t0}, {rows}, step_ms={hour}, seed=s) for s in (1, 2)]
    print("ready", flush=True)
    i = 0
    while True:
        lake.write("kraken", "BTC/USD", "1h", frames[i % 2], "dump")
        i += 1
""")


@pytest.mark.slow
def test_sigkilled_writer_leaves_old_or_new(tmp_path) -> None:
    lake = Lake(tmp_path / "lake")
    versions = {s: Lake(tmp_path / f"v{s}") for s in (1, 2)}
    for seed, ref in versions.items():
        ref.write("kraken", "BTC/USD", "1h", _version(seed), "dump")
    expected = {
        seed: {year: pl.read_parquet(path) for year, path in ref.partition_files("kraken", "BTC/USD", "1h")}
        for seed, ref in versions.items()
    }
    lake.write("kraken", "BTC/USD", "1h", _version(1), "dump")
    script = WRITER.format(t0=T0, rows=ROWS, hour=HOUR)
    rng = random.Random(42)
    seen = set()
    for _ in range(10):
        proc = subprocess.Popen(
            [sys.executable, "-c", script, str(lake.root), os.getcwd()], stdout=subprocess.PIPE, text=True
        )
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.0, 0.4))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        for year, path in lake.partition_files("kraken", "BTC/USD", "1h"):
            stored = pl.read_parquet(path)  # readable, never half-written
            match = [s for s in (1, 2) if stored.equals(expected[s][year])]
            assert match, f"partition {year} is neither version"
            seen.add((year, match[0]))
        assert lake.read("kraken", "BTC/USD", "1h").height == ROWS
    assert len(seen) >= 3  # the kills landed at different moments
    # a later writer is not blocked by a dead one's lock and clears its temp files
    lake.write("kraken", "BTC/USD", "1h", _version(2), "dump")
    assert not list(lake.root.rglob("*.tmp"))
    assert (
        lake.read("kraken", "BTC/USD", "1h")
        .drop("origin")
        .with_columns(pl.col("time").dt.epoch("ms"))
        .equals(_version(2))
    )
