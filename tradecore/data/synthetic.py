"""Seeded synthetic OHLCV: regime-switching drift, clustered volatility, consistent bars, volume.

Returns follow a hidden Markov chain of regimes (up-trend, down-trend, calm) whose drift persists
for hundreds of bars -- structure a policy can learn from trend features -- and a log-volatility
AR(1) process that clusters volatility. Bars are internally consistent: ``open`` is the previous
close, ``high >= max(open, close)``, ``low <= min(open, close)``; volume rises with absolute return.
The same params and seed give the same candles on every machine.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tradecore.fields import UtcDatetime
from tradecore.interfaces import DataSource, RunContext
from tradecore.timeframes import timeframe_ms

if TYPE_CHECKING:
    import polars as pl


class SyntheticParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    symbol: str = Field("SYN/USD", description="Pair name recorded with the data (ccxt style)")
    timeframe: str = Field("1h", description="Bar length, ccxt style: 1m, 5m, 1h, 1d ...")
    bars: int = Field(20_000, ge=10, le=50_000_000, description="Number of candles")
    start: UtcDatetime = Field(datetime(2020, 1, 1, tzinfo=UTC), description="Open time of the first bar (UTC)")
    seed: int = Field(0, ge=0, lt=2**32, description="Generator seed (independent of the manifest seed)")
    price: float = Field(20_000.0, gt=0, description="Price of the first bar")
    volatility: float = Field(0.006, gt=0, lt=0.5, description="Typical per-bar return volatility")
    trend: float = Field(0.25, ge=0, le=5, description="Regime drift as a multiple of volatility per bar")
    regime_bars: int = Field(300, ge=2, description="Mean length of a regime in bars")
    vol_persistence: float = Field(0.98, ge=0, lt=1, description="AR(1) coefficient of log-volatility")
    asset_index: int = Field(
        0,
        ge=0,
        le=10_000,
        description="Position in source.params.symbols (set for you): asset i > 0 draws from "
        "its own stream of the seed, so a portfolio's assets differ",
    )

    @field_validator("timeframe")
    @classmethod
    def _timeframe(cls, value: str) -> str:
        timeframe_ms(value)
        return value


def generate_candles(params: SyntheticParams) -> pl.DataFrame:
    """The candles for ``params`` as a Polars frame (time, open, high, low, close, volume, trades)."""
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(params.seed if not params.asset_index else [params.seed, params.asset_index])
    n = params.bars
    sigma = params.volatility

    # regimes: geometric durations, labels 0=up, 1=down, 2=calm
    durations = rng.geometric(1.0 / params.regime_bars, size=n // 2 + 2)
    labels = rng.choice(3, size=durations.size, p=[0.35, 0.35, 0.30])
    regime = np.repeat(labels, durations)[:n]
    drift = np.array([params.trend * sigma, -params.trend * sigma, 0.0])[regime]
    vol_scale = np.array([1.0, 1.2, 0.6])[regime]

    # clustered volatility: log-vol follows an AR(1), computed as an exponential filter
    phi = params.vol_persistence
    shocks = rng.standard_normal(n) * 0.25 * np.sqrt(1 - phi**2) / max(1 - phi, 1e-9)
    log_vol = pl.Series(shocks).ewm_mean(alpha=1 - phi, adjust=False).to_numpy() if phi > 0 else shocks
    bar_sigma = sigma * vol_scale * np.exp(log_vol - log_vol.mean())

    returns = drift + bar_sigma * rng.standard_normal(n)
    close = params.price * np.exp(np.cumsum(returns))
    open_ = np.empty(n)
    open_[0] = params.price
    open_[1:] = close[:-1]
    wick_up = np.abs(rng.standard_normal(n)) * bar_sigma * 0.5
    wick_down = np.abs(rng.standard_normal(n)) * bar_sigma * 0.5
    high = np.maximum(open_, close) * np.exp(wick_up)
    low = np.minimum(open_, close) * np.exp(-wick_down)
    activity = 1.0 + np.abs(returns) / sigma
    volume = rng.lognormal(mean=0.0, sigma=0.5, size=n) * activity * 10.0
    trades = np.maximum(1, np.rint(volume * 3)).astype(np.int64)

    step = timeframe_ms(params.timeframe)
    start_ms = int(params.start.timestamp() * 1000)
    start_ms -= start_ms % step  # align to the timeframe like exchange candles
    times = start_ms + np.arange(n, dtype=np.int64) * step
    return pl.DataFrame(
        {
            "time": pl.Series(times).cast(pl.Datetime("ms", "UTC")),
            "open": open_,
            "high": high,
            "low": low,
            "close": close,
            "volume": volume,
            "trades": pl.Series(trades, dtype=pl.Int64),
        }
    )


class SyntheticSource(DataSource):
    """The ``synthetic`` source component."""

    def __init__(self, params: SyntheticParams) -> None:
        self.params = params

    def load(self, ctx: RunContext) -> pl.DataFrame:
        return generate_candles(self.params)

    def describe(self) -> dict[str, Any]:
        p = self.params
        return {
            "exchange": "synthetic",
            "pair": p.symbol,
            "timeframe": p.timeframe,
            "bars": p.bars,
            "start": p.start.isoformat(),
            "seed": p.seed,
            **({"asset_index": p.asset_index} if p.asset_index else {}),
        }
