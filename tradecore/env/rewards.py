"""The built-in reward terms, each in scalar and batched form, and the probe outcomes that check a term.

The env hands terms a :class:`~tradecore.interfaces.StepOutcome` (its fields are documented there);
batched envs hand :class:`~tradecore.interfaces.BatchRewardTerm` terms a
:class:`~tradecore.interfaces.BatchOutcome`. Both forms compute the same number (a test checks it).
The env multiplies each term by its manifest weight and sums; ``info["reward_terms"]`` holds each
weighted share. The env's kernel computes the exact built-in classes itself (the same formulas, in the
same order: :mod:`tradecore.env.kernels`); a subclass or a third-party term is called.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tradecore.interfaces import BatchOutcome, BatchRewardTerm, RewardTerm, StepOutcome


class Term(RewardTerm):
    """Base class of the built-in terms (a scalar term keeping its params); each built-in is also a
    :class:`~tradecore.interfaces.BatchRewardTerm` with the same formula in ``batch``."""

    def __init__(self, params: Any = None) -> None:
        self.params = params


class PnL(Term, BatchRewardTerm):
    """Change of equity net of fees and slippage: log or simple return."""

    def __init__(self, params: Any = None) -> None:
        super().__init__(params)
        self.log = getattr(params, "mode", "log") == "log"

    def __call__(self, o: StepOutcome) -> float:
        return o.log_ret if self.log else o.ret

    def batch(self, o: BatchOutcome) -> np.ndarray:
        return o.log_ret if self.log else o.ret


class FeeCost(Term, BatchRewardTerm):
    """Minus the fees (and, by default, slippage) paid this step, as a fraction of equity."""

    def __init__(self, params: Any = None) -> None:
        super().__init__(params)
        self.slippage = bool(getattr(params, "include_slippage", True))

    def __call__(self, o: StepOutcome) -> float:
        return -(o.fee + o.slippage) if self.slippage else -o.fee

    def batch(self, o: BatchOutcome) -> np.ndarray:
        return -(o.fee + o.slippage) if self.slippage else -o.fee


class DrawdownPenalty(Term, BatchRewardTerm):
    """Minus the increase of drawdown this step (``increase``) or minus the drawdown level (``level``)."""

    def __init__(self, params: Any = None) -> None:
        super().__init__(params)
        self.level = getattr(params, "mode", "increase") == "level"

    def __call__(self, o: StepOutcome) -> float:
        if self.level:
            return -o.drawdown
        rise = o.drawdown - o.drawdown_prev
        return -rise if rise > 0.0 else 0.0

    def batch(self, o: BatchOutcome) -> np.ndarray:
        if self.level:
            return -o.drawdown
        return -np.maximum(o.drawdown - o.drawdown_prev, 0.0)


class ExposurePenalty(Term, BatchRewardTerm):
    """Minus the absolute exposure held over the bar (a cost of carrying risk)."""

    def __call__(self, o: StepOutcome) -> float:
        return -o.exposure

    def batch(self, o: BatchOutcome) -> np.ndarray:
        return -o.exposure


class TurnoverPenalty(Term, BatchRewardTerm):
    """Minus the notional traded this step, as a fraction of equity (discourages churning)."""

    def __call__(self, o: StepOutcome) -> float:
        return -o.turnover

    def batch(self, o: BatchOutcome) -> np.ndarray:
        return -o.turnover


class ConcentrationPenalty(Term, BatchRewardTerm):
    """Minus the Herfindahl index of the weights held at the close: 1 all in one asset, 1/n spread over n.
    A single-pair env holds one weight, the exposure, so its index is the exposure squared; the portfolio
    env's kernel computes it over every asset."""

    def __call__(self, o: StepOutcome) -> float:
        return -(o.exposure * o.exposure)

    def batch(self, o: BatchOutcome) -> np.ndarray:
        return -(o.exposure * o.exposure)


class DifferentialSharpe(Term, BatchRewardTerm):
    """Differential Sharpe ratio (Moody & Saffell, 1998) of the step's net simple return.

    With exponential moving estimates ``A`` (first moment) and ``B`` (second moment) of the return
    ``R`` at rate ``eta``: ``D = (B * dA - A * dB / 2) / (B - A**2) ** 1.5`` where ``dA = R - A`` and
    ``dB = R**2 - B`` use the estimates *before* the update; then ``A += eta * dA``, ``B += eta * dB``.
    ``D`` is 0 while the variance estimate ``B - A**2`` is not yet positive (the first step).
    """

    def __init__(self, params: Any = None) -> None:
        super().__init__(params)
        self.eta = float(getattr(params, "eta", 0.01))
        self.a = self.b = 0.0
        self.a_rows = self.b_rows = np.zeros(0)

    def reset(self) -> None:
        self.a = self.b = 0.0

    def __call__(self, o: StepOutcome) -> float:
        r, a, b = o.ret, self.a, self.b
        da = r - a
        db = r * r - b
        var = b - a * a
        d = (b * da - 0.5 * a * db) / (var * math.sqrt(var)) if var > 1e-18 else 0.0
        self.a = a + self.eta * da
        self.b = b + self.eta * db
        return d

    def reset_batch(self, n: int) -> None:
        self.a_rows = np.zeros(n)
        self.b_rows = np.zeros(n)

    def reset_rows(self, rows: np.ndarray) -> None:
        self.a_rows[rows] = 0.0
        self.b_rows[rows] = 0.0

    def batch(self, o: BatchOutcome) -> np.ndarray:
        r, a, b = o.ret, self.a_rows, self.b_rows
        da = r - a
        db = r * r - b
        var = b - a * a
        ok = var > 1e-18
        safe = np.where(ok, var, 1.0)
        d = np.where(ok, (b * da - 0.5 * a * db) / (safe * np.sqrt(safe)), 0.0)
        self.a_rows = a + self.eta * da
        self.b_rows = b + self.eta * db
        return d


class TerminalReward(Term, BatchRewardTerm):
    """At the episode's last step, the episode's total return (log or simple); 0 on other steps."""

    def __init__(self, params: Any = None) -> None:
        super().__init__(params)
        self.log = getattr(params, "mode", "log") == "log"

    def __call__(self, o: StepOutcome) -> float:
        if not o.done:
            return 0.0
        if self.log:
            return math.log(o.equity if o.equity > 1e-12 else 1e-12)
        return o.equity - 1.0

    def batch(self, o: BatchOutcome) -> np.ndarray:
        total = np.log(np.maximum(o.equity, 1e-12)) if self.log else o.equity - 1.0
        return np.where(o.done, total, 0.0)


def probe_outcomes() -> list[StepOutcome]:
    """A few plausible and extreme outcomes used to check, at build time, that a term stays finite."""
    cases = [
        dict(ret=0.0, log_ret=0.0),
        dict(
            ret=0.01,
            log_ret=math.log(1.01),
            fee=0.0026,
            slippage=0.0002,
            turnover=1.0,
            exposure=1.0,
            drawdown=0.0,
            equity=1.01,
        ),
        dict(
            ret=-0.05,
            log_ret=math.log(0.95),
            fee=0.005,
            slippage=0.001,
            turnover=2.0,
            exposure=2.0,
            drawdown=0.3,
            drawdown_prev=0.25,
            equity=0.7,
        ),
        dict(ret=0.02, log_ret=math.log(1.02), exposure=0.5, drawdown=0.1, drawdown_prev=0.12, equity=0.9, done=True),
        dict(
            ret=-1.0,
            log_ret=math.log(1e-12),
            turnover=1.0,
            exposure=1.0,
            drawdown=1.0,
            drawdown_prev=0.5,
            equity=1e-12,
            done=True,
        ),
    ]
    return [StepOutcome(**case) for case in cases]
