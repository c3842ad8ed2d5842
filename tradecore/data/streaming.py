"""The contract of sources that stream live trades: :class:`StreamingSource`, an optional capability a
:class:`~tradecore.data.fetching.FetchingSource` adds so ``tradecore data stream`` can follow its websocket
feed, and the :class:`TradeStream` connection it opens.

The core's stream loop (:mod:`tradecore.data.stream`) knows no exchange: it asks the source for trades of
many symbols over one connection, builds candles with the same kernel the trades rebuild uses, and fills
every hole (start-up, reconnects) through the source's own fetch path. A plugin provides the capability by
subclassing both::

    class MySource(FetchingSource, StreamingSource):
        def trade_stream(self, symbols):
            return MyTradeStream(self.params, symbols)
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tradecore.errors import TradecoreError

if TYPE_CHECKING:
    import numpy as np


class StreamLost(TradecoreError):
    """The connection dropped or failed; the stream loop reconnects (with back-off) and catches up."""


@dataclass(frozen=True)
class TradeBatch:
    """Trades of one symbol as they arrived in one message: parallel numpy arrays.

    ``seq`` is the exchange's trade id (int64), increasing in the exchange's trade order for the symbol;
    the stream loop drops a trade whose id it has already counted and orders a bucket's trades by it.
    """

    symbol: str
    seq: np.ndarray  # int64
    time_ms: np.ndarray  # int64, epoch ms
    price: np.ndarray  # float64
    volume: np.ndarray  # float64, base currency

    def __len__(self) -> int:
        return int(self.seq.size)


class TradeStream(ABC):
    """One live connection carrying the trades of many symbols. Used by one asyncio task at a time."""

    @abstractmethod
    async def open(self) -> int:
        """Connect and subscribe every symbol; return the exchange clock (epoch ms) once the subscriptions
        are live: trades after it arrive on this connection. Raises :class:`StreamLost` when it cannot."""

    @abstractmethod
    async def receive(self) -> TradeBatch | None:
        """The next batch of trades, or None when the connection showed it is alive (a heartbeat, a pong)
        without trades. Raises :class:`StreamLost` when the connection drops."""

    @abstractmethod
    async def close(self) -> None:
        """Close the connection (idempotent; never raises for a connection already gone)."""


class StreamingSource(ABC):
    """Optional capability of a fetching source: live trades of many symbols over one connection.

    The source built for one (symbol, timeframe) opens the stream for all requested symbols; its params
    carry the connection settings (endpoints, timeouts). Its ``fetch`` fills the holes around the stream.
    """

    @abstractmethod
    def trade_stream(self, symbols: Sequence[str]) -> TradeStream:
        """A not yet opened stream of the trades of ``symbols`` (ccxt symbols such as BTC/USD)."""
