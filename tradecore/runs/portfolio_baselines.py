"""Portfolio baselines: target-weight schedules over an aligned price matrix, and their fills.

A schedule is a ``(steps, assets)`` array of target weights (fractions of equity; cash is the rest),
row ``j`` decided on the closes before step ``j``'s bar and filled at its open -- as the agent's
action is. A row of NaN means "no orders: hold what you have" (buy-and-hold after its first step).
Every schedule reads closes up to the decision bar only (no look-ahead).

:func:`execute_weights` fills a schedule with the portfolio env's own bar arithmetic,
:func:`tradecore.env.portfolio_execution.execute_rebalance`, one call per step (so agent and baselines
share one execution model: the no-trade band, the minimum order, full exits, no fills on bars without a
candle, per-asset fees and slippage at the open, marking at the close). :func:`fills_from_holdings` turns
the units held and costs paid after each step into what attribution needs -- each asset's profit, costs,
traded notional and weight per step -- for the baselines and the agent's env rollout alike.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from tradecore.env.execution import ACCOUNT_SLOTS, EQUITY
from tradecore.env.portfolio_execution import execute_rebalance, open_portfolio

#: seeds of the random-allocation baseline (its distribution is reported, as for single-pair runs)
RANDOM_SEEDS = (0, 1, 2, 3, 4)
#: trailing bars of the inverse-volatility baseline's volatility estimate
INVERSE_VOL_WINDOW = 96
#: where the per-asset slots of the fill kernel's account start (right after the single-asset slots)
Q0 = ACCOUNT_SLOTS


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
    """Step the env's rebalance over ``bars``: (equity, units held and cumulative costs per asset after each step
    (row 0: the start), fees, slippage)."""
    assets = prices.shape[0]
    steps = len(bars)
    acct = np.empty(Q0 + 2 * assets)
    open_portfolio(acct, Q0, assets, initial_equity)
    frozen = np.zeros_like(traded_bars)  # a hold row: no asset may trade, the book is only marked
    equity = np.empty(steps + 1)
    held = np.zeros((steps + 1, assets))
    paid = np.zeros((steps + 1, assets))
    fees = np.zeros(steps)
    slips = np.zeros(steps)
    equity[0] = initial_equity
    for j in range(steps):
        hold = False
        for a in range(assets):
            if targets[j, a] != targets[j, a]:  # NaN: hold
                hold = True
        _, fee, slip, _, _, _, _ = execute_rebalance(
            acct, Q0, prices, frozen if hold else traded_bars, bars[j], targets[j], slippage, fee_rate, min_order, band
        )
        equity[j + 1] = acct[EQUITY]
        fees[j] = fee
        slips[j] = slip
        held[j + 1] = acct[Q0 : Q0 + assets]
        paid[j + 1] = acct[Q0 + assets : Q0 + 2 * assets]
    return equity, held, paid, fees, slips


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
    bars = np.ascontiguousarray(bars, dtype=np.int64)
    equity, held, paid, fees, slips = _execute(
        prices,
        np.ascontiguousarray(traded, dtype=np.bool_),
        bars,
        np.ascontiguousarray(targets, dtype=np.float64),
        float(initial_equity),
        fee,
        slip,
        float(min_order),
        float(band),
    )
    return fills_from_holdings(prices, bars, equity, held, paid, fees, slips)


def fills_from_holdings(
    prices: np.ndarray,
    bars: np.ndarray,
    equity: np.ndarray,
    held: np.ndarray,
    paid: np.ndarray,
    fees: np.ndarray,
    slippage: np.ndarray,
) -> Fills:
    """What each asset did over each step, from the units held and the cumulative costs paid after each step
    (``(steps + 1, assets)``, row 0: the start) -- for the agent's env rollout and the baselines alike."""
    opens, closes = prices[:, bars, 0].T, prices[:, bars, 3].T
    prev_close = np.vstack((closes[:1], closes[:-1]))  # step 0 holds nothing over the gap
    before, after = held[:-1], held[1:]
    costs = np.diff(paid, axis=0)
    gap = before * (opens - prev_close)  # units carried from the last close to this open
    pnl = gap + after * (closes - opens) - costs
    with np.errstate(divide="ignore", invalid="ignore"):
        eq_open = equity[:-1] + gap.sum(axis=1)
        weights = np.where(eq_open[:, None] > 0, after * opens / eq_open[:, None], 0.0)
    return Fills(equity, weights, pnl, costs, np.abs(after - before) * opens, fees, slippage)


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
