"""Training callbacks: validation with best-model saving and early stopping, resumable checkpoints, progress bar.

The validation score is the total return of a deterministic rollout over the whole validation split
(money, net of costs), not the shaped reward: that is what the run is judged on.
"""

from __future__ import annotations

import csv
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback

from tradecore.api import read_json, write_json

CHECKPOINTS_DIR = "checkpoints"
LATEST_CHECKPOINT = "latest.json"


def save_model_and_stats(model: Any, stem: Path) -> dict[str, str]:
    """``<stem>.zip`` and, when training normalises, ``<stem>.vecnormalize.pkl``; returns their names."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    model.save(stem.with_suffix(".zip"))
    saved = {"model": stem.with_suffix(".zip").name}
    venv = model.get_vec_normalize_env()
    if venv is not None:
        stats = stem.with_name(stem.name + ".vecnormalize.pkl")
        venv.save(stats)
        saved["vecnormalize"] = stats.name
    return saved


class TrainingState:
    """What survives a restart: best validation score, evaluations without improvement, curve rows."""

    def __init__(self, best: float | None = None, stale: int = 0, best_step: int | None = None) -> None:
        self.best = best
        self.stale = stale
        self.best_step = best_step
        self.last_score: float | None = None
        self.stopped_early = False

    def as_dict(self) -> dict[str, Any]:
        return {"best": self.best, "stale": self.stale, "best_step": self.best_step}


class ValidationCallback(BaseCallback):
    """Every ``eval_freq`` steps: score on validation, keep the best model, stop after ``patience`` misses."""

    def __init__(
        self,
        score: Callable[[Any], float],
        eval_freq: int,
        model_dir: Path,
        curve_path: Path,
        state: TrainingState,
        patience: int | None = None,
    ) -> None:
        super().__init__()
        self.score = score
        self.eval_freq = eval_freq
        self.model_dir = model_dir
        self.curve_path = curve_path
        self.state = state
        self.patience = patience
        self._next = 0

    def _on_training_start(self) -> None:
        self._next = (self.num_timesteps // self.eval_freq + 1) * self.eval_freq

    def _on_step(self) -> bool:
        if self.num_timesteps < self._next:
            return True
        self._next += self.eval_freq
        return self.evaluate()

    def evaluate(self) -> bool:
        value = float(self.score(self.model))
        self.state.last_score = value
        episodes = [e["r"] for e in self.model.ep_info_buffer] if self.model.ep_info_buffer else []
        train_return = float(np.mean(episodes)) if episodes else float("nan")
        self.logger.record("eval/validation_return", value)
        improved = self.state.best is None or value > self.state.best
        if improved:
            self.state.best, self.state.best_step, self.state.stale = value, self.num_timesteps, 0
            save_model_and_stats(self.model, self.model_dir / "best_model")
        else:
            self.state.stale += 1
        new_file = not self.curve_path.exists()
        with self.curve_path.open("a", newline="") as fh:
            writer = csv.writer(fh)
            if new_file:
                writer.writerow(["timesteps", "validation_score", "train_episode_return", "best"])
            writer.writerow([self.num_timesteps, f"{value:.10g}", f"{train_return:.10g}", int(improved)])
        if self.patience is not None and self.state.stale >= self.patience:
            self.state.stopped_early = True
            return False
        return True


class ResumableCheckpoint(BaseCallback):
    """Every ``save_freq`` steps: save model, normalisation stats and training state, then point latest.json at them."""

    def __init__(self, save_freq: int, run_dir: Path, state: TrainingState) -> None:
        super().__init__()
        self.save_freq = save_freq
        self.run_dir = run_dir
        self.state = state
        self._next = 0

    def _on_training_start(self) -> None:
        self._next = (self.num_timesteps // self.save_freq + 1) * self.save_freq if self.save_freq else 0

    def _on_step(self) -> bool:
        if self.save_freq and self.num_timesteps >= self._next:
            self._next += self.save_freq
            save_checkpoint(self.model, self.run_dir, self.state, "periodic")
        return True


def save_checkpoint(model: Any, run_dir: Path, state: TrainingState, reason: str) -> Path:
    directory = run_dir / CHECKPOINTS_DIR
    saved = save_model_and_stats(model, directory / f"step_{model.num_timesteps:010d}")
    record = {"timesteps": int(model.num_timesteps), "reason": reason, **saved, "state": state.as_dict()}
    write_json(directory / LATEST_CHECKPOINT, record)
    return directory / saved["model"]


def latest_checkpoint(run_dir: Path) -> dict[str, Any] | None:
    path = run_dir / CHECKPOINTS_DIR / LATEST_CHECKPOINT
    return read_json(path) if path.is_file() else None


class InterruptGuard:
    """Ctrl-C during ``learn()`` asks training to stop at the next step instead of raising anywhere.

    A ``KeyboardInterrupt`` raised at an arbitrary bytecode can land inside a checkpoint write, a
    ``__del__`` or a weakref callback (where Python prints and *drops* it); a flag checked by a callback
    always stops cleanly. A second Ctrl-C restores the default handler and interrupts at once. Only
    the main thread can own signal handlers: elsewhere the guard is inert.
    """

    def __init__(self) -> None:
        self.requested = False
        self._previous: Any = None
        self._installed = False

    def __enter__(self) -> InterruptGuard:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
            self._installed = True
        return self

    def __exit__(self, *exc: object) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._previous)
            self._installed = False

    def _handle(self, signum: int, frame: Any) -> None:
        self.requested = True
        signal.signal(signal.SIGINT, signal.default_int_handler)  # the next Ctrl-C aborts immediately


class StopOnInterrupt(BaseCallback):
    """Ends ``learn()`` at the next step once the :class:`InterruptGuard` saw Ctrl-C."""

    def __init__(self, guard: InterruptGuard) -> None:
        super().__init__()
        self.guard = guard

    def _on_step(self) -> bool:
        return not self.guard.requested


class ProgressCallback(BaseCallback):
    """A tqdm bar with steps/s and the latest validation score; silent when not on a terminal."""

    def __init__(self, total: int, state: TrainingState, enabled: bool) -> None:
        super().__init__()
        self.total = total
        self.state = state
        self.enabled = enabled
        self.bar: Any = None
        self._shown = 0
        self._last_refresh = 0.0

    def _on_training_start(self) -> None:
        if self.enabled:
            from tqdm import tqdm

            self.bar = tqdm(
                total=self.total,
                initial=self.num_timesteps,
                unit="step",
                desc="train",
                dynamic_ncols=True,
                smoothing=0.1,
            )
            self._shown = self.num_timesteps

    def _on_step(self) -> bool:
        if self.bar is not None:
            now = time.monotonic()
            if now - self._last_refresh > 0.2:
                self.bar.update(self.num_timesteps - self._shown)
                self._shown = self.num_timesteps
                if self.state.last_score is not None:
                    self.bar.set_postfix(val_return=f"{self.state.last_score:+.2%}", refresh=False)
                self._last_refresh = now
        return True

    def _on_training_end(self) -> None:
        if self.bar is not None:
            self.bar.update(self.num_timesteps - self._shown)
            self.bar.close()
            self.bar = None
