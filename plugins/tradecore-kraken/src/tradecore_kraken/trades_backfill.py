"""Candles rebuilt from Kraken trades, committed into the lake after every page, resumable.

Pages are requested with Kraken's opaque ``last`` cursor. After every page, the bars that page proves
complete (every bar before the one holding its newest trade: trades come oldest first) are committed
whole with ``Lake.replace_window``, then the job cursor is saved; only the trades of the bar still open
stay buffered. The cursor names the page from which every trade of that open bar can be fetched again,
so a process killed at any instant resumes with no duplicate and no missing candle, and each restart
keeps every bar it saw complete (a restart re-reads at most the pages of one open bar). Trades are
never deduplicated by content: same-millisecond identical rows are separate real trades.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from tradecore.api import candles_from_trades, timeframe_ms

if TYPE_CHECKING:
    from tradecore.api import Lake
    from tradecore_kraken.kraken_api import KrakenApi

ORIGIN = "trades-rebuild"


@dataclass
class TradesCursor:
    """Where a trades backfill stands: every candle before ``window_start`` is stored, and the
    page after ``since`` holds the first trade from ``window_start`` on (or an earlier one)."""

    window_start: int
    since: str

    def dumps(self) -> str:
        return json.dumps({"method": "trades", "window_start": self.window_start, "since": self.since})

    @classmethod
    def loads(cls, text: str | None) -> TradesCursor | None:
        if not text:
            return None
        try:
            data = json.loads(text)
        except ValueError:
            return None
        if not isinstance(data, dict) or data.get("method") != "trades":
            return None
        return cls(int(data["window_start"]), str(data["since"]))

    @classmethod
    def at(cls, start_ms: int) -> TradesCursor:
        """The cursor for a fresh start: Kraken reads a 19-digit ``since`` as nanoseconds (exclusive)."""
        return cls(start_ms, str(start_ms * 1_000_000 - 1))


@dataclass
class BackfillStats:
    pages: int = 0
    trades: int = 0
    candles: int = 0
    windows: int = 0
    reached_ms: int = 0
    messages: list[str] = field(default_factory=list)


def backfill_trades(
    api: KrakenApi,
    lake: Lake,
    *,
    exchange: str,
    symbol: str,
    pair_id: str,
    timeframe: str,
    start_ms: int,
    end_ms: int,
    now_ms: int,
    cursor: TradesCursor | None,
    save: Callable[[TradesCursor, BackfillStats], None],
    on_progress: Callable[[int, int], None] | None = None,
    page_size: int = 1000,
) -> BackfillStats:
    """Rebuild [start_ms, end_ms) (bar-aligned) from trades; ``save`` persists the cursor after each commit
    (every page that completes a bar).

    Bars that have not closed by ``now_ms`` (the exchange clock) are never stored.
    """
    step = timeframe_ms(timeframe)
    limit = min(end_ms, now_ms - now_ms % step)
    state = cursor if cursor is not None and start_ms <= cursor.window_start else TradesCursor.at(start_ms)
    stats = BackfillStats(reached_ms=state.window_start)
    if state.window_start >= limit:
        return stats
    times: list[np.ndarray] = []
    prices: list[np.ndarray] = []
    volumes: list[np.ndarray] = []
    pages: list[tuple[str, int]] = []  # (cursor sent, newest trade) of pages since the last commit
    since = state.since

    def commit(boundary: int) -> None:
        nonlocal times, prices, volumes, pages
        t = np.concatenate(times) if times else np.empty(0, np.int64)
        p = np.concatenate(prices) if prices else np.empty(0)
        v = np.concatenate(volumes) if volumes else np.empty(0)
        cut = int(np.searchsorted(t, boundary, side="left"))
        candles = candles_from_trades(t[:cut], p[:cut], v[:cut], step)
        lake.replace_window(exchange, symbol, timeframe, state.window_start, boundary, candles, ORIGIN)
        # the open bar's trades may already sit in earlier pages: resume from the first such page
        resume_since = next((c for c, newest in pages if newest >= boundary), since)
        pages = [(c, newest) for c, newest in pages if newest >= boundary]
        times, prices, volumes = [t[cut:]], [p[cut:]], [v[cut:]]
        stats.candles += candles.height
        stats.windows += 1
        state.window_start, state.since = boundary, resume_since
        stats.reached_ms = boundary
        save(TradesCursor(state.window_start, state.since), stats)
        if on_progress:
            on_progress(boundary, candles.height)

    while True:
        page = api.trades_page(pair_id, since, page_size)
        stats.pages += 1
        if len(page) == 0:  # the live edge: no trade after the cursor up to the exchange clock
            commit(limit)
            return stats
        keep = page.time_ms >= state.window_start  # a resumed page may start inside a stored window
        t = page.time_ms[keep]
        if t.size:
            times.append(t)
            prices.append(page.price[keep])
            volumes.append(page.volume[keep])
            pages.append((since, int(t[-1])))
            stats.trades += int(t.size)
        newest = int(page.time_ms[-1])
        since = page.last
        if newest >= limit:
            commit(limit)
            return stats
        boundary = newest - newest % step  # every bar before the newest trade's is complete
        if boundary > state.window_start:
            commit(boundary)
