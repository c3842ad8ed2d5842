"""Portfolio baselines: target-weight schedules over an aligned price matrix, and their fills.

A schedule is a ``(steps, assets)`` array of target weights (fractions of equity; cash is the rest),
row ``j`` decided on the closes before step ``j``'s bar and filled at its open -- as the agent's
action is. A row of NaN means "no orders: hold what you have" (buy-and-hold after its first step).
Every schedule reads closes up to the decision bar only (no look-ahead).

:func:`execute_weights` fills a schedule with the portfolio env's rules: at each bar's open an asset
whose weight differs from its target by more than the no-trade band, and whose order notional reaches
the minimum order, trades to its target at the open with slippage (buys at ``O * (1 + s)``, sells at
``O * (1 - s)``) and pays its fee on the filled notional; a full exit (target 0) ignores band and
minimum; an asset without a candle at a bar (no trades) is not traded there; equity is marked at the
close. It records what attribution needs: each asset's profit and costs per step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

#: seeds of the random-allocation baseline (its distribution is reported, as for single-pair runs)
RANDOM_SEEDS = (0, 1, 2, 3, 4)
#: trailing bars of the inverse-volatility baseline's volatility estimate
INVERSE_VOL_WINDOW = 96


@dataclass
class Fills:
    """What filling a schedule did, per step (``equity`` has one more entry: the start)."""

    equity: np.ndarray
    #: weights held after each step's fills, at the open (fractions of equity at the open), steps x assets
    weights: np.ndarray
    #: each asset's profit over each step (price moves of the units held, less its fees and slippage)
    pnl: np.ndarray
    #: each asset's fees plus slippage per step (quote currency)
    costs: np.ndarray
    #: notional traded per asset and step (quote currency, at the open)
    traded: np.ndarray
    #: fees and slippage of each step, all assets (quote currency)
    fees: np.ndarray
    slippage: np.ndarray


@njit(cache=True)
def _execute(prices, traded_bars, bars, targets, initial_equity, fee_rate, slippage, min_order, band):
    assets = prices.shape[0]
    steps = len(bars)
    equity = np.empty(steps + 1)
    weights = np.zeros((steps, assets))
    pnl = np.zeros((steps, assets))
    costs = np.zeros((steps, assets))
    traded = np.zeros((steps, assets))
    fees = np.zeros(steps)
    slips = np.zeros(steps)
    qty = np.zeros(assets)
    cash = initial_equity
    equity[0] = initial_equity
    for j in range(steps):
        k = bars[j]
        eq_open = cash
        for a in range(assets):
            eq_open += qty[a] * prices[a, k, 0]
            if j > 0:  # units carried over the gap from the last close to this open
                pnl[j, a] = qty[a] * (prices[a, k, 0] - prices[a, bars[j - 1], 3])
        hold = False
        for a in range(assets):
            if targets[j, a] != targets[j, a]:  # NaN: hold
                hold = True
        for a in range(assets):
            o = prices[a, k, 0]
            if hold or eq_open <= 0.0 or not traded_bars[a, k]:
                continue
            w = targets[j, a]
            dq = w * eq_open / o - qty[a]
            if dq == 0.0:
                continue
            drift = w - qty[a] * o / eq_open
            notional = abs(dq) * o
            # a full exit ignores the band and the minimum (no dust left behind)
            if w == 0.0 or ((drift > band or drift < -band) and notional >= min_order):
                px = o * (1.0 + slippage[a]) if dq > 0.0 else o * (1.0 - slippage[a])
                fee = abs(dq) * px * fee_rate[a]
                slip = notional * slippage[a]
                cash -= dq * px + fee
                qty[a] += dq
                traded[j, a] = notional
                costs[j, a] = fee + slip
                fees[j] += fee
                slips[j] += slip
                pnl[j, a] -= fee + slip
        marked = cash
        for a in range(assets):
            o = prices[a, k, 0]
            c = prices[a, k, 3]
            weights[j, a] = qty[a] * o / eq_open if eq_open > 0.0 else 0.0
            pnl[j, a] += qty[a] * (c - o)
            marked += qty[a] * c
        equity[j + 1] = marked
    return equity, weights, pnl, costs, traded, fees, slips


def execute_weights(
    prices: np.ndarray,
    targets: np.ndarray,
    bars: np.ndarray,
    *,
    initial_equity: float,
    fee_rate: np.ndarray | float,
    slippage: np.ndarray | float,
    min_order: float = 0.0,
    band: float = 0.0,
    traded: np.ndarray | None = None,
) -> Fills:
    """Fill ``targets`` (steps x assets) at the opens of rows ``bars`` of ``prices`` (assets x rows x OHLC),
    marking at their closes; ``traded`` (assets x rows, bool) marks the bars an asset can trade at (default:
    all). See the module doc."""
    prices = np.ascontiguousarray(prices, dtype=np.float64)
    assets = prices.shape[0]
    if traded is None:
        traded = np.ones(prices.shape[:2], dtype=np.bool_)
    fee = np.broadcast_to(np.asarray(fee_rate, dtype=np.float64), (assets,)).copy()
    slip = np.broadcast_to(np.asarray(slippage, dtype=np.float64), (assets,)).copy()
    out = _execute(
        prices,
        np.ascontiguousarray(traded, dtype=np.bool_),
        np.ascontiguousarray(bars, dtype=np.int64),
        np.ascontiguousarray(targets, dtype=np.float64),
        float(initial_equity),
        fee,
        slip,
        float(min_order),
        float(band),
    )
    return Fills(*out)


# -- schedules: (steps, assets) target weights, row j from closes before step j's bar -------------------
def cash_schedule(steps: int, assets: int) -> np.ndarray:
    """All cash, always."""
    return np.zeros((steps, assets))


def equal_weight_schedule(steps: int, assets: int, every: int = 1) -> np.ndarray:
    """``1 / assets`` each, rebalanced every ``every`` steps (held in between)."""
    out = np.full((steps, assets), np.nan)
    out[::every] = 1.0 / assets
    return out


def buy_and_hold_schedule(steps: int, assets: int) -> np.ndarray:
    """Equal weights bought at the first step, then held (weights drift with prices)."""
    out = np.full((steps, assets), np.nan)
    out[0] = 1.0 / assets
    return out


def inverse_volatility_schedule(
    close: np.ndarray, decision_rows: np.ndarray, window: int = INVERSE_VOL_WINDOW, every: int = 1
) -> np.ndarray:
    """Weights proportional to 1 / (std of the last ``window`` log returns up to each decision row's close).

    ``close`` is the whole aligned close matrix (rows before the evaluated range give the history);
    ``decision_rows[j]`` is the row whose close step ``j`` decides on. Rows with less history use what
    there is (equal weights with fewer than two returns).
    """
    log_close = np.log(np.asarray(close, dtype=np.float64))
    returns = np.diff(log_close, axis=0, prepend=log_close[:1])  # row r: the return into row r (0 for row 0)
    csum = np.concatenate((np.zeros((1, close.shape[1])), np.cumsum(returns, axis=0)))
    csq = np.concatenate((np.zeros((1, close.shape[1])), np.cumsum(returns * returns, axis=0)))
    rows = np.asarray(decision_rows, dtype=np.int64)
    lo = np.maximum(rows + 1 - window, 1)  # returns from row lo to row (inclusive); row 0 has none
    count = (rows + 1 - lo)[:, None].astype(np.float64)
    total = csum[rows + 1] - csum[lo]
    squares = csq[rows + 1] - csq[lo]
    with np.errstate(divide="ignore", invalid="ignore"):
        var = (squares - total * total / count) / np.maximum(count - 1, 1)
        inverse = np.where((count >= 2) & (var > 0), 1.0 / np.sqrt(np.maximum(var, 0.0)), np.nan)
    assets = close.shape[1]
    out = np.full((len(rows), assets), np.nan)
    weights = inverse / np.sum(inverse, axis=1, keepdims=True)
    weights = np.where(np.isfinite(weights).all(axis=1, keepdims=True), weights, 1.0 / assets)
    out[::every] = weights[::every]
    return out


def random_schedule(steps: int, assets: int, seed: int, every: int = 1) -> np.ndarray:
    """A uniformly random allocation over the assets and cash (Dirichlet(1)) every ``every`` steps, seeded."""
    rng = np.random.default_rng(seed)
    draws = rng.dirichlet(np.ones(assets + 1), size=steps)[:, :assets]
    out = np.full((steps, assets), np.nan)
    out[::every] = draws[::every]
    return out


def baseline_schedules(close: np.ndarray, decision_rows: np.ndarray, every: int = 1) -> dict[str, np.ndarray]:
    """Name -> schedule of every portfolio baseline, in report order (``random_<seed>`` per seed)."""
    steps, assets = len(decision_rows), close.shape[1]
    out = {
        "cash": cash_schedule(steps, assets),
        "equal_weight": equal_weight_schedule(steps, assets, every),
        "buy_and_hold": buy_and_hold_schedule(steps, assets),
        "inverse_volatility": inverse_volatility_schedule(close, decision_rows, every=every),
    }
    for seed in RANDOM_SEEDS:
        out[f"random_{seed}"] = random_schedule(steps, assets, seed, every)
    return out
