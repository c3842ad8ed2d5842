"""ccxt-style timeframes (``1m``, ``1h``, ``1d``) and their lengths in milliseconds."""

from __future__ import annotations

import re

_UNITS_MS = {"m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
_PATTERN = re.compile(r"^([1-9][0-9]{0,3})([mhdw])$")
#: the intervals Kraken serves, in ccxt notation (minutes 1, 5, 15, 30, 60, 240, 1440, 10080, 21600)
KRAKEN_TIMEFRAMES = ("1m", "5m", "15m", "30m", "1h", "4h", "1d", "1w", "2w")


class TimeframeError(ValueError):
    """An unparseable timeframe."""


def timeframe_ms(timeframe: str) -> int:
    """Length of ``timeframe`` in milliseconds: ``timeframe_ms("1h") == 3_600_000``."""
    match = _PATTERN.match(timeframe) if isinstance(timeframe, str) else None
    if not match:
        raise TimeframeError(
            f"invalid timeframe {timeframe!r}: use a number and a unit m/h/d/w, e.g. 1m, 15m, 1h, 4h, 1d"
        )
    return int(match.group(1)) * _UNITS_MS[match.group(2)]


def bars_per_year(timeframe: str) -> float:
    """Bars in a 365-day year of a 24/7 market."""
    return 365 * 86_400_000 / timeframe_ms(timeframe)


def is_multiple(coarse: str, fine: str) -> bool:
    """Whether ``coarse`` is a whole multiple of ``fine`` (so ``fine`` resamples into it)."""
    return timeframe_ms(coarse) % timeframe_ms(fine) == 0 and timeframe_ms(coarse) >= timeframe_ms(fine)
