"""The Kraken fetch planner: per range, dump import, REST OHLC (newest 720 bars) or trades rebuild.

Priority follows what each way can reach: dumps give whole history up to their last row; REST
OHLC serves only the newest 720 bars (the last one still in progress); trades reach everything but
cost one request per 1000 trades. ``auto`` takes dumps first, REST for the tail it can reach and
trades for the rest. Ranges a forced method cannot reach are refused before any data request,
naming the dump file to get.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from tradecore.api import PlanStep, timeframe_ms
from tradecore_kraken.errors import OutOfReach
from tradecore_kraken.kraken_csv import FULL_ARCHIVE, MINUTES_TO_TIMEFRAME, quarterly_archive

OHLC_LIMIT = 720
#: ccxt timeframe -> Kraken interval minutes (REST and dump file names)
TIMEFRAME_MINUTES = {timeframe: minutes for minutes, timeframe in MINUTES_TO_TIMEFRAME.items()}
REST_TIMEFRAMES = ("1m", "5m", "15m", "30m", "1h", "4h", "1d", "1w", "2w")
#: Kraken serves at most 1000 trades per Trades call; ccxt paces Trades at rateLimit x cost 1.2
TRADES_PER_CALL = 1000


@dataclass(frozen=True)
class DumpCoverage:
    """One dump file for the series: where it is and the bars it holds."""

    label: str
    first_ms: int
    last_ms: int  # open time of its last bar


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M")


def dump_name(altname: str, timeframe: str) -> str:
    return f"{altname}_{TIMEFRAME_MINUTES[timeframe]}.csv"


def dump_archives(start_ms: int, end_ms: int) -> str:
    """Which Kraken OHLCVT archive holds a range: the quarterlies it spans, or the complete history."""
    quarters = []
    y0, m0 = _ym(start_ms)
    y1, m1 = _ym(end_ms - 1)
    q, y = (m0 - 1) // 3 + 1, y0
    while (y, q) <= (y1, (m1 - 1) // 3 + 1):
        quarters.append(quarterly_archive(y, q))
        q, y = (1, y + 1) if q == 4 else (q + 1, y)
    if len(quarters) <= 2:
        return " or ".join(quarters) + f" (quarterly) or {FULL_ARCHIVE} (complete history)"
    return f"{FULL_ARCHIVE} (complete history)"


def _ym(ms: int) -> tuple[int, int]:
    d = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return d.year, d.month


def rest_reach(timeframe: str, now_ms: int) -> int:
    """Open time of the oldest closed bar REST OHLC still returns."""
    step = timeframe_ms(timeframe)
    return now_ms - now_ms % step - (OHLC_LIMIT - 1) * step


def plan(
    method: str,
    timeframe: str,
    altname: str,
    start_ms: int,
    end_ms: int,
    now_ms: int | None,
    dumps: list[DumpCoverage],
    *,
    rate_limit_s: float = 1.2,
) -> list[PlanStep]:
    """The steps for [start_ms, end_ms) (bar-aligned), oldest first. ``now_ms`` is needed unless
    ``method == "dump"``."""
    step = timeframe_ms(timeframe)
    steps: list[PlanStep] = []
    cursor = start_ms
    for dump in sorted(dumps, key=lambda d: d.first_ms):
        lo, hi = max(cursor, dump.first_ms), min(end_ms, dump.last_ms + step)
        if method in ("auto", "dump") and lo < hi and lo <= cursor:
            steps.append(
                PlanStep("dump", cursor, hi, f"import {dump.label}", {"rows_max": (hi - cursor) // step, "requests": 0})
            )
            cursor = hi
    if cursor >= end_ms:
        return steps
    name = dump_name(altname, timeframe)
    if method == "dump":
        raise OutOfReach(
            f"no dump covers {iso(cursor)} .. {iso(end_ms)}: get {name} from "
            f"{dump_archives(cursor, end_ms)} and pass it in dumps, or use method trades"
        )
    assert now_ms is not None
    closed_until = now_ms - now_ms % step
    if cursor >= closed_until:
        return steps
    end = min(end_ms, closed_until)
    reach = rest_reach(timeframe, now_ms)
    if method == "rest":
        if timeframe not in REST_TIMEFRAMES:
            raise OutOfReach(f"Kraken's REST OHLC has no {timeframe} bars: use {', '.join(REST_TIMEFRAMES)}")
        if cursor < reach:
            raise OutOfReach(
                f"REST OHLC reaches only the newest {OHLC_LIMIT} {timeframe} bars (from {iso(reach)}); for "
                f"{iso(cursor)} .. {iso(min(end, reach))} use method trades or import {name} from "
                f"{dump_archives(cursor, min(end, reach))}"
            )
        return [
            *steps,
            PlanStep(
                "rest",
                cursor,
                end,
                "GET /0/public/OHLC (newest 720 bars)",
                {"requests": 1, "rows_max": (end - cursor) // step},
            ),
        ]
    if method == "auto" and timeframe in REST_TIMEFRAMES and end > reach:
        if cursor < reach:
            steps.append(_trades_step(cursor, reach, name, rate_limit_s))
            cursor = reach
        steps.append(
            PlanStep(
                "rest",
                cursor,
                end,
                "GET /0/public/OHLC (newest 720 bars)",
                {"requests": 1, "rows_max": (end - cursor) // step},
            )
        )
        return steps
    return [*steps, _trades_step(cursor, end, name, rate_limit_s)]


def _trades_step(start_ms: int, end_ms: int, name: str, rate_limit_s: float) -> PlanStep:
    return PlanStep(
        "trades",
        start_ms,
        end_ms,
        f"GET /0/public/Trades paged by the last cursor, rebuilt into candles (a dump {name} is faster)",
        {"seconds_per_request": rate_limit_s, "trades_per_request": TRADES_PER_CALL},
    )
