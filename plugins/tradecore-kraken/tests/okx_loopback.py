"""A loopback OKX server (public API v5, REST and websocket) for the generic ccxt source's streaming tests.

Websocket, ``/ws/v5/public``, as ``ccxt.pro.okx`` speaks it: ``{"op": "subscribe", "args": [{"channel":
"trades", "instId": "BTC-USDT"}]}`` answered by one ``{"event": "subscribe", "arg": {...}, "connId": ...}`` per
argument (an unknown instrument: ``{"event": "error", "code": "60018", ...}``); pushes ``{"arg": {...},
"data": [{"instId", "tradeId", "px", "sz", "side", "ts", "count"}]}`` with every value a string; the text
frame ``ping`` answered by ``pong`` (OKX has no protocol-level ping and sends no heartbeats).

REST, what ``ccxt.okx`` needs to load markets and page candles: ``/api/v5/public/time``,
``/api/v5/public/instruments?instType=``, ``/api/v5/market/candles`` and ``/history-candles``
(``bar``, ``limit`` up to 300, ``after``/``before`` exclusive bounds, newest first, rows ``[ts, o, h, l, c,
vol, volCcy, volCcyQuote, confirm]`` with the bar in progress ``confirm="0"``), in the ``{"code": "0",
"msg": "", "data": [...]}`` envelope.

Trades come from seeded tapes (the Kraken loopback's :class:`TradeTape`, ms timestamps); the server plays
them in ticks of simulated time (``play_until``), and REST sees exactly what was played. ``faults``
(:class:`~tradecore_kraken.ws_loopback.WsFaults`): ``drop`` cuts the socket, ``stall`` silences the
connection (no trades, no pongs) for ``stall_s``.
"""

from __future__ import annotations

import asyncio
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import numpy as np
from tradecore_kraken.loopback import TradeTape
from tradecore_kraken.ws_loopback import WsFaults

#: instId -> start price
INSTRUMENTS = {"BTC-USDT": 30_000.0, "ETH-USDT": 1_900.0}
BARS = {"1m": 60_000, "5m": 300_000, "15m": 900_000, "1H": 3_600_000}
CANDLES_MAX = 300
RECENT_BARS = 1440  # /market/candles serves only the newest 1440 bars; older ones are history-candles


def _text(value: float) -> str:
    return repr(float(value))  # shortest exact form: ccxt parses it back to the same float


class _Connection:
    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.trades: set[str] = set()
        self.silent_until = 0.0


class OkxLoopback:
    """``with OkxLoopback() as srv:`` serves REST on ``srv.url`` and the websocket on ``srv.ws_url``."""

    def __init__(
        self,
        start_s: int = 1_688_169_600,
        hours: float = 2,
        seed: int = 7,
        trades_per_minute: float = 30.0,
        faults: WsFaults | None = None,
        tick_ms: int = 10_000,
        tick_wall_s: float = 0.002,
    ) -> None:
        self.start_s = start_s
        end_s = start_s + int(hours * 3600)
        self.tapes = {
            inst: TradeTape(seed + i, start_s, end_s, price, trades_per_minute)
            for i, (inst, price) in enumerate(INSTRUMENTS.items())
        }
        self.symbols = {inst.replace("-", "/"): inst for inst in INSTRUMENTS}
        self.faults = faults or WsFaults()
        self.tick_ms, self.tick_wall_s = tick_ms, tick_wall_s
        self.clock_ms = start_s * 1000  # trades before it are published
        self.target_ms = self.clock_ms
        self.cursor = dict.fromkeys(self.tapes, 0)
        self.connections: set[_Connection] = set()
        self.connects = 0
        self.pings = 0
        self.requests: dict[str, int] = {}
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._port = 0
        self._ws_thread: threading.Thread | None = None
        self._httpd: ThreadingHTTPServer | None = None

    # ---- control (any thread) ------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._httpd is not None
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self._port}"

    def play_until(self, seconds: int) -> None:
        """Publish the tapes up to ``seconds`` (epoch s, exclusive), one tick per ``tick_wall_s``."""
        self.target_ms = max(self.target_ms, seconds * 1000)

    @property
    def played(self) -> bool:
        return self.clock_ms >= self.target_ms

    def published(self, inst: str, until_ms: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(time_ms, price, volume) of the trades of ``inst`` before ``until_ms`` (epoch ms), in tape order."""
        tape = self.tapes[inst]
        time_ms = tape.time_ns // 1_000_000
        n = int(np.searchsorted(time_ms, until_ms, side="left"))
        return time_ms[:n], tape.price[:n], tape.volume[:n]

    def __enter__(self) -> OkxLoopback:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 -- http.server's name
                parsed = urlparse(self.path)
                query = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
                body = json.dumps(server.rest(parsed.path, query)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True).start()
        self._ws_thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True, name="okx-ws")
        self._ws_thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the OKX websocket loopback did not start")
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._ws_thread is not None:
            self._ws_thread.join(10)
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    # ---- REST ----------------------------------------------------------------------------------

    def rest(self, path: str, query: dict[str, str]) -> dict[str, Any]:
        with self._lock:
            self.requests[path] = self.requests.get(path, 0) + 1
        if path == "/api/v5/public/time":
            return _ok([{"ts": str(self.clock_ms)}])
        if path == "/api/v5/public/instruments":
            return _ok(_instruments() if query.get("instType") == "SPOT" else [])
        if path in ("/api/v5/market/candles", "/api/v5/market/history-candles"):
            inst, bar = query.get("instId"), query.get("bar", "1m")
            if inst not in self.tapes:
                return _error("51001", "Instrument ID does not exist")
            if bar not in BARS:
                return _error("51000", "Parameter bar error")
            return _ok(self.candles(inst, BARS[bar], query, recent=path.endswith("/candles")))
        return _error("50030", f"Illegal API path {path}")

    def candles(self, inst: str, step: int, query: dict[str, str], recent: bool) -> list[list[str]]:
        """Bars with trades before the clock, newer than ``before`` and older than ``after``, newest first."""
        time_ms, price, volume = self.published(inst, self.clock_ms)
        bucket = time_ms - time_ms % step
        starts = np.flatnonzero(np.concatenate(([True], bucket[1:] != bucket[:-1]))) if bucket.size else bucket
        opens = bucket[starts]
        keep = np.ones(opens.size, bool)
        if "after" in query:
            keep &= opens < int(query["after"])
        if "before" in query:
            keep &= opens > int(query["before"])
        if recent:
            keep &= opens > self.clock_ms - self.clock_ms % step - RECENT_BARS * step
        limit = min(CANDLES_MAX, int(query.get("limit", 100)))
        chosen = np.flatnonzero(keep)[::-1][:limit]
        ends = np.append(starts[1:], time_ms.size)
        in_progress = self.clock_ms - self.clock_ms % step
        rows = []
        for k in chosen.tolist():
            a, b = int(starts[k]), int(ends[k])
            p, v = price[a:b], volume[a:b]
            base = float(np.add.reduce(v))
            rows.append(
                [
                    str(int(opens[k])),
                    _text(p[0]),
                    _text(p.max()),
                    _text(p.min()),
                    _text(p[-1]),
                    _text(base),
                    _text(base),
                    _text(float((p * v).sum())),
                    "0" if int(opens[k]) == in_progress else "1",
                ]
            )
        return rows

    # ---- websocket -----------------------------------------------------------------------------

    async def _main(self) -> None:
        from websockets.asyncio.server import serve

        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with serve(self._serve, "127.0.0.1", 0, ping_interval=None, max_queue=None) as server:
            self._port = server.sockets[0].getsockname()[1]
            self._ready.set()
            player = asyncio.ensure_future(self._play())
            await self._stop.wait()
            player.cancel()
            for conn in list(self.connections):
                conn.ws.transport.abort()

    async def _serve(self, ws: Any) -> None:
        if ws.request.path != "/ws/v5/public":
            await ws.close(4004, "Wrong URL")
            return
        conn = _Connection(ws)
        self.connections.add(conn)
        self.connects += 1
        conn_id = f"{self.connects:08x}"
        try:
            async for raw in ws:
                await self._request(conn, conn_id, raw)
        except Exception:  # a client that went away mid-frame
            pass
        finally:
            self.connections.discard(conn)

    async def _request(self, conn: _Connection, conn_id: str, raw: str | bytes) -> None:
        if raw == "ping":
            self.pings += 1
            if asyncio.get_running_loop().time() >= conn.silent_until:
                await conn.ws.send("pong")
            return
        try:
            message = json.loads(raw)
            op, args = message["op"], message["args"]
        except (ValueError, KeyError, TypeError):
            await conn.ws.send(_ws_error("60012", f"Illegal request: {raw!s}", conn_id))
            return
        if op not in ("subscribe", "unsubscribe"):
            await conn.ws.send(_ws_error("60012", f"Illegal request: {raw!s}", conn_id))
            return
        for arg in args:
            channel, inst = arg.get("channel"), arg.get("instId")
            if channel != "trades" or inst not in self.tapes:
                text = f"Wrong URL or channel:{channel},instId:{inst} doesn't exist. Please use the correct URL"
                await conn.ws.send(_ws_error("60018", text, conn_id))
                continue
            (conn.trades.add if op == "subscribe" else conn.trades.discard)(inst)
            await conn.ws.send(
                json.dumps({"event": op, "arg": {"channel": channel, "instId": inst}, "connId": conn_id})
            )

    async def _play(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if self.clock_ms >= self.target_ms:
                await asyncio.sleep(0.005)
                continue
            end = min(self.clock_ms + self.tick_ms, self.target_ms)
            frames = []
            for inst, lo in self.cursor.items():
                tape = self.tapes[inst]
                hi = int(np.searchsorted(tape.time_ns, end * 1_000_000, side="left"))
                if hi > lo:
                    frames.append((inst, self._push(inst, lo, hi)))
                    self.cursor[inst] = hi
            self.clock_ms = end
            for inst, frame in frames:
                await self._broadcast(inst, frame, loop.time())
            await asyncio.sleep(self.tick_wall_s)

    def _push(self, inst: str, lo: int, hi: int) -> str:
        tape = self.tapes[inst]
        data = [
            {
                "instId": inst,
                "tradeId": str(int(tape.trade_id[i])),
                "px": _text(tape.price[i]),
                "sz": _text(tape.volume[i]),
                "side": "buy" if tape.side[i] == "b" else "sell",
                "ts": str(int(tape.time_ns[i]) // 1_000_000),
                "count": "1",
            }
            for i in range(lo, hi)
        ]
        return json.dumps({"arg": {"channel": "trades", "instId": inst}, "data": data})

    async def _broadcast(self, inst: str, frame: str, now: float) -> None:
        for conn in list(self.connections):
            if inst not in conn.trades or now < conn.silent_until:
                continue
            faults = self.faults.draw()
            try:
                if "drop" in faults:
                    conn.ws.transport.abort()
                    self.connections.discard(conn)
                elif "stall" in faults:
                    conn.silent_until = now + self.faults.stall_s
                else:
                    await conn.ws.send(frame)
            except Exception:  # the client is gone
                self.connections.discard(conn)


def _instruments() -> list[dict[str, str]]:
    return [
        {
            "instType": "SPOT",
            "instId": inst,
            "baseCcy": inst.split("-")[0],
            "quoteCcy": inst.split("-")[1],
            "settleCcy": "",
            "ctVal": "",
            "ctMult": "",
            "ctValCcy": "",
            "listTime": "1548133413000",
            "expTime": "",
            "lever": "10",
            "tickSz": "0.1",
            "lotSz": "0.00000001",
            "minSz": "0.00001",
            "maxLmtSz": "9999999999",
            "maxMktSz": "1000000",
            "state": "live",
            "uly": "",
            "instFamily": "",
            "category": "1",
            "alias": "",
            "optType": "",
            "stk": "",
        }
        for inst in INSTRUMENTS
    ]


def _ok(data: list[Any]) -> dict[str, Any]:
    return {"code": "0", "msg": "", "data": data}


def _error(code: str, msg: str) -> dict[str, Any]:
    return {"code": code, "msg": msg, "data": []}


def _ws_error(code: str, msg: str, conn_id: str) -> str:
    return json.dumps({"event": "error", "code": code, "msg": msg, "connId": conn_id})
