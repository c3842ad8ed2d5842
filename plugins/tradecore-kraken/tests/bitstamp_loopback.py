"""A loopback Bitstamp REST server: the v2 wire format ccxt.bitstamp reads, seeded candles, faults.

It answers ``GET /api/v2/markets/`` (and the older ``trading-pairs-info/``) with Bitstamp's market
rows, and ``GET /api/v2/ohlc/{pair}/?step=&limit=&start=&end=`` with
``{"data": {"pair": "BTC/USD", "ohlc": [{"timestamp": "...", "open": "...", ...}]}}`` -- every value
a string, timestamps in seconds, ``limit`` capped at 1000, the bar in progress included like the
real API. Candles come from a seeded random walk anchored ``history_s`` before the server started
and extended as the wall clock moves, so two servers with the same seed and anchor agree.

Faults, applied to OHLC requests only: ``script`` maps the n-th OHLC request (1-based) to an HTTP
status (5xx answered with an HTML page like a proxy would, 429 with a plain-text body);
``stuck_after`` makes every OHLC request after that many answer with the previous page again.
"""

from __future__ import annotations

import json
import random
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

OHLC_MAX = 1000
STEPS = (60, 180, 300, 900, 1800, 3600, 7200, 14400, 21600, 43200, 86400, 259200)

#: market_symbol -> (base, quote, start price, description)
MARKETS = {
    "btcusd": ("BTC", "USD", 60_000.0, "Bitcoin / U.S. dollar"),
    "ethusd": ("ETH", "USD", 3_000.0, "Ether / U.S. dollar"),
    "btceur": ("BTC", "EUR", 55_000.0, "Bitcoin / Euro"),
}


def market_rows() -> list[dict[str, Any]]:
    """The ``/api/v2/markets/`` body: one row per spot market, numbers as Bitstamp sends them."""
    return [
        {
            "name": f"{base}/{quote}",
            "market_symbol": sym,
            "base_currency": base,
            "base_decimals": 8,
            "counter_currency": quote,
            "counter_decimals": 0 if base == "BTC" else 1,
            "minimum_order_value": "10",
            "trading": "Enabled",
            "instant_order_counter_decimals": 2,
            "instant_and_market_orders": "Enabled",
            "description": desc,
            "market_type": "SPOT",
        }
        for sym, (base, quote, _, desc) in MARKETS.items()
    ]


class CandleWalk:
    """Seeded OHLCV bars of one (pair, step) from ``anchor_s`` on; bar ``i`` opens at ``anchor_s + i*step``."""

    def __init__(self, seed: int, anchor_s: int, step: int, price: float) -> None:
        self.anchor_s = anchor_s - anchor_s % step
        self.step = step
        self.rng = random.Random(f"{seed}:{step}:{price}")
        self.price = price
        self.bars: list[dict[str, str]] = []
        self.lock = threading.Lock()

    def _extend(self, count: int) -> None:
        while len(self.bars) < count:
            opened = self.price
            path = [opened * (1 + self.rng.gauss(0, 0.0015)) for _ in range(4)]
            close = path[-1]
            high = max(opened, *path) * (1 + abs(self.rng.gauss(0, 0.0004)))
            low = min(opened, *path) * (1 - abs(self.rng.gauss(0, 0.0004)))
            volume = self.rng.lognormvariate(0, 1)
            ts = self.anchor_s + len(self.bars) * self.step
            self.bars.append(
                {
                    "timestamp": str(ts),
                    "open": f"{opened:.2f}",
                    "high": f"{high:.2f}",
                    "low": f"{low:.2f}",
                    "close": f"{close:.2f}",
                    "volume": f"{volume:.8f}",
                }
            )
            self.price = float(f"{close:.2f}")

    def window(self, lo_s: int, hi_s: int) -> list[dict[str, str]]:
        """Bars opening in ``[lo_s, hi_s]`` (seconds, inclusive like Bitstamp's start/end)."""
        lo = max(0, -(-(lo_s - self.anchor_s) // self.step))
        hi = (hi_s - self.anchor_s) // self.step
        if hi < lo:
            return []
        with self.lock:
            self._extend(hi + 1)
            return self.bars[lo : hi + 1]


class BitstampLoopback:
    """``with BitstampLoopback(seed=7) as srv:`` serves on ``srv.url`` (``http://127.0.0.1:PORT``)."""

    def __init__(self, seed: int = 7, history_s: int = 10 * 86400, anchor_s: int | None = None) -> None:
        self.seed = seed
        self.anchor_s = anchor_s if anchor_s is not None else int(time.time()) - history_s
        self.walks: dict[tuple[str, int], CandleWalk] = {}
        self.script: dict[int, int] = {}
        self.stuck_after: int | None = None
        self.ohlc_requests = 0
        self.counts: dict[str, int] = {}
        self.statuses: list[int] = []
        self._last_page: bytes | None = None
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None

    # -- data the tests compare against

    def walk(self, pair: str, step: int) -> CandleWalk:
        with self._lock:
            key = (pair, step)
            if key not in self.walks:
                self.walks[key] = CandleWalk(self.seed, self.anchor_s, step, MARKETS[pair][2])
            return self.walks[key]

    def candles(self, pair: str, step: int, start_s: int, end_s: int) -> list[list[float]]:
        """Bars opening in ``[start_s, end_s)`` as ``[ms, open, high, low, close, volume]`` floats."""
        rows = self.walk(pair, step).window(start_s, end_s - 1)
        return [
            [int(r["timestamp"]) * 1000, *(float(r[k]) for k in ("open", "high", "low", "close", "volume"))]
            for r in rows
        ]

    # -- HTTP

    def ohlc(self, pair: str, query: dict[str, str]) -> tuple[int, bytes, str]:
        if pair not in MARKETS:
            return 404, b"<html><body><h1>Not Found</h1></body></html>", "text/html"
        try:
            step = int(query["step"])
            limit = int(query["limit"])
            start = int(query["start"]) if "start" in query else None
            end = int(query["end"]) if "end" in query else None
        except (KeyError, ValueError):
            body = {"errors": [{"field": "step", "message": "This field is required."}], "code": "API5001"}
            return 400, json.dumps(body).encode(), "application/json"
        if step not in STEPS or not 1 <= limit <= OHLC_MAX:
            body = {"errors": [{"field": "limit", "message": "Invalid limit or step."}], "code": "API5001"}
            return 400, json.dumps(body).encode(), "application/json"
        now = int(time.time())
        hi = min(now, end) if end is not None else now
        if start is not None:
            rows = self.walk(pair, step).window(start, hi)[:limit]
        else:
            rows = self.walk(pair, step).window(hi - limit * step, hi)[-limit:]
        base, quote = MARKETS[pair][:2]
        body = {"data": {"pair": f"{base}/{quote}", "ohlc": rows}}
        return 200, json.dumps(body).encode(), "application/json"

    def handle(self, path: str, query: dict[str, str]) -> tuple[int, bytes, str]:
        if path in ("/api/v2/markets/", "/api/v2/trading-pairs-info/"):
            self._count(path)
            return 200, json.dumps(market_rows()).encode(), "application/json"
        if path.startswith("/api/v2/ohlc/") and path.endswith("/"):
            self._count("ohlc")
            with self._lock:
                self.ohlc_requests += 1
                n = self.ohlc_requests
                fault = self.script.get(n)
                stuck = self.stuck_after is not None and n > self.stuck_after and self._last_page is not None
                last = self._last_page
            if fault:
                if fault == 429:
                    return 429, b"Too Many Requests", "text/plain"
                return fault, f"<html><body><h1>{fault} Bad Gateway</h1></body></html>".encode(), "text/html"
            if stuck:
                return 200, last, "application/json"
            status, body, ctype = self.ohlc(path[len("/api/v2/ohlc/") : -1], query)
            if status == 200:
                with self._lock:
                    self._last_page = body
            return status, body, ctype
        return 404, b"<html><body><h1>Not Found</h1></body></html>", "text/html"

    def _count(self, key: str) -> None:
        with self._lock:
            self.counts[key] = self.counts.get(key, 0) + 1

    def __enter__(self) -> BitstampLoopback:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 -- http.server's name
                parsed = urlparse(self.path)
                query = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
                status, body, ctype = server.handle(parsed.path, query)
                with server._lock:
                    server.statuses.append(status)
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    @property
    def url(self) -> str:
        assert self._httpd is not None
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"
