"""What Kraken can still deliver, for gap reports: REST OHLC reaches only the newest 720 candles, the trades
history reaches everything, and the OHLCVT dumps hold the rest (the advice names the file and archive).

Kraken's OHLCVT files (complete history or quarterly) hold a row for every interval that had a trade, a
REST window keeps every bar with a trade, and trades rebuilt into candles miss none: an empty slot inside
one write of any of these origins is an interval nobody traded in, never data to fetch."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tradecore.api import ExchangeFacts, timeframe_ms
from tradecore_kraken.kraken_csv import DUMP_MINUTES, FULL_ARCHIVE, quarterly_archive
from tradecore_kraken.pairs import dump_altname
from tradecore_kraken.planner import OHLC_LIMIT, TRADES_PER_CALL


def _quarter(ms: int) -> tuple[int, int]:
    d = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return d.year, (d.month - 1) // 3 + 1


class KrakenFacts(ExchangeFacts):
    """Kraken's reach, plus the dump file (and archive) that holds a missing range."""

    def dump_option(self, pair: str, timeframe: str, start_ms: int, end_ms: int) -> dict[str, Any] | None:
        minutes = timeframe_ms(timeframe) // 60_000
        usable = [m for m in DUMP_MINUTES if minutes % m == 0 and m <= minutes]
        if not usable:
            return None
        member_minutes = minutes if minutes in DUMP_MINUTES else max(usable)
        member = f"{dump_altname(pair)}_{member_minutes}.csv"
        first_q, last_q = _quarter(start_ms), _quarter(max(start_ms, end_ms - 1))
        archive = quarterly_archive(*first_q) if first_q == last_q else FULL_ARCHIVE
        note = "" if member_minutes == minutes else f" (resample {member_minutes}m to {timeframe})"
        return {"ok": True, "archive": archive, "file": member, "detail": f"{member} inside {archive}{note}"}


KRAKEN_FACTS = KrakenFacts(
    rest_candle_limit=OHLC_LIMIT,
    trades_history=True,
    trades_per_call=TRADES_PER_CALL,
    seconds_per_call=1.2,
    complete_origins=("dump", "rest", "trades-rebuild", "stream"),
    history_start="2013-09-10",  # Kraken's first BTC/USD trade
    markets=("BTC/USD", "ETH/USD"),
)
