"""``tradecore data stream`` budgets: closed-candle latency and ingestion throughput (medians over repeats).

latency     the loopback Kraken websocket (v2) plays 20 pairs to the real ccxt.pro.kraken; for every candle
            closed by its pair's next trade: server about to send that frame -> the lake write holding
            the candle has returned (readable). p50 / p99 in ms                             (p99 <= 100 ms)
ingestion   TradeBatches of 20 pairs (50 trades each, a busy market) through the stream loop into closed
            1m candles in the lake, writes included, one core: trades/s                    (>= 50,000/s)
ccxt_parse  for reference: ccxt's own parse of Kraken v2 trade dicts (the websocket client's share)

  python bench/stream.py [--repeats 3] [--minutes 8] [--trades 1000000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), *map(str, ROOT.glob("plugins/*/src"))]

from tradecore_kraken.loopback import PAIRS  # noqa: E402
from tradecore_kraken.params import KrakenParams  # noqa: E402
from tradecore_kraken.source import KrakenSource  # noqa: E402
from tradecore_kraken.ws_loopback import KrakenWsLoopback, ws_symbol  # noqa: E402

from tradecore.api import JobStore, Lake, TradeBatch  # noqa: E402
from tradecore.data.stream import StreamRunner, StreamSettings  # noqa: E402

STEP = 60_000
PAIR_IDS = tuple(list(PAIRS)[:2] + list(PAIRS)[4:22])  # 20 pairs: BTC, ETH and 18 more USD pairs


class TimedLake(Lake):
    """A lake that notes when each stream write (a candle now readable) returned."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.done: dict[tuple[str, int], float] = {}
        self._noting = threading.Lock()

    def replace_window(self, exchange, pair, timeframe, start_ms, end_ms, frame, origin):  # noqa: ANN001
        result = super().replace_window(exchange, pair, timeframe, start_ms, end_ms, frame, origin)
        now = time.perf_counter()
        with self._noting:
            for t in frame["time"].to_list():
                self.done.setdefault((pair, int(t)), now)
        return result


def _runner(source, lake, symbols, catch_up, **settings) -> StreamRunner:  # noqa: ANN001
    jobs = JobStore(lake.root)
    job = jobs.create("stream", {"label": "bench"})
    options = dict(stale_after_s=5.0, close_grace_ms=2000, status_every_s=1.0)
    options.update(settings)
    return StreamRunner(source, StreamSettings("kraken", symbols, "1m", **options), lake, jobs, job, catch_up)


def latency(minutes: int) -> tuple[float, float, int]:
    """p50, p99 (ms) and the sample count of closing frame -> candle readable, 20 pairs on one connection."""
    # 20x real time (a tick of 1 s every 50 ms): a busy but not saturated connection
    server = KrakenWsLoopback(
        pairs=PAIR_IDS, hours=2, trades_per_minute=20, tick_ms=1000, tick_wall_s=0.05, heartbeat_s=1.0, seed=21
    )
    closing: dict[tuple[str, int], float] = {}
    last_bucket: dict[str, int] = {}

    def on_frame(symbol: str, frame: str) -> None:
        first = json.loads(frame)["data"][0]["timestamp"]
        from datetime import datetime

        bucket = int(datetime.fromisoformat(first.replace("Z", "+00:00")).timestamp() * 1000) // STEP * STEP
        previous = last_bucket.get(symbol)
        if previous is not None and bucket > previous:
            closing[(symbol, previous)] = time.perf_counter()  # this frame closes the previous bucket
        last_bucket[symbol] = bucket

    server.on_frame = on_frame
    with server, tempfile.TemporaryDirectory() as scratch:
        lake = TimedLake(Path(scratch) / "lake")
        symbols = [ws_symbol(p) for p in PAIR_IDS]

        def unit(symbol, start_ms=None, end_ms=None):  # noqa: ANN001, ANN202
            from datetime import UTC, datetime

            params = dict(
                symbol=symbol,
                timeframe="1m",
                rate_limit=False,
                api_url=server.rest.url,
                ws_url=server.ws_url,
                backoff_s=0.0,
                timeout_ms=5000,
            )
            if start_ms is not None:
                params["start"] = datetime.fromtimestamp(start_ms / 1000, UTC)
            if end_ms is not None:
                params["end"] = datetime.fromtimestamp(end_ms / 1000, UTC)
            return KrakenSource(KrakenParams(**params))

        runner = _runner(unit(symbols[0]), lake, symbols, unit)

        async def main() -> None:
            stop = asyncio.Event()
            task = asyncio.ensure_future(runner.run(stop))
            while runner.connections == 0:
                await asyncio.sleep(0.05)
            server.play_until(server.rest.start_s + (minutes + 2) * 60)
            while not server.played:
                await asyncio.sleep(0.05)
            await asyncio.sleep(1.0)
            stop.set()
            await task

        asyncio.run(main())
    # from the third bucket on: the start-up catch-up (20 REST fetches in threads) is not the steady state
    warm = {sym: pair.floor + 2 * STEP for sym, pair in runner.pairs.items()}
    samples = [
        (lake.done[(sym, bucket)] - sent) * 1000
        for (sym, bucket), sent in closing.items()
        if (sym, bucket) in lake.done and bucket >= warm[sym]
    ]
    q = np.percentile(samples, [50, 99])
    return float(q[0]), float(q[1]), len(samples)


def ingestion(total: int) -> float:
    """Trades per second through the stream loop into closed candles in the lake (writes awaited)."""
    rng = np.random.default_rng(5)
    symbols = [f"P{i:02d}/USD" for i in range(20)]
    per_batch = 50
    batches_per_pair = total // len(symbols) // per_batch
    span_ms = 10 * STEP  # ten minutes: a busy market, many trades per candle
    times = np.sort(rng.integers(0, span_ms, batches_per_pair * per_batch)).astype(np.int64) + 1_700_000_000_000
    seq = np.arange(times.size, dtype=np.int64)
    price = 100 + np.cumsum(rng.standard_normal(times.size)) * 0.01
    volume = rng.uniform(0.001, 1, times.size)
    batches = [
        TradeBatch(
            sym, seq[a : a + per_batch], times[a : a + per_batch], price[a : a + per_batch], volume[a : a + per_batch]
        )
        for a in range(0, times.size, per_batch)
        for sym in symbols
    ]
    with tempfile.TemporaryDirectory() as scratch:
        lake = Lake(Path(scratch) / "lake")
        runner = _runner(None, lake, symbols, None, status_every_s=3600)

        async def main() -> float:
            runner._connected(int(times[0]) - STEP)
            runner.pending.clear()  # nothing to catch up: no source behind this bench
            start = time.perf_counter()
            for batch in batches:
                runner._take(batch)
            runner._tick()
            await runner._drain_writes()
            return time.perf_counter() - start

        seconds = asyncio.run(main())
        runner._pool.shutdown()
    return len(batches) * per_batch / seconds


def ccxt_parse(n: int = 20_000) -> float:
    import ccxt

    exchange = ccxt.kraken()
    market = {"id": "XXBTZUSD", "symbol": "BTC/USD", "base": "BTC", "quote": "USD", "spot": True}
    row = {
        "symbol": "BTC/USD",
        "side": "sell",
        "price": 30000.1,
        "qty": 0.0123,
        "ord_type": "market",
        "trade_id": 83449369,
        "timestamp": "2025-05-27T11:24:03.847761Z",
    }
    data = [dict(row) for _ in range(n)]
    start = time.perf_counter()
    exchange.parse_trades(data, market)
    return n / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--minutes", type=int, default=8)
    parser.add_argument("--trades", type=int, default=1_000_000)
    args = parser.parse_args()
    lat = [latency(args.minutes) for _ in range(args.repeats)]
    rate = [ingestion(args.trades) for _ in range(args.repeats)]
    parse = [ccxt_parse() for _ in range(args.repeats)]
    print(f"stream.latency_p50_ms={statistics.median(x[0] for x in lat):.1f}")
    print(f"stream.latency_p99_ms={statistics.median(x[1] for x in lat):.1f} (budget <= 100, samples {lat[0][2]})")
    print(f"stream.ingestion_trades_per_s={statistics.median(rate):,.0f} (budget >= 50,000)")
    print(f"stream.ccxt_parse_trades_per_s={statistics.median(parse):,.0f} (ccxt's share, for reference)")


if __name__ == "__main__":
    main()
