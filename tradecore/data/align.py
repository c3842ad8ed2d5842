"""Many assets' candles on one UTC grid: what a portfolio trades, with every filled or dropped slot accounted for.

The grid runs every ``timeframe`` step from the latest first candle of any asset to the earliest last one (the
range every asset covers). A slot where an asset has no candle is one of two kinds, decided by the gap report
(:func:`tradecore.data.gaps.gap_report`), the same evidence ``tradecore data gaps`` uses:

- **no trades** (nobody traded): the asset's last close is carried as its open, high, low and close, with volume
  0, and the slot is marked not ``traded``; the env fills no order for that asset on such a bar.
- **missing** (data nobody fetched): ``missing="refuse"`` refuses the run naming the asset and the first hole;
  ``missing="drop"`` removes the slot from the grid for every asset (the time axis then jumps, as it does over a
  hole of a single-pair run).

:attr:`AlignedCandles.record` says which rule applied and how many slots each asset had filled or dropped; the
run stores it in its provenance.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from tradecore.errors import TradecoreError
from tradecore.interfaces import Candles
from tradecore.timeframes import timeframe_ms

if TYPE_CHECKING:
    import polars as pl

    from tradecore.data.exchange_facts import ExchangeFacts

MISSING_RULES = ("refuse", "drop")


@dataclass(frozen=True)
class AlignedCandles:
    """Candles of ``symbols`` on one grid: ``prices[a, i]`` is asset ``a``'s open, high, low, close at ``time[i]``."""

    symbols: tuple[str, ...]
    timeframe: str
    time: np.ndarray  # int64 (n,) epoch ms
    prices: np.ndarray  # float64 (assets, n, 4)
    volume: np.ndarray  # float64 (assets, n)
    traded: np.ndarray  # bool (assets, n): False on a carried no-trade slot
    record: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.time)

    @property
    def assets(self) -> int:
        return len(self.symbols)

    def candles(self, asset: int) -> Candles:
        """Asset ``asset``'s candles on the grid (carried slots included), for its indicators."""
        p = self.prices[asset]
        return Candles(
            time=self.time,
            open=np.ascontiguousarray(p[:, 0]),
            high=np.ascontiguousarray(p[:, 1]),
            low=np.ascontiguousarray(p[:, 2]),
            close=np.ascontiguousarray(p[:, 3]),
            volume=self.volume[asset],
            timeframe=self.timeframe,
        )

    def slice(self, start: int, stop: int) -> AlignedCandles:
        """Rows ``start:stop`` (views)."""
        return AlignedCandles(
            self.symbols,
            self.timeframe,
            self.time[start:stop],
            self.prices[:, start:stop],
            self.volume[:, start:stop],
            self.traded[:, start:stop],
            self.record,
        )


def align_frames(
    frames: Mapping[str, pl.DataFrame],
    timeframe: str,
    *,
    missing: str = "refuse",
    facts: Mapping[str, ExchangeFacts] | None = None,
    field_name: str = "env.missing",
) -> AlignedCandles:
    """Align each symbol's sorted candle frame (``time``, OHLCV, optional ``trades``/``origin``) on one grid.
    ``facts`` (per symbol) says what its exchange delivers, the gap report's "no trades" evidence."""
    from tradecore.data.gaps import gap_report

    if missing not in MISSING_RULES:
        raise TradecoreError(f"{field_name}: must be one of {', '.join(MISSING_RULES)}, got {missing!r}")
    if len(frames) < 2:
        raise TradecoreError("source.params.symbols: a portfolio needs at least two symbols")
    step = timeframe_ms(timeframe)
    times = {s: _times(f) for s, f in frames.items()}
    for s, t in times.items():
        if len(t) == 0:
            raise TradecoreError(f"source.params.symbols: {s} has no candles in the requested range")
    first = max(int(t[0]) for t in times.values())
    last = min(int(t[-1]) for t in times.values())
    if last < first:
        raise TradecoreError(
            "source.params.symbols: the symbols' candles do not overlap in time; load a common range "
            f"({', '.join(f'{s} {_iso(t[0])}..{_iso(t[-1])}' for s, t in times.items())})"
        )
    grid = np.arange(first, last + step, step, dtype=np.int64)
    n, symbols = len(grid), tuple(frames)
    prices = np.empty((len(symbols), n, 4))
    volume = np.zeros((len(symbols), n))
    traded = np.zeros((len(symbols), n), dtype=bool)
    absent = np.zeros(n, dtype=bool)  # slots some asset is missing data for
    per_asset: dict[str, dict[str, Any]] = {}
    for a, s in enumerate(symbols):
        frame, t = frames[s], times[s]
        inside = (t >= first) & (t <= last)
        slot = (t[inside] - first) // step
        if ((t[inside] - first) % step).any():
            raise TradecoreError(f"source.params.symbols: {s} has candles off the {timeframe} grid")
        cols = {c: np.asarray(frame[c].to_numpy(), dtype=np.float64)[inside] for c in ("open", "high", "low", "close")}
        present = np.zeros(n, dtype=bool)
        present[slot] = True
        # carry the last close forward into every empty slot (a no-trade bar); missing slots are decided below
        idx = np.where(present, np.arange(n), -1)
        np.maximum.accumulate(idx, out=idx)
        close = np.empty(n)
        close[slot] = cols["close"]
        carried = close[np.maximum(idx, 0)]
        for k, c in enumerate(("open", "high", "low", "close")):
            prices[a, :, k] = carried
            prices[a, slot, k] = cols[c]
        volume[a, slot] = np.asarray(frame["volume"].to_numpy(), dtype=np.float64)[inside]
        traded[a] = present
        no_trades, lost = _holes(gap_report(frame, "", s, timeframe, fill=False, facts=(facts or {}).get(s)), grid)
        absent |= lost
        per_asset[s] = {
            "candles": int(present.sum()),
            "no_trades_slots": int((no_trades & ~present).sum()),
            "missing_slots": int(lost.sum()),
        }
        if missing == "refuse" and lost.any():
            at = int(np.flatnonzero(lost)[0])
            raise TradecoreError(
                f"{field_name}: {s} is missing data for {int(lost.sum()):,} {timeframe} slots (first at "
                f'{_iso(grid[at])} UTC); fill them with `tradecore data fetch` or set env.missing to "drop"'
            )
    keep = ~absent
    record = {
        "grid": {"first": _iso(grid[0]), "last": _iso(grid[-1]), "timeframe": timeframe, "slots": n},
        "no_trades": "carry the last close as open/high/low/close, volume 0, no fills",
        "missing": missing,
        "dropped_slots": int(absent.sum()),
        "bars": int(keep.sum()),
        "assets": per_asset,
    }
    if not keep.all():
        if not keep.any():
            raise TradecoreError(f"{field_name}: dropping the missing slots leaves no bars; fill the data instead")
        grid, prices, volume, traded = grid[keep], prices[:, keep], volume[:, keep], traded[:, keep]
    return AlignedCandles(
        symbols, timeframe, grid, np.ascontiguousarray(prices), volume, np.ascontiguousarray(traded), record
    )


def _times(frame: pl.DataFrame) -> np.ndarray:
    import polars as pl

    times = frame["time"]
    if times.dtype != pl.Int64:
        times = times.dt.epoch("ms")
    return np.ascontiguousarray(times.to_numpy(), dtype=np.int64)


def _holes(report: Any, grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Grid slots inside the report's "no trades" holes and inside its "missing" holes."""
    no_trades = np.zeros(len(grid), dtype=bool)
    lost = np.zeros(len(grid), dtype=bool)
    for gap in report.gaps:
        lo, hi = np.searchsorted(grid, gap.start_ms), np.searchsorted(grid, gap.end_ms)
        (no_trades if gap.kind == "no_trades" else lost)[lo:hi] = True
    return no_trades, lost


def _iso(ms: int) -> str:
    return str(np.datetime_as_string(np.datetime64(int(ms), "ms"), unit="m"))
