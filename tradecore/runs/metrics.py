"""Performance metrics of an equity curve, annualised for 24/7 markets, with bootstrap confidence intervals.

Everything is computed from plain arrays recorded by an evaluation rollout: equity after every bar,
the signed exposure held over each bar and the costs paid. A trade is a run of bars with exposure of
one sign; its return is the equity change over that run, so fees and slippage are included.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tradecore.timeframes import bars_per_year

#: metrics where larger is better (used to decide whether the agent beat a baseline)
HEADLINE = ("total_return", "sharpe")


def _finite(value: float) -> float | None:
    """JSON-safe number: NaN and infinities become null."""
    value = float(value)
    return value if math.isfinite(value) else None


def drawdown_curve(equity: np.ndarray) -> np.ndarray:
    """Drawdown (0..1) of ``equity`` below its running peak at every point."""
    peak = np.maximum.accumulate(equity)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(peak > 0, 1.0 - equity / peak, 0.0)


def longest_underwater(equity: np.ndarray) -> int:
    """Longest stretch (in bars) the equity spent below a previous peak."""
    below = equity < np.maximum.accumulate(equity)
    if not below.any():
        return 0
    # lengths of runs of True: split at the False positions
    edges = np.flatnonzero(np.diff(np.concatenate(([0], below.view(np.int8), [0]))))
    return int((edges[1::2] - edges[::2]).max())


def trade_returns(equity: np.ndarray, exposure: np.ndarray) -> np.ndarray:
    """Return of each trade: a maximal run of bars held with exposure of one sign.

    ``exposure[t]`` is held from ``equity[t]`` to ``equity[t + 1]``.
    """
    side = np.sign(exposure).astype(np.int8)
    if not side.any():
        return np.empty(0)
    change = np.flatnonzero(np.diff(side)) + 1
    starts = np.concatenate(([0], change))
    stops = np.concatenate((change, [len(side)]))
    held = side[starts] != 0
    starts, stops = starts[held], stops[held]
    with np.errstate(divide="ignore", invalid="ignore"):  # ruined equity: a -100% trade, not a warning
        out = equity[stops] / equity[starts] - 1.0
    return np.where(np.isfinite(out), out, -1.0)


def block_bootstrap(
    returns: np.ndarray, *, resamples: int = 1000, seed: int = 0, level: float = 0.95
) -> dict[str, list[float | None]]:
    """Moving-block bootstrap CIs for the total return and the (per-bar, unannualised) Sharpe ratio.

    Blocks of ~sqrt(n) bars keep the short-range dependence of returns; resampling whole blocks of
    precomputed sums keeps this O(resamples * blocks) even for millions of bars.
    """
    n = len(returns)
    if n < 8:
        return {"total_return": [None, None], "sharpe_per_bar": [None, None]}
    block = max(1, int(math.sqrt(n)))
    blocks = n // block
    trimmed = returns[: blocks * block].reshape(blocks, block)
    log_sum = np.log1p(np.maximum(trimmed, -0.999999)).sum(axis=1)
    ret_sum = trimmed.sum(axis=1)
    sq_sum = (trimmed * trimmed).sum(axis=1)
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, blocks, size=(resamples, blocks))
    count = blocks * block
    total = np.expm1(log_sum[pick].sum(axis=1))
    mean = ret_sum[pick].sum(axis=1) / count
    var = np.maximum(sq_sum[pick].sum(axis=1) / count - mean * mean, 0.0) * count / max(count - 1, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        sharpe = np.where(var > 0, mean / np.sqrt(var), np.nan)
    lo, hi = (1 - level) / 2 * 100, (1 + level) / 2 * 100

    def interval(values: np.ndarray) -> list[float | None]:
        values = values[np.isfinite(values)]
        if values.size == 0:
            return [None, None]
        return [_finite(np.percentile(values, lo)), _finite(np.percentile(values, hi))]

    return {"total_return": interval(total), "sharpe_per_bar": interval(sharpe)}


def compute_metrics(
    equity: np.ndarray,
    exposure: np.ndarray,
    fees: np.ndarray,
    timeframe: str,
    *,
    bootstrap_seed: int = 0,
    resamples: int = 1000,
) -> dict[str, Any]:
    """All metrics of one rollout.

    ``equity`` has one more entry than ``exposure``/``fees``: the equity before the first bar, then
    after each bar. ``fees`` are the costs (fees plus slippage, quote currency) paid at each bar.
    """
    equity = np.asarray(equity, dtype=np.float64)
    exposure = np.asarray(exposure, dtype=np.float64)
    fees = np.asarray(fees, dtype=np.float64)
    n = len(equity) - 1
    if n < 1 or len(exposure) != n or len(fees) != n:
        raise ValueError("equity needs one more entry than exposure and fees")
    per_year = bars_per_year(timeframe)
    years = n / per_year
    with np.errstate(divide="ignore", invalid="ignore"):
        returns = np.where(equity[:-1] > 0, equity[1:] / equity[:-1] - 1.0, 0.0)
    total = equity[-1] / equity[0] - 1.0
    annual = (1 + total) ** (1 / years) - 1 if total > -1 else -1.0
    std = returns.std(ddof=1) if n > 1 else 0.0
    mean = returns.mean()
    downside = math.sqrt(float(np.mean(np.minimum(returns, 0.0) ** 2)))
    sqrt_year = math.sqrt(per_year)
    drawdown = drawdown_curve(equity)
    max_dd = float(drawdown.max())
    trades = trade_returns(equity, exposure)
    gains, losses = trades[trades > 0].sum(), -trades[trades < 0].sum()
    turnover = float(np.abs(np.diff(np.concatenate(([0.0], exposure)))).sum())
    ci = block_bootstrap(returns, resamples=resamples, seed=bootstrap_seed)
    sharpe_ci = [None if v is None else _finite(v * sqrt_year) for v in ci["sharpe_per_bar"]]
    return {
        "bars": n,
        "years": _finite(years),
        "final_equity": _finite(equity[-1]),
        "total_return": _finite(total),
        "annualised_return": _finite(annual),
        "volatility": _finite(std * sqrt_year),
        "sharpe": _finite(mean / std * sqrt_year) if std > 0 else None,
        "sortino": _finite(mean / downside * sqrt_year) if downside > 0 else None,
        "calmar": _finite(annual / max_dd) if max_dd > 0 else None,
        "max_drawdown": _finite(max_dd),
        "max_drawdown_bars": longest_underwater(equity),
        "turnover": _finite(turnover),
        "turnover_per_year": _finite(turnover / years),
        "fees_paid": _finite(fees.sum()),
        "fees_pct_of_initial": _finite(fees.sum() / equity[0]),
        "exposure": _finite(np.mean(exposure != 0)),
        "trades": int(trades.size),
        "win_rate": _finite(np.mean(trades > 0)) if trades.size else None,
        "avg_trade_return": _finite(trades.mean()) if trades.size else None,
        "profit_factor": _finite(gains / losses) if losses > 0 else None,
        "ci95": {"total_return": ci["total_return"], "sharpe": sharpe_ci},
    }
