"""Portfolio evaluation: what a multi-asset rollout adds to the metrics -- per-asset attribution, turnover, weights.

Attribution is exact in quote currency: each asset's profit over a step is the price move of the units
it held (from the last close to the open, then from the open after the fills to the close) less the
fees and slippage of its fills, so the assets' profits sum to the equity change. Divided by the
initial equity they sum to the total return; that is the ``contribution`` reported per asset.
Turnover is the notional traded divided by the equity at each step, summed (one-way, x equity).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tradecore.runs.metrics import _finite
from tradecore.runs.portfolio_baselines import Fills
from tradecore.runs.rollout_record import Rollout
from tradecore.timeframes import bars_per_year

#: single-pair trade statistics that mean nothing for a rebalanced basket (runs of one-signed exposure)
TRADE_STATISTICS = ("win_rate", "avg_trade_return", "profit_factor")


def rollout_from_fills(fills: Fills, price: np.ndarray, time: np.ndarray, symbols: tuple[str, ...]) -> Rollout:
    """A :class:`Rollout` of a filled weight schedule (``price``: closes, one more row than steps)."""
    return Rollout(
        equity=fills.equity,
        exposure=np.abs(fills.weights).sum(axis=1),
        costs=fills.fees + fills.slippage,
        price=price,
        time=time,
        reward=np.zeros(len(fills.weights)),
        symbols=symbols,
        assets={"weights": fills.weights, "asset_pnl": fills.pnl, "asset_costs": fills.costs, "traded": fills.traded},
    )


def portfolio_metrics(r: Rollout, timeframe: str) -> dict[str, Any]:
    """Turnover, orders and per-asset attribution of a portfolio rollout (merged over :func:`compute_metrics`)."""
    weights, pnl, costs, traded = (r.assets[k] for k in ("weights", "asset_pnl", "asset_costs", "traded"))
    e0 = float(r.equity[0])
    with np.errstate(divide="ignore", invalid="ignore"):
        step_turnover = np.where(r.equity[:-1] > 0, traded.sum(axis=1) / r.equity[:-1], 0.0)
    turnover = float(step_turnover.sum())
    years = len(weights) / bars_per_year(timeframe)
    assets = {
        symbol: {
            "contribution": _finite(pnl[:, i].sum() / e0),
            "costs": _finite(costs[:, i].sum() / e0),
            "mean_weight": _finite(weights[:, i].mean()),
            "turnover": _finite(traded[:, i].sum() / e0),
        }
        for i, symbol in enumerate(r.symbols)
    }
    return {
        "turnover": _finite(turnover),
        "turnover_per_year": _finite(turnover / years),
        "trades": int(np.count_nonzero(traded)),
        "mean_cash_weight": _finite(1.0 - weights.sum(axis=1).mean()),
        **{k: None for k in TRADE_STATISTICS},
        "assets": assets,
    }
