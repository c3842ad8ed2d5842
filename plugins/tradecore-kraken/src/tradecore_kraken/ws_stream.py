"""Live trades of many symbols over one ccxt.pro websocket connection, as tradecore's :class:`TradeStream`.

One ccxt.pro exchange instance per connection: ``watch_trades`` per symbol (ccxt sends one subscribe per
symbol on the same socket; Kraken's v2 ``trade`` channel, OKX's ``trades``), each loop handing the new
trades (``newUpdates``) to one queue. Any message on the socket (Kraken's heartbeats, OKX's pongs) counts
as a sign of life. A network error from ccxt is :class:`StreamLost`; anything else (an unknown symbol) fails.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from tradecore.api import StreamLost, TradeBatch, TradeStream
from tradecore_kraken.errors import KrakenError

#: trades ccxt keeps per symbol between two reads (a burst larger than this between reads would be lost)
TRADES_CACHE = 20_000
#: how often the socket is checked for signs of life between trades
LIFE_CHECK_S = 0.5


def make_pro_exchange(exchange_id: str, params: Any, options: dict[str, Any] | None = None) -> Any:
    """A ccxt.pro exchange; ``params.api_url`` / ``params.ws_url`` point its REST / websocket hosts elsewhere."""
    import ccxt.pro

    from tradecore_kraken.client import rehost_tree

    if exchange_id not in ccxt.pro.exchanges:
        raise KrakenError(f"ccxt.pro has no websocket client for {exchange_id!r}: pick one of ccxt.pro.exchanges")
    config: dict[str, Any] = {
        "enableRateLimit": params.rate_limit,
        "timeout": params.timeout_ms,
        "options": {"tradesLimit": TRADES_CACHE, **(options or {})},
    }
    exchange = getattr(ccxt.pro, exchange_id)(config)
    api = exchange.urls["api"]
    if params.api_url:
        api = {k: v if k == "ws" else rehost_tree(v, params.api_url) for k, v in api.items()}
    if params.ws_url:
        api = {**api, "ws": rehost_tree(api["ws"], params.ws_url, ("ws://", "wss://"))}
    exchange.urls["api"] = api
    return exchange


def batch_of(symbol: str, trades: list[dict[str, Any]]) -> TradeBatch:
    """ccxt's unified trades as one columnar batch (trade id as the sequence number)."""
    n = len(trades)
    return TradeBatch(
        symbol,
        np.fromiter((int(t["id"]) for t in trades), np.int64, n),
        np.fromiter((t["timestamp"] for t in trades), np.int64, n),
        np.fromiter((t["price"] for t in trades), np.float64, n),
        np.fromiter((t["amount"] for t in trades), np.float64, n),
    )


class CcxtTradeStream(TradeStream):
    """The trades of ``symbols`` on ``exchange_id`` through ccxt.pro (see the module doc)."""

    def __init__(
        self, exchange_id: str, params: Any, symbols: Sequence[str], options: dict[str, Any] | None = None
    ) -> None:
        self.exchange_id, self.params, self.symbols, self.options = exchange_id, params, list(symbols), options
        self.exchange: Any = None
        self.queue: asyncio.Queue[Any] = asyncio.Queue()
        self.tasks: list[asyncio.Task[Any]] = []

    async def open(self) -> int:
        import ccxt

        self.exchange = make_pro_exchange(self.exchange_id, self.params, self.options)
        try:
            await self.exchange.load_markets()
            unknown = [s for s in self.symbols if s not in self.exchange.markets]
            if unknown:
                raise KrakenError(f"{self.exchange_id} has no market {', '.join(unknown)}: check --pair")
            self.tasks = [asyncio.ensure_future(self._watch(s)) for s in self.symbols]
            self.tasks.append(asyncio.ensure_future(self._life()))
            while not self.exchange.clients:  # the watchers dial, then send their subscribe frames
                await asyncio.sleep(0.002)
            await self.exchange.clients[self._url()].connected
            return int(await self.exchange.fetch_time())
        except ccxt.NetworkError as exc:
            raise StreamLost(f"{self.exchange_id}: {_first_line(exc)}") from exc

    def _url(self) -> str | None:
        clients = list(self.exchange.clients) if self.exchange is not None else []
        return clients[0] if clients else None

    async def _watch(self, symbol: str) -> None:
        import ccxt

        try:
            while True:
                trades = await self.exchange.watch_trades(symbol)
                if trades:
                    self.queue.put_nowait(batch_of(symbol, trades))
        except asyncio.CancelledError:
            raise
        except ccxt.NetworkError as exc:
            self.queue.put_nowait(StreamLost(f"{self.exchange_id} {symbol}: {_first_line(exc)}"))
        except Exception as exc:  # the receiving side raises it (a bad symbol, an exchange error)
            self.queue.put_nowait(exc)

    async def _life(self) -> None:
        """Heartbeats, pongs or any other frame: put None on the queue when the socket said something."""
        seen = None
        while True:
            await asyncio.sleep(LIFE_CHECK_S)
            url = self._url()
            client = self.exchange.clients.get(url) if url else None
            last = client.last_message_at if client is not None else None
            if last is not None and last != seen:
                seen = last
                self.queue.put_nowait(None)

    async def receive(self) -> TradeBatch | None:
        item = await self.queue.get()
        if isinstance(item, BaseException):
            raise item
        return item

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(BaseException):
                await task
        self.tasks = []
        if self.exchange is not None:
            with contextlib.suppress(Exception):
                await self.exchange.close()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines() or [type(exc).__name__])[0][:200]
