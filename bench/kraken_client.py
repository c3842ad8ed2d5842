"""Client-side throughput of the Kraken trades backfill against the loopback server (rate limiter off).

The server runs in its own process so it does not share the client's GIL. Figures (one per line):

    kraken.client.backfill trades_per_s=<float>           pages of 1000 -> candles committed to a fresh lake
    kraken.client.ccxt_fetch_trades_loop trades_per_s=...  reference: ccxt's unified fetch_trades paging loop,
                                                           parsing only (what freqtrade-style downloaders do)

Usage: python bench/kraken_client.py [--hours 48] [--per-minute 300] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime


def backfill_once(url: str, start_s: int) -> tuple[int, float]:
    from tradecore_kraken.params import KrakenParams
    from tradecore_kraken.source import KrakenSource

    from tradecore.data.fetching import Progress
    from tradecore.data.jobs import JobStore
    from tradecore.data.lake import Lake

    with tempfile.TemporaryDirectory() as root:
        lake, jobs = Lake(root), JobStore(root)
        job = jobs.create("fetch", {})
        params = KrakenParams(
            symbol="BTC/USD",
            timeframe="1m",
            method="trades",
            rate_limit=False,
            api_url=url,
            start=datetime.fromtimestamp(start_s, UTC),
        )
        t0 = time.perf_counter()
        result = KrakenSource(params).fetch(lake, jobs, job, Progress(0, 1, enabled=False))
        elapsed = time.perf_counter() - t0
        return int(result.counts["trades"]), elapsed


def ccxt_loop_once(url: str, start_s: int) -> tuple[int, float]:
    import ccxt

    ex = ccxt.kraken({"urls": {"api": {"public": url, "private": url}}, "enableRateLimit": False})
    ex.load_markets()
    t0 = time.perf_counter()
    n, since = 0, str(start_s * 10**9)
    while True:
        trades = ex.fetch_trades("BTC/USD", params={"since": since})
        if not trades:
            break
        n += len(trades)
        since = trades[-1]["info"][-1]
    return n, time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hours", type=float, default=48)
    parser.add_argument("--per-minute", type=float, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    from tradecore_kraken.loopback import KrakenLoopback

    start_s = KrakenLoopback.__init__.__defaults__[0]
    server = subprocess.Popen(
        [sys.executable, "-m", "tradecore_kraken.loopback", str(args.hours), str(args.per_minute)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        url = server.stdout.readline().strip()
        for name, fn in (("backfill", backfill_once), ("ccxt_fetch_trades_loop", ccxt_loop_once)):
            rates = []
            for _ in range(args.repeats):
                n, elapsed = fn(url, start_s)
                rates.append(n / elapsed)
            print(f"kraken.client.{name} trades_per_s={statistics.median(rates):.1f}  (trades={n})", flush=True)
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
