"""What each exchange's data sources can still deliver, as data: REST reach, trades history, dumps.

Only facts the gap report needs. Exchanges not listed are treated like a generic ccxt exchange with
paginated OHLCV history (``since``) and no downloadable dumps.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tradecore.timeframes import timeframe_ms


@dataclass(frozen=True)
class ExchangeFacts:
    """How far back each way of getting candles reaches for one exchange."""

    #: REST OHLC returns only the newest N candles (None: paginated history reaches everything)
    rest_candle_limit: int | None = None
    #: the public trades endpoint pages through the whole history
    trades_history: bool = False
    trades_per_call: int = 1000
    seconds_per_call: float = 1.0
    #: the exchange emits no candle for an interval without trades
    skips_empty_candles: bool = True
    #: origins whose stored ranges are complete (a hole between two of their rows means no trades)
    complete_origins: tuple[str, ...] = ("dump", "trades-rebuild", "rest", "synthetic")
    #: downloadable candle dumps: archive names and the file inside
    dump_full: str | None = None
    dump_quarterly: str | None = None
    dump_member: str | None = None
    dump_minutes: tuple[int, ...] = ()
    #: ccxt base/quote currency -> the exchange's own code used in dump file names
    asset_codes: dict[str, str] = field(default_factory=dict)


EXCHANGES: dict[str, ExchangeFacts] = {
    "kraken": ExchangeFacts(
        rest_candle_limit=720,
        trades_history=True,
        trades_per_call=1000,
        seconds_per_call=1.2,
        dump_full="Kraken_OHLCVT.zip",
        dump_quarterly="Kraken_OHLCVT_Q{quarter}_{year}.zip",
        dump_member="{altname}_{minutes}.csv",
        dump_minutes=(1, 5, 15, 30, 60, 240, 720, 1440),
        asset_codes={"BTC": "XBT", "DOGE": "XDG"},
    ),
    "synthetic": ExchangeFacts(rest_candle_limit=None, skips_empty_candles=False),
}
GENERIC = ExchangeFacts()


def facts(exchange: str) -> ExchangeFacts:
    return EXCHANGES.get(exchange, GENERIC)


def dump_altname(exchange: str, pair: str) -> str:
    """``BTC/USD`` -> ``XBTUSD`` on Kraken (the ``altname`` its dump files are named by)."""
    codes = facts(exchange).asset_codes
    base, _, quote = pair.partition("/")
    quote = quote.split(":")[0]
    return codes.get(base, base) + codes.get(quote, quote)


def _quarter(ms: int) -> tuple[int, int]:
    d = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return d.year, (d.month - 1) // 3 + 1


def fill_options(
    exchange: str,
    pair: str,
    timeframe: str,
    start_ms: int,
    end_ms: int,
    *,
    now_ms: int | None = None,
    trades_per_slot: float | None = None,
) -> dict[str, Any]:
    """How a missing range [start_ms, end_ms) can still be filled: ``rest``, ``trades``, ``dump`` and the
    recommended one."""
    info = facts(exchange)
    step = timeframe_ms(timeframe)
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    options: dict[str, Any] = {}
    if info.rest_candle_limit is None:
        options["rest"] = {"ok": exchange != "synthetic", "detail": "paginated OHLCV history"}
    else:
        reach = now_ms - info.rest_candle_limit * step
        ok = start_ms >= reach
        options["rest"] = {
            "ok": ok,
            "detail": f"REST OHLC returns only the newest {info.rest_candle_limit} candles"
            f" (from {datetime.fromtimestamp(reach / 1000, tz=UTC):%Y-%m-%d %H:%M})",
        }
    if info.trades_history:
        slots = max(1, (end_ms - start_ms) // step)
        calls = None
        if trades_per_slot is not None:
            calls = max(1, int(trades_per_slot * slots / info.trades_per_call) + 1)
        options["trades"] = {
            "ok": True,
            "detail": "trades history reaches everything; rebuilt into candles",
            "calls": calls,
            "seconds": None if calls is None else round(calls * info.seconds_per_call, 1),
        }
    if info.dump_member:
        minutes = step // 60_000
        usable = [m for m in info.dump_minutes if minutes % m == 0 and m <= minutes]
        if usable:
            member_minutes = minutes if minutes in info.dump_minutes else max(usable)
            member = info.dump_member.format(altname=dump_altname(exchange, pair), minutes=member_minutes)
            first_q, last_q = _quarter(start_ms), _quarter(max(start_ms, end_ms - 1))
            if first_q == last_q and info.dump_quarterly:
                archive = info.dump_quarterly.format(year=first_q[0], quarter=first_q[1])
            else:
                archive = info.dump_full
            note = "" if member_minutes == minutes else f" (resample {member_minutes}m to {timeframe})"
            options["dump"] = {
                "ok": True,
                "archive": archive,
                "file": member,
                "detail": f"{member} inside {archive}{note}",
            }
    for choice in ("rest", "dump", "trades"):
        if options.get(choice, {}).get("ok"):
            options["recommended"] = choice
            break
    else:
        options["recommended"] = None
    return options
