"""Reward terms: the step outcome the env hands them, and the built-in terms in scalar and batched form.

Protocol. Every step the env fills one :class:`StepOutcome` (plain Python floats, reused, no allocation)
and calls each term as ``term(outcome) -> float``; the batched env fills a :class:`BatchOutcome` whose
fields are float64 arrays of shape ``(num_envs,)`` and calls ``term.batch(outcome) -> ndarray``. Both
forms compute the same number (a test checks it). A term with per-episode state keeps scalar state for
``__call__`` (cleared by ``reset()``) and array state for ``batch`` (``reset_batch(n)`` allocates it,
``reset_rows(mask)`` clears the rows whose episode restarted). The env multiplies each term by its
manifest weight and sums; ``info["reward_terms"]`` holds each weighted share.

A third-party term that implements only ``__call__`` still works in the batched env: it gets one
instance per sub-env and is called row by row (slower, same numbers).

All quantities are fractions of the equity before the step, so terms are scale-free:

- ``ret``: simple return of equity over the step, net of fees and slippage
- ``log_ret``: ``log(equity_after / equity_before)`` (ratio floored at 1e-12 on ruin)
- ``fee`` / ``slippage``: fees and slippage paid this step
- ``turnover``: traded notional this step (agent orders and stop/take exits)
- ``exposure``: |position notional| / equity at this step's fill, i.e. the exposure held over the bar
- ``drawdown`` / ``drawdown_prev``: ``1 - equity / peak`` after and before the step
- ``equity``: equity after the step over the initial equity
- ``done``: the episode ends with this step (terminated or truncated)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tradecore.interfaces import RewardTerm

OUTCOME_FIELDS = (
    "ret",
    "log_ret",
    "fee",
    "slippage",
    "turnover",
    "exposure",
    "drawdown",
    "drawdown_prev",
    "equity",
    "done",
)


class StepOutcome:
    """One step's outcome for one env, as plain Python floats (``done`` is a bool)."""

    __slots__ = OUTCOME_FIELDS

    def __init__(self) -> None:
        for name in OUTCOME_FIELDS:
            setattr(self, name, 0.0)
        self.equity = 1.0
        self.done = False


class BatchOutcome:
    """One step's outcome for every sub-env of a batched env: float64 arrays (``done``: bool array)."""

    __slots__ = OUTCOME_FIELDS

    def __init__(self, n: int) -> None:
        for name in OUTCOME_FIELDS:
            setattr(self, name, np.zeros(n))
        self.equity = np.ones(n)
        self.done = np.zeros(n, dtype=bool)


class Term(RewardTerm):
    """Base class of the built-in terms: scalar ``__call__`` plus the same formula in ``batch``."""

    def __init__(self, params: Any = None) -> None:
        self.params = params

    def reset(self) -> None:
        """Forget per-episode state (single env)."""

    def reset_batch(self, n: int) -> None:
        """Allocate per-env state for a batched env of ``n`` sub-envs."""

    def reset_rows(self, rows: np.ndarray) -> None:
        """Forget the state of the sub-envs where ``rows`` is True (their episode restarted)."""

    def __call__(self, o: StepOutcome) -> float:
        raise NotImplementedError

    def batch(self, o: BatchOutcome) -> np.ndarray:
        raise NotImplementedError

    def scalar_source(self) -> str | None:
        """``__call__`` as one Python expression over the outcome field names, for the fused step (or None)."""
        return None


class PnL(Term):
    """Change of equity net of fees and slippage: log or simple return."""

    def __init__(self, params: Any = None) -> None:
        super().__init__(params)
        self.log = getattr(params, "mode", "log") == "log"

    def __call__(self, o: StepOutcome) -> float:
        return o.log_ret if self.log else o.ret

    def batch(self, o: BatchOutcome) -> np.ndarray:
        return o.log_ret if self.log else o.ret

    def scalar_source(self) -> str:
        return "log_ret" if self.log else "ret"


class FeeCost(Term):
    """Minus the fees (and, by default, slippage) paid this step, as a fraction of equity."""

    def __init__(self, params: Any = None) -> None:
        super().__init__(params)
        self.slippage = bool(getattr(params, "include_slippage", True))

    def __call__(self, o: StepOutcome) -> float:
        return -(o.fee + o.slippage) if self.slippage else -o.fee

    def batch(self, o: BatchOutcome) -> np.ndarray:
        return -(o.fee + o.slippage) if self.slippage else -o.fee

    def scalar_source(self) -> str:
        return "-(fee + slippage)" if self.slippage else "-fee"


class DrawdownPenalty(Term):
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

    def scalar_source(self) -> str:
        if self.level:
            return "-drawdown"
        return "-(drawdown - drawdown_prev) if drawdown - drawdown_prev > 0.0 else 0.0"


class ExposurePenalty(Term):
    """Minus the absolute exposure held over the bar (a cost of carrying risk)."""

    def __call__(self, o: StepOutcome) -> float:
        return -o.exposure

    def batch(self, o: BatchOutcome) -> np.ndarray:
        return -o.exposure

    def scalar_source(self) -> str:
        return "-exposure"


class TurnoverPenalty(Term):
    """Minus the notional traded this step, as a fraction of equity (discourages churning)."""

    def __call__(self, o: StepOutcome) -> float:
        return -o.turnover

    def batch(self, o: BatchOutcome) -> np.ndarray:
        return -o.turnover

    def scalar_source(self) -> str:
        return "-turnover"


class DifferentialSharpe(Term):
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


class TerminalReward(Term):
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

    def scalar_source(self) -> str:
        if self.log:
            return "(_log(equity if equity > 1e-12 else 1e-12) if done else 0.0)"
        return "(equity - 1.0 if done else 0.0)"


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
    out = []
    for case in cases:
        o = StepOutcome()
        for key, value in case.items():
            setattr(o, key, value)
        out.append(o)
    return out


# -- the fused scalar step ------------------------------------------------------------------------
# How the env's raw step quantities become outcome fields: the exact expressions the outcome always used.
_FIELD_SOURCE = {
    "ret": "ratio - 1.0",
    "log_ret": "_log(ratio) if ratio > 1e-12 else _LOG_FLOOR",
    "fee": "_fee / _e_prev",
    "slippage": "_slip / _e_prev",
    "turnover": "_traded / _e_prev",
    "exposure": "_exposure",
    "drawdown_prev": "_dd_prev",
    "drawdown": "_dd",
    "equity": "_equity / _e0",
    "done": "_done",
}
_INLINE_TYPES = (PnL, FeeCost, DrawdownPenalty, ExposurePenalty, TurnoverPenalty, TerminalReward)


def _inline_source(term: Any) -> str | None:
    """The term's expression when it is exactly a built-in class (a subclass may override ``__call__``)."""
    if type(term) in _INLINE_TYPES:
        return term.scalar_source()
    return None


def fuse_scalar_terms(terms: list[tuple[str, float, Any]], initial_equity: float, outcome: StepOutcome):
    """One generated function ``(equity, e_prev, fee, slip, traded, exposure, dd_prev, dd, done) -> (reward,
    shares)`` computing the outcome fields the terms need and the weighted terms, as the generic loop does
    (``reward = 0.0; reward += weight * term(outcome)`` in order) but without a call per built-in term.

    Built-in terms are inlined; any other term is called with ``outcome`` filled in (all fields).
    """
    import re

    namespace: dict[str, Any] = {"_log": math.log, "_LOG_FLOOR": math.log(1e-12), "_e0": float(initial_equity)}
    lines, values, keys = [], [], []
    generic = False
    for k, (name, weight, term) in enumerate(terms):
        namespace[f"_w{k}"] = float(weight)
        src = _inline_source(term)
        if src is None:
            generic = True
            namespace[f"_t{k}"] = term
            lines.append(f"v{k} = _w{k} * _t{k}(_o)")
        else:
            lines.append(f"v{k} = _w{k} * ({src})")
        values.append(f"v{k}")
        keys.append(name)
    used = set(re.findall(r"[A-Za-z_]+", "\n".join(lines)))
    fields = [f for f in OUTCOME_FIELDS if generic or f in used]
    head = []
    if "ret" in fields or "log_ret" in fields:
        head.append("ratio = _equity / _e_prev")
    head += [f"{f} = {_FIELD_SOURCE[f]}" for f in fields]
    if generic:
        namespace["_o"] = outcome
        head += [f"_o.{f} = {f}" for f in fields]
    # the dict is built from literals when names are plain strings (a name repeated keeps the last value)
    shares = "{" + ", ".join(f"{name!r}: {v}" for name, v in zip(keys, values)) + "}"
    total = " + ".join(["0.0", *values])
    body = "\n    ".join([*head, *lines, f"return {total}, {shares}"])
    code = f"def _fused(_equity, _e_prev, _fee, _slip, _traded, _exposure, _dd_prev, _dd, _done):\n    {body}\n"
    exec(compile(code, "<tradecore.env.rewards fused step>", "exec"), namespace)  # noqa: S102 - generated here
    fused = namespace["_fused"]
    fused.source = code
    return fused
