"""The small runtime interfaces that component factories build.

A spec's ``factory(params)`` returns one of these. They carry plain, typed values between pipeline
stages (candles -> features -> env -> trainer -> evaluation); nothing reaches back.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import numpy as np
    import polars as pl

    from tradecore.manifest import ResolvedManifest
    from tradecore.runtime import Runtime


@dataclass
class RunContext:
    """What every stage may need to know about the run it is part of."""

    lake_root: Path
    seed: int = 0
    run_dir: Path | None = None
    progress: bool = False  # show progress bars (only on a terminal)
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("tradecore"))


@dataclass(frozen=True)
class Candles:
    """OHLCV candles as contiguous float64 numpy arrays, sorted by open time.

    ``time`` holds open times in epoch milliseconds (UTC, aligned to ``timeframe``).
    """

    time: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    timeframe: str = "1m"

    def __len__(self) -> int:
        return len(self.time)

    @classmethod
    def from_frame(cls, frame: pl.DataFrame, timeframe: str) -> Candles:
        """Build from a Polars frame with ``time`` (datetime) and OHLCV columns."""
        import numpy as np
        import polars as pl

        times = frame["time"]
        if times.dtype != pl.Int64:
            times = times.dt.epoch("ms")
        arrays = {
            c: np.ascontiguousarray(frame[c].to_numpy(), dtype=np.float64)
            for c in ("open", "high", "low", "close", "volume")
        }
        return cls(time=np.ascontiguousarray(times.to_numpy(), dtype=np.int64), timeframe=timeframe, **arrays)

    def slice(self, start: int, stop: int) -> Candles:
        """Rows ``start:stop`` (views, no copy)."""
        return Candles(
            self.time[start:stop],
            self.open[start:stop],
            self.high[start:stop],
            self.low[start:stop],
            self.close[start:stop],
            self.volume[start:stop],
            self.timeframe,
        )


class DataSource(ABC):
    """Produces the candles a manifest asks for. A source that also fills the lake itself (``tradecore data
    fetch``) is a :class:`tradecore.data.fetching.FetchingSource`."""

    @abstractmethod
    def load(self, ctx: RunContext) -> pl.DataFrame:
        """Return candles: ``time`` (Datetime UTC), open, high, low, close, volume (float64),
        ``trades`` (nullable Int64), sorted and unique by time; optionally ``origin`` (where each came from,
        as in the lake), which lets the run's quality check tell holes nobody traded in from missing data."""

    @abstractmethod
    def describe(self) -> dict[str, Any]:
        """Identity of the data for fingerprints: exchange, pair, timeframe, start, end."""


class Indicator(ABC):
    """Turns candles into one or more feature columns."""

    @abstractmethod
    def columns(self) -> list[str]:
        """Names of the output columns, in order."""

    @property
    def warmup(self) -> int:
        """Leading rows whose values are NaN or not yet stable (dropped by the feature pipeline)."""
        return 0

    @abstractmethod
    def compute(self, candles: Candles) -> Mapping[str, np.ndarray]:
        """One float64 array of ``len(candles)`` per column; NaN during warm-up. Causal: row t
        uses rows <= t only."""


@dataclass(frozen=True, slots=True)
class StepOutcome:
    """What one env step did, as reward terms see it: plain floats, fractions of the equity before the step
    (so terms are scale-free), and whether the episode ends with this step."""

    #: simple return of equity over the step, net of fees and slippage
    ret: float = 0.0
    #: ``log(equity_after / equity_before)`` (the ratio floored at 1e-12 on ruin)
    log_ret: float = 0.0
    #: fees paid this step
    fee: float = 0.0
    #: slippage paid this step
    slippage: float = 0.0
    #: traded notional this step (agent orders and stop/take exits)
    turnover: float = 0.0
    #: |position notional| / equity at this step's fill, i.e. the exposure held over the bar
    exposure: float = 0.0
    #: ``1 - equity / peak`` after the step
    drawdown: float = 0.0
    #: ``1 - equity / peak`` before the step
    drawdown_prev: float = 0.0
    #: equity after the step over the initial equity
    equity: float = 1.0
    #: the episode ends with this step (terminated or truncated)
    done: bool = False


#: the fields of a step outcome, in order
OUTCOME_FIELDS = tuple(StepOutcome.__dataclass_fields__)


@dataclass(frozen=True)
class BatchOutcome:
    """:class:`StepOutcome` for every env of a batched env: the same fields as float64 arrays of shape
    ``(num_envs,)`` (``done``: a bool array). The env rewrites the arrays in place every step."""

    ret: np.ndarray
    log_ret: np.ndarray
    fee: np.ndarray
    slippage: np.ndarray
    turnover: np.ndarray
    exposure: np.ndarray
    drawdown: np.ndarray
    drawdown_prev: np.ndarray
    equity: np.ndarray
    done: np.ndarray

    def row(self, i: int) -> StepOutcome:
        """Env ``i``'s outcome."""
        values = [float(getattr(self, name)[i]) for name in OUTCOME_FIELDS[:-1]]
        return StepOutcome(*values, bool(self.done[i]))


class RewardTerm(ABC):
    """One weighted share of the env's reward. The env sums ``weight * term(outcome)`` over its terms.

    A term with per-episode state clears it in ``reset()``. A term with only this scalar form also works
    in the batched env: it gets one instance per sub-env, called row by row (slower, same numbers).
    """

    def reset(self) -> None:
        """Forget per-episode state."""

    @abstractmethod
    def __call__(self, outcome: StepOutcome) -> float:
        """This term's (unweighted) reward for one step."""


class BatchRewardTerm(RewardTerm):
    """A reward term that also computes every env of a batched env in one call, with the same numbers as
    ``__call__`` row by row. Per-episode state lives in arrays of ``num_envs`` rows."""

    def reset_batch(self, num_envs: int) -> None:
        """Allocate per-env state for ``num_envs`` sub-envs (all starting an episode)."""

    def reset_rows(self, rows: np.ndarray) -> None:
        """Forget the state of the sub-envs where the bool mask ``rows`` is True (their episode restarted)."""

    @abstractmethod
    def batch(self, outcome: BatchOutcome) -> np.ndarray:
        """This term's (unweighted) reward for every env: float64 ``(num_envs,)``."""


@dataclass(frozen=True)
class TrainResult:
    """What a trainer reports; the pipeline records it in ``run.json`` under ``trainer``.

    ``extra`` holds trainer-specific facts (device, vector-env kind, ...), recorded beside the
    declared fields; it must be JSON-serialisable.
    """

    algo: str
    timesteps: int
    #: the model file evaluation should load: ``"best_model"`` (best on validation) or ``"model"`` (final)
    evaluated_model: str = "model"
    best_validation_return: float | None = None
    best_step: int | None = None
    stopped_early: bool = False
    resumed: bool = False
    seed: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        record = {k: v for k, v in self.__dict__.items() if k != "extra"}
        return {**self.extra, **record}


class Policy(Protocol):
    """A trained policy as evaluation drives it: one call per bar for ``num_envs`` parallel envs."""

    #: evaluation passes the env's action masks to :meth:`act` when this is true (discrete actions only)
    wants_masks: bool

    def reset(self, num_envs: int) -> None:
        """Forget recurrent state before new episodes."""

    def act(self, obs: Any, *, masks: np.ndarray | None = None, bars: np.ndarray | None = None) -> np.ndarray:
        """Deterministic actions for a batch of observations (the env's action encoding)."""


class Trainer(ABC):
    """Learns a policy for an experiment, saves it into the run folder and loads it back."""

    @abstractmethod
    def train(self, experiment: Any, ctx: RunContext, *, resume: bool = False) -> TrainResult:
        """Train on ``experiment`` and save the model under ``ctx.run_dir``. With ``resume``, continue
        from the run folder's last checkpoint. On Ctrl-C/SIGTERM save a checkpoint, then re-raise."""

    @abstractmethod
    def load_policy(self, run_dir: Path, experiment: Any, which: str = "best_model") -> Policy:
        """The policy saved in ``run_dir`` (``which``: ``best_model``, falling back to ``model``)."""

    @abstractmethod
    def load_policy_file(self, model_path: Path, experiment: Any) -> Policy:
        """A policy from an explicit model file the caller trusts."""


@dataclass
class RunRequest:
    """What a backend is asked to run: a resolved manifest and how to run it."""

    resolved: ResolvedManifest
    #: the runtime that resolved it (its plugin controls go to child processes); None when built by hand
    runtime: Runtime | None = None
    #: where run folders go (default: ``TRADECORE_RUNS`` or ``./runs``)
    runs_root: Path | None = None
    #: an interrupted run folder to continue instead of starting a new one
    resume: Path | None = None
    progress: bool = False  # show progress bars
    echo: Callable[[str], None] = print  # where stage lines go


@dataclass
class StageReport:
    """How one pipeline stage ended."""

    name: str
    status: str  # done | unavailable | failed | interrupted
    seconds: float = 0.0
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"stage": self.name, "status": self.status, "seconds": round(self.seconds, 3), "detail": self.detail}


@dataclass
class RunOutcome:
    """What a backend returns for one run; ``as_dict`` is what ``tradecore run --json`` prints."""

    stages: list[StageReport]
    run_dir: Path | None = None
    metrics: dict[str, Any] | None = None

    @property
    def complete(self) -> bool:
        return all(s.status == "done" for s in self.stages)

    def as_dict(self) -> dict[str, Any]:
        return {
            "complete": self.complete,
            "run_dir": str(self.run_dir) if self.run_dir else None,
            "stages": [s.as_dict() for s in self.stages],
            "metrics": self.metrics,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunOutcome:
        """Read back :meth:`as_dict` output, e.g. the outcome a child ``tradecore run --json`` printed."""
        stages = [
            StageReport(s["stage"], s["status"], s.get("seconds", 0.0), s.get("detail", ""))
            for s in data.get("stages") or []
        ]
        run_dir = data.get("run_dir")
        return cls(stages=stages, run_dir=Path(run_dir) if run_dir else None, metrics=data.get("metrics"))


class ComputeBackend(ABC):
    """Runs a resolved experiment somewhere: in-process, in a subprocess, on a GPU pod, on Ray.

    A backend that also runs sweeps (``tradecore sweep``) defines ``sweep(plan, options)`` as well: the
    :class:`~tradecore.compute.sweeping.SweepingBackend` protocol.
    """

    @abstractmethod
    def submit(self, request: RunRequest) -> RunOutcome:
        """Execute ``request`` and say how each stage ended."""
