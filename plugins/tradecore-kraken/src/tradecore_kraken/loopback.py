"""A loopback Kraken REST server for tests and benchmarks: real wire format, seeded trades, faults.

It speaks ``/0/public/{Time,Assets,AssetPairs,OHLC,Trades}`` the way api.kraken.com does (the
``{"error": [...], "result": {...}}`` envelope, results keyed by pair id, prices as strings, the
Trades ``last`` cursor as a 19-digit nanosecond string, the 720-candle OHLC cap with the candle in
progress last), so the real ``ccxt.kraken`` class can be pointed at it::

    with KrakenLoopback(start_s=1_700_000_000, hours=6) as server:
        exchange = ccxt.kraken({"urls": {"api": {"public": server.url, "private": server.url}}})

Trades come from a seeded process (bursts, same-second identical rows, quiet stretches), so two
servers with the same seed serve the same history. :class:`Faults` injects 429s, 5xx, Kraken
error envelopes, timeouts, malformed JSON, repeated pages and a cursor that stops advancing.
"""

from __future__ import annotations

import json
import random
import threading
import time
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import numpy as np

OHLC_LIMIT = 720
TRADES_PAGE_MAX = 1000
OHLC_INTERVALS = (1, 5, 15, 30, 60, 240, 1440, 10080, 21600)

#: pair id -> (altname, wsname, base asset, quote asset, start price)
PAIRS: dict[str, tuple[str, str, str, str, float]] = {
    "XXBTZUSD": ("XBTUSD", "XBT/USD", "XXBT", "ZUSD", 30_000.0),
    "XETHZUSD": ("ETHUSD", "ETH/USD", "XETH", "ZUSD", 1_900.0),
    "XBTUSDC": ("XBTUSDC", "XBT/USDC", "XXBT", "USDC", 30_000.0),
    "BCHEUR": ("BCHEUR", "BCH/EUR", "BCH", "ZEUR", 100.0),
}
#: more USD pairs (pair id == altname, as for Kraken's newer pairs) for many-pair streaming benchmarks
for _base, _price in (
    ("SOL", 20.0),
    ("ADA", 0.3),
    ("DOT", 5.0),
    ("LINK", 6.0),
    ("LTC", 90.0),
    ("XRP", 0.5),
    ("DOGE", 0.07),
    ("AVAX", 14.0),
    ("ATOM", 9.0),
    ("UNI", 5.0),
    ("XLM", 0.1),
    ("ALGO", 0.1),
    ("FIL", 4.0),
    ("AAVE", 60.0),
    ("MATIC", 0.7),
    ("TRX", 0.08),
):
    PAIRS[f"{_base}USD"] = (f"{_base}USD", f"{_base}/USD", _base, "ZUSD", _price)
ASSETS = {
    "XXBT": ("XBT", 10),
    "XETH": ("ETH", 10),
    "BCH": ("BCH", 10),
    "ZUSD": ("USD", 4),
    "ZEUR": ("EUR", 4),
    "USDC": ("USDC", 8),
    **{
        base: (base, 10)
        for base in (
            "SOL",
            "ADA",
            "DOT",
            "LINK",
            "LTC",
            "XRP",
            "DOGE",
            "AVAX",
            "ATOM",
            "UNI",
            "XLM",
            "ALGO",
            "FIL",
            "AAVE",
            "MATIC",
            "TRX",
        )
    },
}

#: fault kinds the server can inject into OHLC and Trades responses
FAULT_KINDS = ("http429", "http502", "http503", "rate_limit", "unavailable", "timeout", "malformed", "repeat")


@dataclass
class Faults:
    """What to break. ``rate`` is the chance that one OHLC/Trades request fails with one of ``kinds``.

    ``stall_after`` makes the Trades cursor stop advancing for good once that many trades have been
    served past it (the page at that cursor repeats forever). ``timeout_s`` is how long a
    ``timeout`` fault stalls before answering (set it above the client's timeout).
    """

    rate: float = 0.0
    kinds: tuple[str, ...] = FAULT_KINDS
    seed: int = 0
    timeout_s: float = 0.5
    stall_after: int | None = None
    injected: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()

    def draw(self) -> str | None:
        with self._lock:
            if self.rate <= 0 or self._rng.random() >= self.rate:
                return None
            kind = self._rng.choice(self.kinds)
            self.injected[kind] = self.injected.get(kind, 0) + 1
            return kind


class TradeTape:
    """One pair's seeded trade history: strictly increasing ns times, price, volume, side, type."""

    def __init__(self, seed: int, start_s: int, end_s: int, price: float, per_minute: float) -> None:
        rng = np.random.default_rng(seed)
        span_ns = (end_s - start_s) * 1_000_000_000
        expected = max(16, int(per_minute * (end_s - start_s) / 60 * 1.3))
        # activity varies by hour and some hours are silent, so candles go missing for real
        hours = (end_s - start_s) // 3600 + 1
        activity = rng.lognormal(0.0, 0.8, size=hours) * (rng.random(hours) > 0.08)
        gaps = rng.exponential(60e9 / max(per_minute, 1e-9), size=expected)
        burst = rng.random(expected) < 0.3  # bursts: many trades in one second
        gaps[burst] = rng.integers(1_000, 50_000_000, size=int(burst.sum()))
        offsets = np.cumsum(np.maximum(gaps, 1_000).astype(np.int64) // 1_000 * 1_000)  # µs resolution
        offsets = offsets[offsets < span_ns]
        hour_index = (offsets // 3_600_000_000_000).astype(np.int64)
        keep = rng.random(offsets.size) < np.minimum(activity[hour_index], 1.0)
        offsets = offsets[keep]
        n = offsets.size
        self.time_ns = start_s * 1_000_000_000 + offsets
        steps = rng.standard_normal(n) * 0.0004
        self.price = np.round(price * np.exp(np.cumsum(steps)), 1)
        self.volume = np.round(rng.lognormal(-3.0, 1.5, size=n), 8)
        # identical same-second rows are real on Kraken: repeat some rows' price and volume
        same = np.flatnonzero(rng.random(n) < 0.05)
        same = same[same > 0]
        self.price[same] = self.price[same - 1]
        self.volume[same] = self.volume[same - 1]
        self.side = np.where(rng.random(n) < 0.5, "b", "s")
        self.kind = np.where(rng.random(n) < 0.7, "l", "m")
        self.trade_id = np.arange(1, n + 1, dtype=np.int64) + 60_000_000
        self._rows: list[str] | None = None

    def __len__(self) -> int:
        return int(self.time_ns.size)

    def rows(self) -> list[str]:
        """Each trade pre-rendered as Kraken's JSON array (the server just joins slices)."""
        if self._rows is None:
            secs = self.time_ns // 1_000_000_000
            micros = (self.time_ns % 1_000_000_000) // 1_000
            self._rows = [
                f'["{p:.5f}","{v:.8f}",{s}.{u:06d},"{sd}","{k}","",{i}]'
                for p, v, s, u, sd, k, i in zip(
                    self.price.tolist(),
                    self.volume.tolist(),
                    secs.tolist(),
                    micros.tolist(),
                    self.side.tolist(),
                    self.kind.tolist(),
                    self.trade_id.tolist(),
                    strict=True,
                )
            ]
        return self._rows


def _render_decimal(value: float, places: int) -> str:
    return f"{value:.{places}f}"


class KrakenLoopback:
    """The server: start it (or use it as a context manager), point ccxt at :attr:`url`."""

    def __init__(
        self,
        start_s: int = 1_688_169_600,
        hours: float = 24,
        seed: int = 7,
        trades_per_minute: float = 20.0,
        pairs: tuple[str, ...] = ("XXBTZUSD", "XETHZUSD"),
        faults: Faults | None = None,
        now_s: int | None = None,
        port: int = 0,
    ) -> None:
        self.start_s = start_s
        self.end_s = start_s + int(hours * 3600)
        #: the server clock; trades exist only before it (default: the end of the generated tape)
        self.now_s = now_s if now_s is not None else self.end_s
        self.faults = faults or Faults()
        self.tapes = {
            pid: TradeTape(seed + i, start_s, self.end_s, PAIRS[pid][4], trades_per_minute)
            for i, pid in enumerate(pairs)
        }
        self.requests: list[str] = []
        self.counts: dict[str, int] = {}
        self._lock = threading.Lock()
        handler = type("Handler", (_Handler,), {"server_state": self})
        self._httpd = _QuietServer(("127.0.0.1", port), handler)
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> KrakenLoopback:
        for tape in self.tapes.values():
            tape.rows()
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True, name="kraken-loopback")
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> KrakenLoopback:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def serve_forever(self) -> None:
        """Serve in the calling thread (for a server in its own process)."""
        for tape in self.tapes.values():
            tape.rows()
        self._httpd.serve_forever()

    # ---- what the real exchange would answer -------------------------------------------------

    def pair_id(self, name: str) -> str | None:
        for pid, (alt, ws, *_rest) in PAIRS.items():
            if pid in self.tapes and name in (pid, alt, ws):
                return pid
        return None

    def visible(self, tape: TradeTape) -> int:
        """How many trades exist by the server clock."""
        return int(np.searchsorted(tape.time_ns, self.now_s * 1_000_000_000, side="left"))

    def trades_page(self, pid: str, since: str | None, count: int) -> tuple[int, int, str]:
        """(first index, end index, last cursor) of the Trades page for ``since`` (exclusive)."""
        tape = self.tapes[pid]
        limit = self.visible(tape)
        if since is None:
            lo = max(0, limit - count)
        else:
            cursor_ns = int(since) * 1_000_000_000 if len(since) <= 10 else int(since)
            lo = int(np.searchsorted(tape.time_ns[:limit], cursor_ns, side="right"))
        hi = min(limit, lo + count)
        last = str(int(tape.time_ns[hi - 1])) if hi > lo else (since or str(self.now_s * 1_000_000_000))
        return lo, hi, last

    def ohlc(self, pid: str, interval_min: int, since: int | None) -> dict[str, Any]:
        tape = self.tapes[pid]
        limit = self.visible(tape)
        step = interval_min * 60
        newest = self.now_s - self.now_s % step  # the candle in progress
        first = newest - (OHLC_LIMIT - 1) * step
        secs = tape.time_ns[:limit] // 1_000_000_000
        lo = int(np.searchsorted(secs, first, side="left"))
        bucket = (secs[lo:] // step) * step
        prices, volumes = tape.price[lo:limit], tape.volume[lo:limit]
        rows = []
        prev_close = float(tape.price[lo - 1]) if lo > 0 else float(tape.price[0]) if limit else 0.0
        starts = np.searchsorted(bucket, np.arange(first, newest + step, step), side="left")
        ends = np.append(starts[1:], bucket.size)
        for k, t in enumerate(range(first, newest + step, step)):
            a, b = int(starts[k]), int(ends[k])
            if b > a:
                p, v = prices[a:b], volumes[a:b]
                vol = float(v.sum())
                vwap = float((p * v).sum() / vol) if vol > 0 else float(p[-1])
                o, h, lo_, c, n = float(p[0]), float(p.max()), float(p.min()), float(p[-1]), b - a
                prev_close = c
            else:  # Kraken's REST OHLC fills empty intervals with the previous close and zero volume
                o = h = lo_ = c = vwap = prev_close
                vol, n = 0.0, 0
            if since is not None and t <= since:
                continue
            rows.append(
                [
                    t,
                    _render_decimal(o, 1),
                    _render_decimal(h, 1),
                    _render_decimal(lo_, 1),
                    _render_decimal(c, 1),
                    _render_decimal(vwap, 1),
                    _render_decimal(vol, 8),
                    n,
                ]
            )
        return {pid: rows, "last": newest - step}


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:  # a client gave up (timeout fault)
        pass


class _Handler(BaseHTTPRequestHandler):
    server_state: KrakenLoopback
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _send(self, status: int, body: str, content_type: str = "application/json") -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _ok(self, result: Any) -> None:
        self._send(200, json.dumps({"error": [], "result": result}, separators=(",", ":")))

    def _error(self, *messages: str) -> None:
        self._send(200, json.dumps({"error": list(messages)}))

    def do_POST(self) -> None:  # private endpoints are not served
        self._error("EGeneral:Permission denied")

    def do_GET(self) -> None:
        state = self.server_state
        url = urlparse(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        method = url.path.rsplit("/", 1)[-1]
        with state._lock:
            state.requests.append(self.path)
            state.counts[method] = state.counts.get(method, 0) + 1
        if not url.path.startswith("/0/public/"):
            self._send(404, "<html><body>404 Not Found</body></html>", "text/html")
            return
        if method == "Time":
            self._ok({"unixtime": state.now_s, "rfc1123": formatdate(state.now_s, usegmt=True)})
        elif method == "Assets":
            self._ok(
                {
                    code: {
                        "aclass": "currency",
                        "altname": alt,
                        "decimals": dec,
                        "display_decimals": min(dec, 5),
                        "status": "enabled",
                    }
                    for code, (alt, dec) in ASSETS.items()
                }
            )
        elif method == "AssetPairs":
            self._ok({pid: _asset_pair(pid) for pid in state.tapes})
        elif method in ("OHLC", "Trades"):
            self._market_data(method, query)
        else:
            self._error("EGeneral:Unknown method")

    def _market_data(self, method: str, query: dict[str, str]) -> None:
        state = self.server_state
        fault = state.faults.draw()
        if fault and self._inject(fault, method, query):
            return
        pid = state.pair_id(query.get("pair", ""))
        if pid is None:
            self._error("EQuery:Unknown asset pair")
            return
        if method == "OHLC":
            try:
                interval = int(query.get("interval", "1"))
                since = int(query["since"]) if "since" in query else None
            except ValueError:
                self._error("EGeneral:Invalid arguments")
                return
            if interval not in OHLC_INTERVALS:
                self._error("EGeneral:Invalid arguments")
                return
            self._ok(state.ohlc(pid, interval, since))
            return
        since = query.get("since")
        try:
            count = int(query.get("count", TRADES_PAGE_MAX))
            if since is not None and not since.isdigit():
                raise ValueError(since)
        except ValueError:
            self._error("EGeneral:Invalid arguments")
            return
        count = max(1, min(count, TRADES_PAGE_MAX))
        stall = state.faults.stall_after
        tape = state.tapes[pid]
        if stall is not None and since is not None and len(since) > 10 and 0 < stall < len(tape):
            stall_ns = int(tape.time_ns[stall - 1])
            if int(since) >= stall_ns:  # the cursor never moves past here: the same page forever
                self._trades_body(pid, max(0, stall - count), stall, str(stall_ns))
                return
        lo, hi, last = state.trades_page(pid, since, count)
        self._trades_body(pid, lo, hi, last)

    def _trades_body(self, pid: str, lo: int, hi: int, last: str) -> None:
        rows = self.server_state.tapes[pid].rows()[lo:hi]
        self._send(200, '{"error":[],"result":{"' + pid + '":[' + ",".join(rows) + '],"last":"' + last + '"}}')

    def _inject(self, fault: str, method: str, query: dict[str, str]) -> bool:
        state = self.server_state
        if fault == "http429":
            self._send(429, "Too Many Requests", "text/plain")
        elif fault == "http502":
            self._send(502, "<html><body>502 Bad Gateway</body></html>", "text/html")
        elif fault == "http503":
            self._send(503, "<html><body>503 Service Temporarily Unavailable</body></html>", "text/html")
        elif fault == "rate_limit":
            self._error("EAPI:Rate limit exceeded")
        elif fault == "unavailable":
            self._error("EService:Unavailable")
        elif fault == "timeout":
            time.sleep(state.faults.timeout_s)
            self._error("EService:Busy")
        elif fault == "malformed":
            self._send(200, '{"error":[],"result":{"XXBTZUSD":[["30243.4","0.345",16886')
        elif fault == "repeat" and method == "Trades" and "since" in query and len(query["since"]) > 10:
            # the previous page again: rows at or before the cursor, and a cursor that did not move
            pid = state.pair_id(query.get("pair", ""))
            if pid is None:
                return False
            tape = state.tapes[pid]
            hi = int(np.searchsorted(tape.time_ns, int(query["since"]), side="right"))
            lo = max(0, hi - TRADES_PAGE_MAX)
            self._trades_body(pid, lo, hi, query["since"])
        else:
            return False
        return True


def _asset_pair(pid: str) -> dict[str, Any]:
    alt, ws, base, quote, _price = PAIRS[pid]
    return {
        "altname": alt,
        "wsname": ws,
        "aclass_base": "currency",
        "base": base,
        "aclass_quote": "currency",
        "quote": quote,
        "lot": "unit",
        "cost_decimals": 5,
        "pair_decimals": 1,
        "lot_decimals": 8,
        "lot_multiplier": 1,
        "leverage_buy": [2, 3],
        "leverage_sell": [2, 3],
        "fees": [[0, 0.26], [50000, 0.24]],
        "fees_maker": [[0, 0.16], [50000, 0.14]],
        "fee_volume_currency": "ZUSD",
        "margin_call": 80,
        "margin_stop": 40,
        "ordermin": "0.0001",
        "costmin": "0.5",
        "tick_size": "0.1",
        "status": "online",
    }


def serve_main() -> None:  # pragma: no cover - used by the benchmark's server process
    """``python -m tradecore_kraken.loopback HOURS PER_MINUTE`` serves until killed; prints the URL."""
    import sys

    hours = float(sys.argv[1]) if len(sys.argv) > 1 else 24
    per_minute = float(sys.argv[2]) if len(sys.argv) > 2 else 20
    server = KrakenLoopback(hours=hours, trades_per_minute=per_minute)
    print(server.url, flush=True)
    server.serve_forever()


if __name__ == "__main__":  # pragma: no cover
    serve_main()
