"""Episode bounds over a split: the one place that knows which bars an episode may start on and when it ends.

An observation needs ``window`` bars of features and an action needs the next bar to fill at, so a
part of the data is usable only with at least :func:`bars_needed` bars. Bars are split-relative.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tradecore.errors import TradecoreError


def bars_needed(window: int) -> int:
    """Bars a split needs for one step: a full observation window plus the bar the first order fills at."""
    return window + 1


@dataclass(frozen=True)
class EpisodeBounds:
    """Where episodes of a split of ``rows`` bars start and how many steps they may take."""

    rows: int
    first_start: int  # the first bar with a full observation window
    last_start: int  # the latest start a random draw may give: a whole episode fits after it
    last_forced_start: int  # the latest start ``reset(options={"start": ...})`` accepts (one step left)
    limit: int  # steps before truncation (the split's end truncates earlier)

    @classmethod
    def of(cls, rows: int, window: int, episode_steps: int | None, split_name: str = "data") -> EpisodeBounds:
        if rows < bars_needed(window):
            raise TradecoreError(
                f"env.window: {split_name} split has {rows} bars but a window of {window} needs at least "
                f"{bars_needed(window)}; lower env.window or use more data"
            )
        first = window - 1
        longest = rows - 1 - first
        length = episode_steps if episode_steps is not None else longest
        return cls(
            rows=rows,
            first_start=first,
            last_start=max(first, rows - 1 - length),
            last_forced_start=rows - 2,
            limit=episode_steps if episode_steps is not None else rows,
        )

    @property
    def longest(self) -> int:
        """Steps of the longest episode: the step limit or the bars left after the first start."""
        return min(self.limit, self.rows - 1 - self.first_start)

    def draw(self, rng: np.random.Generator) -> int:
        """A random start from ``rng`` (the first start when only one fits)."""
        if self.last_start > self.first_start:
            return self.first_start + int(rng.integers(0, self.last_start - self.first_start + 1))
        return self.first_start

    def check_start(self, start: int) -> int:
        if not self.first_start <= start <= self.last_forced_start:
            raise TradecoreError(
                f"reset options.start must be in [{self.first_start}, {self.last_forced_start}], got {start}"
            )
        return start
