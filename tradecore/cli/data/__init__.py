"""``tradecore data``: fetch into the lake, repair its holes and inspect it (list, coverage, gaps, validate,
resample, export, jobs, slices, groups). Works for every source; output is a table, or JSON with ``--json``.

One module per concern: :mod:`.fetch` (fetch, groups), :mod:`.inspect` (list, coverage, gaps, validate,
slices), :mod:`.repair`, :mod:`.transform` (resample, export), :mod:`.jobs`.
"""

from __future__ import annotations

# the commands register themselves on ``data`` (:mod:`.group`) when their modules are imported
from tradecore.cli.data import fetch, inspect, jobs, repair, stream, transform  # noqa: F401
from tradecore.cli.data.group import data

__all__ = ["data"]
