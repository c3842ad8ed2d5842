"""Where tradecore keeps data and runs by default, and how users override it."""

from __future__ import annotations

import os
from pathlib import Path

LAKE_ENV = "TRADECORE_LAKE"
RUNS_ENV = "TRADECORE_RUNS"


def default_lake_root() -> Path:
    """``$TRADECORE_LAKE``, else the per-user data folder (e.g. ``~/.local/share/tradecore/lake``)."""
    if os.environ.get(LAKE_ENV):
        return Path(os.environ[LAKE_ENV]).expanduser()
    from platformdirs import user_data_path

    return user_data_path("tradecore", appauthor=False) / "lake"


def resolve_lake_root(explicit: str | Path | None = None) -> Path:
    """An explicit root (flag or manifest) wins over the environment and the default."""
    return Path(explicit).expanduser() if explicit else default_lake_root()


def default_runs_root() -> Path:
    """``$TRADECORE_RUNS``, else ``./runs`` in the working directory."""
    return Path(os.environ.get(RUNS_ENV) or "runs")
