"""The ``tradecore data`` command group; each command module adds its commands to it."""

from __future__ import annotations

import click


@click.group()
def data() -> None:
    """Market data: fetch into the Parquet lake, inspect coverage, gaps and quality, resample, export."""
