"""Kraken's public REST calls through the real ccxt.kraken class: Time, OHLC, Trades pages.

Raw ``publicGet*`` calls keep what the unified methods lose: OHLC trade counts and vwap, and the
Trades ``last`` cursor exactly as Kraken sent it (an opaque string, never a float). They also make a
malformed body an error: ``fetch_trades`` would read it as an empty page and end the backfill early.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ccxt
import numpy as np

from tradecore_kraken.client import MalformedResponse, RetryPolicy, load_markets, market_for, result_of
from tradecore_kraken.errors import CursorStalled, KrakenError


class RepeatedPage(ccxt.NetworkError):
    """A Trades page whose ``last`` cursor did not move past the one we sent."""


@dataclass
class TradesPage:
    """One Trades page: times (epoch ms), prices and volumes in Kraken's order, and the next cursor."""

    since: str
    last: str
    time_ms: np.ndarray
    price: np.ndarray
    volume: np.ndarray

    def __len__(self) -> int:
        return int(self.time_ms.size)


def parse_trade_rows(rows: list[list[Any]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Kraken trade rows (6 or 7 fields) -> (time ms int64, price, volume float64)."""
    if not rows:
        empty = np.empty(0)
        return empty.astype(np.int64), empty, empty
    try:
        price = np.array([r[0] for r in rows], dtype=np.float64)
        volume = np.array([r[1] for r in rows], dtype=np.float64)
        seconds = np.array([r[2] for r in rows], dtype=np.float64)
    except (TypeError, ValueError, IndexError) as exc:
        raise MalformedResponse(f"malformed Kraken trade row: {exc}") from None
    # round to the microsecond first: the float seconds carry µs digits and binary noise below them
    micros = np.rint(seconds * 1e6).astype(np.int64)
    return micros // 1000, price, volume


class KrakenApi:
    """A ccxt.kraken instance plus the retry policy; resolves symbols to Kraken pair ids."""

    def __init__(self, exchange: ccxt.Exchange, policy: RetryPolicy) -> None:
        self.exchange = exchange
        self.policy = policy
        self.requests = 0
        self._markets_loaded = False

    def market(self, symbol: str) -> dict[str, Any]:
        if not self._markets_loaded:
            load_markets(self.exchange, self.policy)
            self._markets_loaded = True
        return market_for(self.exchange, symbol)

    def server_time_ms(self) -> int:
        self.requests += 1
        result = self.policy.call("kraken Time", lambda: self.exchange.publicGetTime(), result_of)
        try:
            return int(result["unixtime"]) * 1000
        except (KeyError, TypeError, ValueError):
            raise KrakenError(f"kraken Time: unexpected answer {str(result)[:80]!r}") from None

    def ohlc(self, pair_id: str, interval_min: int, since_s: int | None = None) -> list[list[Any]]:
        request: dict[str, Any] = {"pair": pair_id, "interval": interval_min}
        if since_s is not None:
            request["since"] = since_s

        def rows_of(response: Any) -> list[list[Any]]:
            rows = result_of(response).get(pair_id)
            if not isinstance(rows, list):
                raise MalformedResponse(f"OHLC answer lacks {pair_id}")
            return rows

        self.requests += 1
        return self.policy.call(
            f"kraken OHLC {pair_id} {interval_min}m", lambda: self.exchange.publicGetOHLC(request), rows_of
        )

    def trades_page(self, pair_id: str, since: str, count: int = 1000) -> TradesPage:
        """The page after cursor ``since`` (exclusive). A page that does not advance is retried,
        then reported as :class:`CursorStalled`."""
        request = {"pair": pair_id, "since": since, "count": count}

        def page_of(response: Any) -> TradesPage:
            result = result_of(response)
            rows, last = result.get(pair_id), result.get("last")
            if not isinstance(rows, list) or last is None:
                raise MalformedResponse(f"Trades answer lacks {pair_id} rows or the last cursor")
            last = str(last)
            if not last.isdigit():
                raise MalformedResponse(f"Trades cursor {last!r} is not a number")
            if rows and int(last) <= int(since):
                raise RepeatedPage(f"cursor {since} did not advance (page repeated)")
            time_ms, price, volume = parse_trade_rows(rows)
            return TradesPage(since, last, time_ms, price, volume)

        self.requests += 1
        try:
            return self.policy.call(f"kraken Trades {pair_id}", lambda: self.exchange.publicGetTrades(request), page_of)
        except KrakenError as exc:
            if isinstance(exc.__cause__, RepeatedPage):
                raise CursorStalled(
                    f"kraken Trades {pair_id}: the last cursor stopped advancing at since={since} "
                    f"({self.policy.max_retries + 1} identical pages); progress up to there is saved, rerun "
                    "later to resume, or import a dump for this range"
                ) from exc
            raise
