"""What an exchange can still deliver, as data: REST reach, trades history, downloadable dumps.

A fetching source answers :meth:`tradecore.interfaces.FetchingSource.exchange_facts` with one of these;
gap reports and dataset slices take their "no trades" evidence and their fill advice from it. The
defaults describe a generic exchange: paginated REST OHLCV history, no trades history, no dumps. A
source whose exchange offers downloadable dumps subclasses it and overrides :meth:`dump_option`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tradecore.timeframes import timeframe_ms


@dataclass(frozen=True)
class ExchangeFacts:
    """How far back each way of getting candles reaches for one exchange."""

    #: the exchange has a REST OHLCV endpoint at all
    rest_history: bool = True
    #: REST OHLC returns only the newest N candles (None: paginated history reaches everything)
    rest_candle_limit: int | None = None
    #: the public trades endpoint pages through the whole history
    trades_history: bool = False
    trades_per_call: int = 1000
    seconds_per_call: float = 1.0
    #: the exchange emits no candle for an interval without trades
    skips_empty_candles: bool = True
    #: origins that are complete history: an empty slot inside one write of such an origin means nobody traded
    #: (trades rebuilt into candles are complete by construction; a source adds its own, e.g. its dumps)
    complete_origins: tuple[str, ...] = ("trades-rebuild", "stream")
    #: the first day the exchange has candles for (ISO date), what "full history" starts from; None: unknown
    history_start: str | None = None
    #: symbols offered without asking the exchange (forms, request checks); empty: any symbol the source accepts
    markets: tuple[str, ...] = ()

    def dump_option(self, pair: str, timeframe: str, start_ms: int, end_ms: int) -> dict[str, Any] | None:
        """The downloadable file that holds ``pair`` candles over [start_ms, end_ms), as
        ``{"ok", "archive", "file", "detail"}``; None when the exchange has no dumps (the default)."""
        return None

    def fill_options(
        self,
        pair: str,
        timeframe: str,
        start_ms: int,
        end_ms: int,
        *,
        now_ms: int | None = None,
        trades_per_slot: float | None = None,
    ) -> dict[str, Any]:
        """How a missing range [start_ms, end_ms) can still be filled: ``rest``, ``trades``, ``dump`` and the
        ``recommended`` one (None when none can)."""
        step = timeframe_ms(timeframe)
        now_ms = int(time.time() * 1000) if now_ms is None else now_ms
        options: dict[str, Any] = {}
        if self.rest_candle_limit is None:
            options["rest"] = {"ok": self.rest_history, "detail": "paginated OHLCV history"}
        else:
            reach = now_ms - self.rest_candle_limit * step
            options["rest"] = {
                "ok": start_ms >= reach,
                "detail": f"REST OHLC returns only the newest {self.rest_candle_limit} candles"
                f" (from {datetime.fromtimestamp(reach / 1000, tz=UTC):%Y-%m-%d %H:%M})",
            }
        if self.trades_history:
            slots = max(1, (end_ms - start_ms) // step)
            calls = None
            if trades_per_slot is not None:
                calls = max(1, int(trades_per_slot * slots / self.trades_per_call) + 1)
            options["trades"] = {
                "ok": True,
                "detail": "trades history reaches everything; rebuilt into candles",
                "calls": calls,
                "seconds": None if calls is None else round(calls * self.seconds_per_call, 1),
            }
        dump = self.dump_option(pair, timeframe, start_ms, end_ms)
        if dump is not None:
            options["dump"] = dump
        options["recommended"] = next((c for c in ("rest", "dump", "trades") if options.get(c, {}).get("ok")), None)
        return options
