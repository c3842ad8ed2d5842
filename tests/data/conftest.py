"""Fixtures for the lake tests: a fresh lake, candle frames, and the real Kraken files in ../shared."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from tradecore.data.lake import Lake

# ../shared relative to the repository root (tests/data/conftest.py -> parents[2] is the repo)
KRAKEN = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "kraken"


@pytest.fixture
def kraken_dir() -> Path:
    if not KRAKEN.is_dir():
        pytest.skip("../shared/data/kraken is absent (real Kraken files)")
    return KRAKEN.resolve()


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    return Lake(tmp_path / "lake")


def candles(
    start_ms: int, n: int, step_ms: int = 60_000, seed: int = 0, drop: np.ndarray | None = None, trades: bool = True
) -> pl.DataFrame:
    """Consistent random candles from ``start_ms``; ``drop`` removes rows by index (holes)."""
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 1e-3, n)))
    open_ = np.concatenate([[100.0], close[:-1]])
    high = np.maximum(open_, close) * (1 + rng.uniform(0, 1e-3, n))
    low = np.minimum(open_, close) * (1 - rng.uniform(0, 1e-3, n))
    frame = pl.DataFrame(
        {
            "time": start_ms + np.arange(n, dtype=np.int64) * step_ms,
            "open": open_,
            "high": high,
            "low": low,
            "close": close,
            "volume": rng.uniform(0.1, 5, n),
            "trades": rng.integers(1, 50, n) if trades else [None] * n,
        },
        schema_overrides={"trades": pl.Int64},
    )
    if drop is not None:
        keep = np.ones(n, bool)
        keep[drop] = False
        frame = frame.filter(pl.Series(keep))
    return frame


def read_candle_csv(path: Path) -> pl.DataFrame:
    """A headerless ``time,open,high,low,close,volume,trades`` CSV (time in UNIX seconds), as the lake's
    candle frame."""
    schema = {"time": pl.Int64, **dict.fromkeys(("open", "high", "low", "close", "volume"), pl.Float64)}
    frame = pl.read_csv(path, has_header=False, schema={**schema, "trades": pl.Int64})
    return frame.with_columns((pl.col("time") * 1000).cast(pl.Datetime("ms", "UTC")))


def read_trades_csv(path: Path) -> pl.DataFrame:
    """A headerless ``time,price,volume`` trades CSV (time in UNIX seconds) with ``time`` in epoch ms."""
    frame = pl.read_csv(path, has_header=False, schema=dict.fromkeys(("time", "price", "volume"), pl.Float64))
    return frame.with_columns((pl.col("time") * 1000).round(0).cast(pl.Int64))
