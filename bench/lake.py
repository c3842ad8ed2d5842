"""tradecore's lake budgets, timed inside ../shared/bench/lake_peers.py (``--extra bench/lake.py``) on the
same 5M-row lake as the peers, or standalone (``python bench/lake.py --n 5000000``).

Items (``lake.tradecore.*``, median seconds, one ``NAME seconds=<float>`` line each):
  import_kraken_csv      read a Kraken OHLCVT CSV (headerless, seconds) + write it into the lake  (>= 3M rows/s)
  read_kraken_csv        the CSV read alone
  query_month            Lake.scan of one month, collected                                      (<= 20 ms)
  append_day             one-day upsert (half overlapping) rewriting only the tail partition     (<= 0.15 s)
  gap_report             gap report incl. the read, classification and fill advice             (<= 100 ms)
                         (after append_day: the newest partition mixes origins "dump" and "rest")
  coverage               coverage of the whole lake from footers                                (<= 0.2 s)
  trades_to_candles      N trades -> 1m candles                                                 (>= 2M trades/s)
"""

from __future__ import annotations

import os
import shutil
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tradecore_kraken.kraken_csv import read_ohlcvt  # noqa: E402

from tradecore.data.coverage import lake_coverage  # noqa: E402
from tradecore.data.gaps import lake_gap_report  # noqa: E402
from tradecore.data.lake import Lake  # noqa: E402
from tradecore.data.trades import trades_to_candles  # noqa: E402

EX, PAIR, TF = "kraken", "BTC/USD", "1m"


def run(ctx: dict, bench) -> None:
    df: pl.DataFrame = ctx["df"]
    n = ctx["n"]
    scratch = Path(ctx["scratch"])
    csv = scratch / "XBTUSD_1.csv"
    frame = df.rename({"ts": "time"}).with_columns(pl.lit(None, pl.Int64).alias("trades"))
    rng = np.random.default_rng(3)
    frame = frame.with_columns(pl.Series("trades", rng.integers(1, 40, frame.height), dtype=pl.Int64))
    (
        frame.select(pl.col("time").dt.epoch("s"), "open", "high", "low", "close", "volume", "trades").write_csv(
            csv, include_header=False
        )
    )
    lake_dir = scratch / "tradecore_lake"

    def fresh() -> None:
        shutil.rmtree(lake_dir, ignore_errors=True)

    def import_csv() -> int:
        return Lake(lake_dir).write(EX, PAIR, TF, read_ohlcvt(csv), "dump").rows_written

    bench("lake.tradecore.read_kraken_csv", lambda: read_ohlcvt(csv), rows=n)
    bench("lake.tradecore.import_kraken_csv", import_csv, setup=fresh, rows=n)
    lake = Lake(lake_dir)
    import_csv() if not lake.partition_files(EX, PAIR, TF) else None
    on_disk = sum(p.stat().st_size for _, p in lake.partition_files(EX, PAIR, TF))
    print(f"#   tradecore lake: {on_disk / 1e6:.1f} MB on disk for {n} rows", file=sys.stderr)

    m_lo, m_hi = ctx["month"]
    got = lake.scan(EX, PAIR, TF, m_lo, m_hi).collect()
    expected_rows = df.filter((pl.col("ts") >= m_lo) & (pl.col("ts") < m_hi)).height
    assert got.height == expected_rows, (got.height, expected_rows)
    bench("lake.tradecore.query_month", lambda: lake.scan(EX, PAIR, TF, m_lo, m_hi).collect(), rows=got.height)

    last = df["ts"][-1]
    day_start = (last - timedelta(hours=12)).replace(second=0, microsecond=0)
    batch = ctx["make_batch"](df, day_start, 11).rename({"ts": "time"})
    bench("lake.tradecore.append_day", lambda: lake.write(EX, PAIR, TF, batch, "rest"), rows=batch.height)
    stored = lake.scan(EX, PAIR, TF, day_start, day_start + timedelta(days=1)).collect()
    assert stored["close"].to_list() == batch["close"].to_list()

    report = lake_gap_report(lake, EX, PAIR, TF)
    expected_gaps = ctx["expected_gaps"]
    print(
        f"#   tradecore gaps: {len(report.gaps)} found, {len(expected_gaps)} injected "
        f"({report.counts()['missing_gaps']} classified missing)",
        file=sys.stderr,
    )
    bench("lake.tradecore.gap_report", lambda: lake_gap_report(lake, EX, PAIR, TF), rows=n)
    bench("lake.tradecore.coverage", lambda: lake_coverage(lake))

    t0 = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp() * 1000)
    times = np.sort(rng.integers(t0, t0 + n // 10 * 60_000, n))  # ~10 trades per minute
    trades = pl.DataFrame({"time": times, "price": 30_000 + rng.normal(0, 50, n), "volume": rng.exponential(0.1, n)})
    bench("lake.tradecore.trades_to_candles", lambda: trades_to_candles(trades, "1m"), rows=n)


if __name__ == "__main__":
    import argparse
    import statistics
    import tempfile
    import time

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()

    def bench(name, fn, setup=None, rows=None, **_):
        samples = []
        for i in range(args.repeats + 1):
            if setup:
                setup()
            t = time.perf_counter()
            fn()
            if i:
                samples.append(time.perf_counter() - t)
        sec = statistics.median(samples)
        print(f"{name} seconds={sec:.6f}", flush=True)
        if rows:
            print(f"#   {name}: {rows / sec / 1e6:.1f} M rows/s", file=sys.stderr)

    rng = np.random.default_rng(42)
    start = datetime(2016, 1, 1, tzinfo=UTC)
    ts = pl.datetime_range(
        start, start + timedelta(minutes=args.n - 1), "1m", time_unit="ms", time_zone="UTC", eager=True
    )
    keep = rng.random(args.n) > 0.001
    close = 30_000 * np.exp(np.cumsum(rng.normal(0, 6e-4, args.n)))
    df = pl.DataFrame(
        {
            "ts": ts,
            "open": close,
            "high": close * 1.001,
            "low": close * 0.999,
            "close": close,
            "volume": rng.lognormal(0, 1, args.n),
        }
    ).filter(pl.Series(keep))
    month = (datetime(2017, 3, 1, tzinfo=UTC), datetime(2017, 4, 1, tzinfo=UTC))

    def make_batch(frame, day, seed):
        r = np.random.default_rng(seed)
        t = pl.datetime_range(day, day + timedelta(minutes=1439), "1m", time_unit="ms", time_zone="UTC", eager=True)
        base = 31_000.0 + np.cumsum(r.normal(0, 5, 1440))
        return pl.DataFrame(
            {
                "ts": t,
                "open": base,
                "high": base + 3,
                "low": base - 3,
                "close": base + 1,
                "volume": r.lognormal(1, 1, 1440),
            }
        )

    with tempfile.TemporaryDirectory(prefix="tradecore_lake_bench_") as tmp:
        run(dict(df=df, n=df.height, scratch=tmp, month=month, expected_gaps=[], make_batch=make_batch), bench)
    os.environ.get("TMPDIR")
