"""Errors the Kraken plugin raises, each a one-line message naming the thing and the fix."""

from __future__ import annotations

from tradecore.api import OutOfReach as RangeOutOfReach
from tradecore.api import TradecoreError


class KrakenError(TradecoreError):
    """A Kraken or ccxt fetch that cannot go on."""


class CursorStalled(KrakenError):
    """Kraken's Trades ``last`` cursor stopped advancing (the same page keeps coming back)."""


class DumpError(KrakenError):
    """A dump file that cannot be imported (corrupt, truncated, unsafe, or not a Kraken OHLCVT file)."""


class OutOfReach(KrakenError, RangeOutOfReach):
    """A range the chosen method cannot reach; the message names what to get instead (a repair records the
    hole as unfillable with it)."""


class Unreachable(KrakenError):
    """The exchange's host cannot be reached at all (connection refused, no DNS, no route): not retried."""
