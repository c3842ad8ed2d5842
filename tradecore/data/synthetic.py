"""Seeded synthetic OHLCV: regime-switching drift, clustered volatility, consistent bars, volume.

Returns follow a hidden Markov chain of regimes (up-trend, down-trend, calm) whose drift persists
for hundreds of bars -- structure a policy can learn from trend features -- and a log-volatility
AR(1) process that clusters volatility. Bars are internally consistent: ``open`` is the previous
close, ``high >= max(open, close)``, ``low <= min(open, close)``; volume rises with absolute return.
The same params and seed give the same candles on every machine.

With ``correlation`` set, the pair is one member of a correlated basket (a portfolio manifest loads
one source per symbol of ``source.params.symbols``, each with its ``asset_index``): its regimes and
price level come from the seed and its index, so which asset trends persists for hundreds of bars
and differs between assets (visible in trailing-return features: something an allocator can learn),
while every member's shocks share one market factor drawn from the seed alone, whose weight is the
shocks' correlation.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tradecore.fields import UtcDatetime
from tradecore.interfaces import DataSource, RunContext
from tradecore.timeframes import timeframe_ms

if TYPE_CHECKING:
    import numpy as np
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
    correlation: float | None = Field(
        None,
        ge=0,
        lt=1,
        description="Make the pair a member of a correlated basket: own regimes from its stream (asset_index), "
        "shocks correlated this much with every other member of the same seed (null: independent pairs)",
    )

    @field_validator("timeframe")
    @classmethod
    def _timeframe(cls, value: str) -> str:
        timeframe_ms(value)
        return value


def generate_candles(params: SyntheticParams) -> pl.DataFrame:
    """The candles for ``params`` as a Polars frame (time, open, high, low, close, volume, trades)."""
    import numpy as np

    if params.correlation is not None:
        return _basket_member(params)
    rng = np.random.default_rng(params.seed if not params.asset_index else [params.seed, params.asset_index])
    returns, bar_sigma = _regime_returns(rng, params)
    return _bars(rng, params, params.price, returns, bar_sigma)


def _regime_returns(rng: np.random.Generator, params: SyntheticParams, noise: np.ndarray | None = None):
    """(per-bar log returns, per-bar sigma): regime drift plus clustered volatility times ``noise`` (standard
    normal; drawn from ``rng`` after the regimes when not given)."""
    import numpy as np
    import polars as pl

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
    if noise is None:
        noise = rng.standard_normal(n)
    return drift + bar_sigma * noise, bar_sigma


def _basket_member(params: SyntheticParams) -> pl.DataFrame:
    """One pair of a correlated basket: own regimes and volatility, shocks sharing the seed's market factor."""
    import numpy as np

    n = params.bars
    # the log-volatility filter starts at its first shock, far from its stationary spread: drop a burn-in
    burn = int(5 / (1 - params.vol_persistence))
    longer = params.model_copy(update={"bars": n + burn})
    market = np.random.default_rng([params.seed, 0]).standard_normal(n + burn)
    rng = np.random.default_rng([params.seed, 1, params.asset_index])
    rho = params.correlation or 0.0
    noise = np.sqrt(rho) * market + np.sqrt(1.0 - rho) * rng.standard_normal(n + burn)
    returns, bar_sigma = _regime_returns(rng, longer, noise)
    price = params.price * np.exp(rng.uniform(-3.0, 0.0))  # distinct price levels, as real pairs have
    return _bars(rng, params, price, returns[burn:], bar_sigma[burn:])


def _bars(rng: np.random.Generator, params: SyntheticParams, price: float, returns, bar_sigma) -> pl.DataFrame:
    """Consistent OHLCV bars (open = previous close) for a path of log ``returns``."""
    import numpy as np
    import polars as pl

    n = params.bars
    sigma = params.volatility
    close = price * np.exp(np.cumsum(returns))
    open_ = np.empty(n)
    open_[0] = price
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
            **({"correlation": p.correlation} if p.correlation is not None else {}),
        }
