"""A loopback Kraken websocket server (public API v2) for tests and benchmarks, beside the REST loopback.

It speaks ``ws.kraken.com/v2`` as ``ccxt.pro.kraken`` expects it: a ``status`` frame on connect,
``subscribe`` acks per symbol (``{"method": "subscribe", "result": {...}, "success": true, ...}``), a trade
``snapshot`` then ``update`` messages on the ``trade`` channel, ``ohlc`` updates for the candle in
progress, ``{"channel": "heartbeat"}`` frames and ``pong`` answers to ``{"method": "ping"}``.

Trades come from the REST loopback's seeded tapes, so REST catch-up and the stream see one history: the
server plays the tape in ticks of simulated time (``play_until``), advancing the REST clock as it goes.
:class:`WsFaults` breaks connections on purpose: dropped sockets, silent stalls, reordered, repeated and
malformed frames. ``published`` is what went out (before faults) for tests to compare against.
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tradecore_kraken.loopback import PAIRS, KrakenLoopback

#: frames a fault can do to one connection
WS_FAULT_KINDS = ("drop", "stall", "reorder", "duplicate", "malformed")


def ws_symbol(pid: str) -> str:
    """The v2 symbol of a pair id (v2 speaks BTC/USD, not XBT/USD)."""
    return PAIRS[pid][1].replace("XBT", "BTC")


def _iso_us(time_ns: int) -> str:
    seconds, rest = divmod(time_ns, 1_000_000_000)
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{rest // 1000:06d}Z"


@dataclass
class WsFaults:
    """Per trade frame sent to a connection, the chance of each fault (seeded, counted in ``injected``).

    ``drop``: the socket is cut (no close frame). ``stall``: the connection goes silent for ``stall_s``
    (frames to it are lost, no heartbeats, no pongs). ``reorder``: the frame goes out after the next one.
    ``duplicate``: the frame goes out twice. ``malformed``: a broken JSON frame goes out first.
    ``after`` frames pass untouched first (so a test can see the stream working before breaking it), and
    at most ``budget`` faults are injected in all (None: no limit).
    """

    drop: float = 0.0
    stall: float = 0.0
    reorder: float = 0.0
    duplicate: float = 0.0
    malformed: float = 0.0
    stall_s: float = 1.0
    after: int = 0
    budget: int | None = None
    seed: int = 0
    injected: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._seen = 0

    def draw(self) -> list[str]:
        self._seen += 1
        if self._seen <= self.after or (self.budget is not None and sum(self.injected.values()) >= self.budget):
            return []
        hits = [k for k in WS_FAULT_KINDS if self._rng.random() < getattr(self, k)]
        for kind in hits:
            self.injected[kind] = self.injected.get(kind, 0) + 1
        return hits


class _Connection:
    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.trades: set[str] = set()
        self.ohlc: dict[str, int] = {}  # symbol -> interval minutes
        self.held: str | None = None  # a frame held back for reordering
        self.silent_until = 0.0


class KrakenWsLoopback:
    """The websocket server plus its REST twin (``rest``); start it, point ccxt at ``ws_url``/``rest.url``."""

    def __init__(
        self,
        start_s: int = 1_688_169_600,
        hours: float = 2,
        seed: int = 7,
        trades_per_minute: float = 20.0,
        pairs: tuple[str, ...] = ("XXBTZUSD", "XETHZUSD"),
        faults: WsFaults | None = None,
        tick_ms: int = 1000,
        tick_wall_s: float = 0.002,
        heartbeat_s: float = 1.0,
    ) -> None:
        self.rest = KrakenLoopback(
            start_s=start_s, hours=hours, seed=seed, trades_per_minute=trades_per_minute, pairs=pairs, now_s=start_s
        )
        self.faults = faults or WsFaults()
        self.tick_ns = tick_ms * 1_000_000
        self.tick_wall_s = tick_wall_s
        self.heartbeat_s = heartbeat_s
        self.clock_ns = start_s * 1_000_000_000  # trades before it are published
        self.target_ns = self.clock_ns
        self.symbols = {ws_symbol(pid): pid for pid in pairs}
        self.cursor = {pid: 0 for pid in pairs}  # next tape index to publish
        self.connections: set[_Connection] = set()
        self.connects = 0
        self.frames = 0
        #: called as ``on_frame(symbol, frame)`` just before a trade frame goes out (benchmarks time it)
        self.on_frame: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._port = 0

    # ---- control (any thread) ------------------------------------------------------------------

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self._port}"

    def start(self) -> KrakenWsLoopback:
        self.rest.start()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True, name="kraken-ws")
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the websocket loopback did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(10)
        self.rest.stop()

    def __enter__(self) -> KrakenWsLoopback:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def play_until(self, seconds: int) -> None:
        """Publish the tape up to ``seconds`` (epoch s, exclusive), one tick per ``tick_wall_s``."""
        self.target_ns = max(self.target_ns, seconds * 1_000_000_000)

    @property
    def played(self) -> bool:
        return self.clock_ns >= self.target_ns

    def published_until_ns(self) -> int:
        return self.clock_ns

    # ---- the server ----------------------------------------------------------------------------

    async def _main(self) -> None:
        from websockets.asyncio.server import serve

        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with serve(self._serve, "127.0.0.1", 0, ping_interval=None, max_queue=None) as server:
            self._port = server.sockets[0].getsockname()[1]
            self._ready.set()
            player = asyncio.ensure_future(self._play())
            beats = asyncio.ensure_future(self._heartbeats())
            await self._stop.wait()
            player.cancel()
            beats.cancel()
            for conn in list(self.connections):
                conn.ws.transport.abort()

    async def _serve(self, ws: Any) -> None:
        conn = _Connection(ws)
        self.connections.add(conn)
        self.connects += 1
        try:
            await ws.send(
                json.dumps(
                    {
                        "channel": "status",
                        "type": "update",
                        "data": [
                            {
                                "version": "2.0.10",
                                "system": "online",
                                "api_version": "v2",
                                "connection_id": self.connects,
                            }
                        ],
                    }
                )
            )
            async for raw in ws:
                await self._request(conn, raw)
        except Exception:  # a client that went away mid-frame
            pass
        finally:
            self.connections.discard(conn)

    async def _request(self, conn: _Connection, raw: str | bytes) -> None:
        now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        try:
            message = json.loads(raw)
        except ValueError:
            await conn.ws.send(json.dumps({"error": "Malformed request", "success": False, "time_in": now}))
            return
        method, req_id = message.get("method"), message.get("req_id")
        if method == "ping":
            if asyncio.get_running_loop().time() >= conn.silent_until:
                await conn.ws.send(json.dumps({"method": "pong", "req_id": req_id, "time_in": now, "time_out": now}))
            return
        if method != "subscribe":
            await conn.ws.send(
                json.dumps(
                    {
                        "error": "Event(s) not found",
                        "method": method,
                        "req_id": req_id,
                        "success": False,
                        "time_in": now,
                        "time_out": now,
                    }
                )
            )
            return
        params = message.get("params") or {}
        channel = params.get("channel")
        for symbol in params.get("symbol") or []:
            if symbol not in self.symbols or channel not in ("trade", "ohlc"):
                await conn.ws.send(
                    json.dumps(
                        {
                            "error": f"Currency pair not supported {symbol}",
                            "method": "subscribe",
                            "req_id": req_id,
                            "success": False,
                            "symbol": symbol,
                            "time_in": now,
                            "time_out": now,
                        }
                    )
                )
                continue
            result: dict[str, Any] = {"channel": channel, "snapshot": params.get("snapshot", True), "symbol": symbol}
            if channel == "ohlc":
                result["interval"] = int(params.get("interval", 1))
                conn.ohlc[symbol] = result["interval"]
            else:
                result["warnings"] = []
            await conn.ws.send(
                json.dumps(
                    {
                        "method": "subscribe",
                        "req_id": req_id,
                        "result": result,
                        "success": True,
                        "time_in": now,
                        "time_out": now,
                    }
                )
            )
            if channel == "trade":
                conn.trades.add(symbol)
                if result["snapshot"]:
                    await self._snapshot(conn, symbol)

    async def _snapshot(self, conn: _Connection, symbol: str) -> None:
        pid = self.symbols[symbol]
        hi = self.cursor[pid]
        rows = self._trade_rows(pid, max(0, hi - 50), hi)
        if not rows:  # a real pair always has history; ccxt cannot read an empty snapshot
            return
        await conn.ws.send(json.dumps({"channel": "trade", "type": "snapshot", "data": rows}))

    def _trade_rows(self, pid: str, lo: int, hi: int) -> list[dict[str, Any]]:
        tape, symbol = self.rest.tapes[pid], ws_symbol(pid)
        return [
            {
                "symbol": symbol,
                "side": "buy" if tape.side[i] == "b" else "sell",
                "price": float(tape.price[i]),
                "qty": float(tape.volume[i]),
                "ord_type": "limit" if tape.kind[i] == "l" else "market",
                "trade_id": int(tape.trade_id[i]),
                "timestamp": _iso_us(int(tape.time_ns[i])),
            }
            for i in range(lo, hi)
        ]

    async def _play(self) -> None:
        import numpy as np

        loop = asyncio.get_running_loop()
        while True:
            if self.clock_ns >= self.target_ns:
                await asyncio.sleep(0.005)
                continue
            end = min(self.clock_ns + self.tick_ns, self.target_ns)
            self.rest.now_s = end // 1_000_000_000  # the REST twin's clock: everything before it exists
            frames: list[tuple[str, str]] = []
            for pid, lo in self.cursor.items():
                tape = self.rest.tapes[pid]
                hi = int(np.searchsorted(tape.time_ns, end, side="left"))
                if hi > lo:
                    symbol = ws_symbol(pid)
                    frames.append(
                        (
                            symbol,
                            json.dumps({"channel": "trade", "type": "update", "data": self._trade_rows(pid, lo, hi)}),
                        )
                    )
                    self.cursor[pid] = hi
            self.clock_ns = end
            for symbol, frame in frames:
                if self.on_frame is not None:
                    self.on_frame(symbol, frame)
                await self._broadcast(symbol, frame, loop.time())
            await self._ohlc_updates(frames)
            self.frames += len(frames)
            await asyncio.sleep(self.tick_wall_s)

    async def _broadcast(self, symbol: str, frame: str, now: float) -> None:
        for conn in list(self.connections):
            if symbol not in conn.trades or now < conn.silent_until:
                continue
            faults = self.faults.draw()
            try:
                if "drop" in faults:
                    conn.ws.transport.abort()
                    self.connections.discard(conn)
                    continue
                if "stall" in faults:
                    conn.silent_until = now + self.faults.stall_s
                    continue
                if "malformed" in faults:
                    await conn.ws.send('{"channel":"trade","type":"update","data":[{"symbol":')
                out = [frame, frame] if "duplicate" in faults else [frame]
                held_now = "reorder" in faults and conn.held is None
                if held_now:
                    conn.held = out.pop(0)
                if conn.held is not None and not held_now:
                    out.append(conn.held)
                    conn.held = None
                for text in out:
                    await conn.ws.send(text)
            except Exception:  # the client is gone
                self.connections.discard(conn)

    async def _ohlc_updates(self, frames: list[tuple[str, str]]) -> None:
        """The candle in progress of each symbol that traded this tick, to ohlc subscribers."""
        listeners = [c for c in self.connections if c.ohlc]
        if not listeners or not frames:
            return
        import numpy as np

        for symbol, _frame in frames:
            pid = self.symbols[symbol]
            tape = self.rest.tapes[pid]
            for conn in listeners:
                minutes = conn.ohlc.get(symbol)
                if minutes is None:
                    continue
                step = minutes * 60 * 1_000_000_000
                begin = (self.clock_ns - 1) // step * step
                lo, hi = np.searchsorted(tape.time_ns, [begin, self.clock_ns])
                if hi <= lo:
                    continue
                p, v = tape.price[lo:hi], tape.volume[lo:hi]
                candle = {
                    "symbol": symbol,
                    "open": float(p[0]),
                    "high": float(p.max()),
                    "low": float(p.min()),
                    "close": float(p[-1]),
                    "trades": int(hi - lo),
                    "volume": float(v.sum()),
                    "vwap": float((p * v).sum() / v.sum()),
                    "interval_begin": _iso_us(int(begin)),
                    "interval": minutes,
                    "timestamp": _iso_us(int(begin + step)),
                }
                message = {"channel": "ohlc", "type": "update", "timestamp": _iso_us(self.clock_ns), "data": [candle]}
                try:
                    await conn.ws.send(json.dumps(message))
                except Exception:
                    self.connections.discard(conn)

    async def _heartbeats(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.heartbeat_s)
            for conn in list(self.connections):
                if (conn.trades or conn.ohlc) and loop.time() >= conn.silent_until:
                    try:
                        await conn.ws.send('{"channel":"heartbeat"}')
                    except Exception:
                        self.connections.discard(conn)


def serve_main() -> None:  # pragma: no cover - a demo server for the README
    """``python -m tradecore_kraken.ws_loopback [SPEED]`` plays BTC/USD and ETH/USD at SPEED x real time until
    killed; prints the REST and websocket URLs to pass as ``--param api_url=... --param ws_url=...``."""
    import sys
    import time

    speed = float(sys.argv[1]) if len(sys.argv) > 1 else 10.0
    server = KrakenWsLoopback(hours=24, trades_per_minute=30, tick_ms=1000, tick_wall_s=1.0 / speed).start()
    print(f"api_url={server.rest.url} ws_url={server.ws_url}", flush=True)
    try:
        while True:
            server.play_until(server.clock_ns // 1_000_000_000 + 5)
            time.sleep(0.05)
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":  # pragma: no cover
    serve_main()
