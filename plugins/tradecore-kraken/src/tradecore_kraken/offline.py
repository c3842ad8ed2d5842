"""What to say when a run needs Kraken and Kraken cannot be reached: what the lake holds for the range,
and the three ways to fill it (a dump import, a fetch later, the synthetic source), as exact commands."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tradecore.api import timeframe_ms
from tradecore_kraken.planner import iso

if TYPE_CHECKING:
    from tradecore.api import Lake


def offline_advice(lake: Lake, symbol: str, timeframe: str, start_ms: int, end_ms: int, reason: str) -> str:
    """A few lines: the failure, what ``lake`` holds in [start_ms, end_ms), and how to fill the range."""
    from tradecore_kraken.facts import KRAKEN_FACTS

    step = timeframe_ms(timeframe)
    start_ms -= start_ms % step
    stored = lake.scan("kraken", symbol, timeframe, start_ms, end_ms).select("time").collect()["time"]
    wanted = max(1, -(-(end_ms - start_ms) // step))
    span = f"{iso(start_ms)} .. {iso(end_ms)}"
    if stored.len():
        held = (
            f"the lake {lake.root} holds {stored.len():,} of {wanted:,} {timeframe} candles for {span} "
            f"(from {iso(stored.dt.epoch('ms').min())} to {iso(stored.dt.epoch('ms').max())})"
        )
    else:
        held = f"the lake {lake.root} holds no {symbol} {timeframe} candles for {span}"
    dump = KRAKEN_FACTS.dump_option(symbol, timeframe, start_ms, end_ms)
    fetch = (
        f"tradecore data fetch --source kraken --pair {symbol} --timeframe {timeframe} "
        f"--start {iso(start_ms).replace(' ', 'T')} --end {iso(end_ms).replace(' ', 'T')} --lake {lake.root}"
    )
    lines = [f"kraken {symbol} {timeframe}: cannot reach Kraken ({reason})", f"  {held}; to fill it:"]
    if dump is not None:
        lines.append(
            f"  - import a dump: tradecore kraken import-dump {dump['file']} --lake {lake.root}"
            f"  ({dump['file']} is inside {dump['archive']}, from Kraken's downloadable OHLCVT data)"
        )
    lines += [
        f"  - or fetch later, once online: {fetch}",
        '  - or run on generated candles: set the manifest\'s source to {"type": "synthetic"}',
    ]
    return "\n".join(lines)
