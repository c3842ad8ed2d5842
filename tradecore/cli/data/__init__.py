"""``tradecore data``: fetch into the lake and inspect it (list, coverage, gaps, validate, resample, export,
jobs, slices, groups). Works for every source; output is a table, or JSON with ``--json``.

One module per concern: :mod:`.fetch` (fetch, groups), :mod:`.inspect` (list, coverage, gaps, validate,
slices), :mod:`.transform` (resample, export), :mod:`.jobs`.
"""

from __future__ import annotations

import click


@click.group()
def data() -> None:
    """Market data: fetch into the Parquet lake, inspect coverage, gaps and quality, resample, export."""


# the commands register themselves on ``data`` when their modules are imported
from tradecore.cli.data import fetch, inspect, jobs, transform  # noqa: E402, F401
