"""The ``ppo-fast`` trainer: the glue between tradecore's pipeline and the algorithm in :mod:`tradecore_ppo.ppo`.

It builds the batched train env, runs PPO on it, and around each update does what the ``sb3`` trainer
does around SB3: validation on the validation split with best-model saving and early stopping,
resumable checkpoints, TensorBoard and a progress bar, and a clean stop on Ctrl-C or SIGTERM.

Run-folder outputs (the ``sb3`` trainer's layout): ``model/model.pt`` (final), ``model/best_model.pt``
(best validation return), ``checkpoints/`` (``latest.json`` points at the newest; ``tradecore run
--resume`` continues from it), ``tensorboard/`` and ``training.csv``.
"""

from __future__ import annotations

import csv
import math
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from tradecore.api import (
    RunContext,
    TradecoreError,
    Trainer,
    TrainResult,
    read_json,
    resolve_torch_device,
    rollout,
    write_json,
)
from tradecore_ppo.params import PPOParams

MODEL_DIR = "model"
CHECKPOINTS_DIR = "checkpoints"
LATEST_CHECKPOINT = "latest.json"
CURVE_FILE = "training.csv"


def setup_torch(threads: int, device: str) -> None:
    """Same seed, same numbers. On the CPU a fixed thread count is enough for the kernels PPO uses, so the
    1-2 s import that ``torch.use_deterministic_algorithms`` costs is paid only on CUDA, where atomics
    (the backward of the head gather, for one) would otherwise make runs differ."""
    import torch

    torch.set_num_threads(threads)
    if device == "cuda":
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)


class InterruptGuard:
    """Ctrl-C or SIGTERM asks training to stop at the next env step instead of raising anywhere.

    A ``KeyboardInterrupt`` raised at an arbitrary bytecode can land inside a checkpoint write; a flag
    polled by the collection loop always stops cleanly. A second signal restores the default handler
    and acts at once. Only the main thread can own signal handlers: elsewhere the guard is inert.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.requested = False
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> InterruptGuard:
        if threading.current_thread() is threading.main_thread():
            self._previous = {sig: signal.signal(sig, self._handle) for sig in self.SIGNALS}
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, previous in self._previous.items():
            signal.signal(sig, previous)
        self._previous = {}

    def _handle(self, signum: int, frame: Any) -> None:
        self.requested = True
        signal.signal(signum, signal.default_int_handler if signum == signal.SIGINT else signal.SIG_DFL)


class TrainingState:
    """What survives a restart: best validation score, evaluations without improvement."""

    def __init__(self, best: float | None = None, stale: int = 0, best_step: int | None = None) -> None:
        self.best = best
        self.stale = stale
        self.best_step = best_step
        self.last_score: float | None = None
        self.last_step: int | None = None  # the step last validated (not persisted: a resumed run re-scores)
        self.stopped_early = False

    def as_dict(self) -> dict[str, Any]:
        return {"best": self.best, "stale": self.stale, "best_step": self.best_step}


class TrainingLog:
    """``training.csv`` (validation curve, as the report reads it), TensorBoard scalars and a progress bar."""

    def __init__(self, run_dir: Path, tensorboard: bool, progress: bool, total: int, start: int) -> None:
        self.curve_path = run_dir / CURVE_FILE
        self.writer: Any = None
        if tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(str(run_dir / "tensorboard" / "ppo-fast"))
        self.bar: Any = None
        if progress:
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=start, unit="step", desc="train", dynamic_ncols=True, smoothing=0.1)
        self._shown = start
        self._started = time.perf_counter()
        self._start_step = start

    def update(self, stats: Any, train_return: float) -> None:
        if self.writer is not None:
            step = stats.timesteps
            for name in ("policy_loss", "value_loss", "entropy", "approx_kl", "clip_fraction", "explained_variance"):
                self.writer.add_scalar(f"train/{name}", getattr(stats, name), step)
            self.writer.add_scalar("train/learning_rate", stats.learning_rate, step)
            if math.isfinite(train_return):
                self.writer.add_scalar("rollout/episode_return_mean", train_return, step)
            elapsed = time.perf_counter() - self._started
            self.writer.add_scalar("time/steps_per_s", (step - self._start_step) / max(elapsed, 1e-9), step)
        if self.bar is not None:
            self.bar.update(stats.timesteps - self._shown)
            self._shown = stats.timesteps

    def validation(self, step: int, score: float, train_return: float, improved: bool) -> None:
        if self.writer is not None:
            self.writer.add_scalar("eval/validation_return", score, step)
        if self.bar is not None:
            self.bar.set_postfix(val_return=f"{score:+.2%}", refresh=False)
        new_file = not self.curve_path.exists()
        with self.curve_path.open("a", newline="") as fh:
            writer = csv.writer(fh)
            if new_file:
                writer.writerow(["timesteps", "validation_score", "train_episode_return", "best"])
            writer.writerow([step, f"{score:.10g}", f"{train_return:.10g}", int(improved)])

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        if self.bar is not None:
            self.bar.close()


def latest_checkpoint(run_dir: Path) -> dict[str, Any] | None:
    path = run_dir / CHECKPOINTS_DIR / LATEST_CHECKPOINT
    return read_json(path) if path.is_file() else None


def save_checkpoint(ppo: Any, run_dir: Path, state: TrainingState, reason: str) -> Path:
    from tradecore_ppo.policy import save_model

    directory = run_dir / CHECKPOINTS_DIR
    path = directory / f"step_{ppo.global_step:010d}.pt"
    save_model(path, ppo, training_state=True)
    record = {"timesteps": ppo.global_step, "reason": reason, "model": path.name, "state": state.as_dict()}
    write_json(directory / LATEST_CHECKPOINT, record)
    return path


class FastPPOTrainer(Trainer):
    """The ``ppo-fast`` trainer component."""

    def __init__(self, params: PPOParams) -> None:
        self.params = params

    def train(self, experiment: Any, ctx: RunContext, *, resume: bool = False) -> TrainResult:
        from tradecore_ppo.policy import read_model, save_model
        from tradecore_ppo.ppo import PPO

        p = self.params
        if ctx.run_dir is None:
            raise TradecoreError("the ppo-fast trainer needs a run folder (RunContext.run_dir)")
        run_dir = Path(ctx.run_dir)
        seed = p.seed if p.seed is not None else ctx.seed
        device = resolve_torch_device(p.device, ctx.log)
        setup_torch(p.torch_threads, device)
        checkpoint = latest_checkpoint(run_dir) if resume else None
        if resume and checkpoint is None:
            raise TradecoreError(
                f"{run_dir} has no checkpoint to resume from (checkpoints/latest.json); start a new run instead"
            )
        venv = experiment.make_vec_env("train", p.n_envs, seed=seed)
        discrete = not isinstance(venv.single_action_space, gym.spaces.Box)
        ppo = PPO(
            venv, p, seed=seed, device=device, action_masks=venv.action_masks if discrete and p.action_masks else None
        )
        state = TrainingState()
        if checkpoint is not None:
            record = read_model(run_dir / CHECKPOINTS_DIR / checkpoint["model"])
            ppo.load_state_dict({"agent": record["agent"], **record["training"]})
            state = TrainingState(**checkpoint.get("state", {}))
            ctx.log.info("resuming from %s at %d steps", checkpoint["model"], ppo.global_step)
        validate = p.eval_freq > 0 and len(experiment.splits.get("validation", ())) > 1
        log = TrainingLog(run_dir, p.tensorboard, ctx.progress, p.total_timesteps, ppo.global_step)
        next_eval = _next_multiple(ppo.global_step, p.eval_freq)
        next_checkpoint = _next_multiple(ppo.global_step, p.checkpoint_freq)
        guard = InterruptGuard()
        started = time.perf_counter()
        start_step = ppo.global_step
        try:
            with guard:
                for stats in ppo.train(p.total_timesteps, stop=lambda: guard.requested):
                    log.update(stats, self._train_return(ppo))
                    if validate and ppo.global_step >= next_eval:
                        next_eval = _next_multiple(ppo.global_step, p.eval_freq)
                        self._validate(experiment, ppo, state, log, run_dir)
                        if state.stopped_early:
                            break
                    if p.checkpoint_freq and ppo.global_step >= next_checkpoint:
                        next_checkpoint = _next_multiple(ppo.global_step, p.checkpoint_freq)
                        save_checkpoint(ppo, run_dir, state, "periodic")
            if guard.requested:
                raise KeyboardInterrupt  # training stopped cleanly between two env steps: checkpoint below
            if validate and not state.stopped_early and state.last_step != ppo.global_step:
                self._validate(experiment, ppo, state, log, run_dir)  # "best" covers the final weights too
        except KeyboardInterrupt:
            path = save_checkpoint(ppo, run_dir, state, "interrupted")
            ctx.log.warning("training interrupted at %d steps; checkpoint %s", ppo.global_step, path)
            raise
        finally:
            venv.close()
            log.close()
        seconds = time.perf_counter() - started
        ctx.log.info(
            "ppo-fast: %d steps in %.1f s (%.0f steps/s)",
            ppo.global_step - start_step,
            seconds,
            (ppo.global_step - start_step) / max(seconds, 1e-9),
        )
        save_model(run_dir / MODEL_DIR / "model.pt", ppo, training_state=False)
        best = (run_dir / MODEL_DIR / "best_model.pt").is_file()
        return TrainResult(
            algo="PPO",
            timesteps=ppo.global_step,
            evaluated_model="best_model" if best else "model",
            best_validation_return=state.best,
            best_step=state.best_step,
            stopped_early=state.stopped_early,
            resumed=checkpoint is not None,
            seed=seed,
            extra={"trainer": "ppo-fast", "device": device, "n_envs": p.n_envs, "model": f"{MODEL_DIR}/model.pt"},
        )

    @staticmethod
    def _train_return(ppo: Any) -> float:
        return float(np.mean(ppo.episode_returns)) if ppo.episode_returns else float("nan")

    def _validate(self, experiment: Any, ppo: Any, state: TrainingState, log: TrainingLog, run_dir: Path) -> None:
        """Score the current weights on the validation split; keep the best; count misses for early stopping."""
        from tradecore_ppo.policy import FastPolicy, save_model

        policy = FastPolicy(ppo.agent, ppo.obs_layout, ppo.heads, use_masks=ppo.action_masks is not None)
        segments = self.params.eval_segments
        score = rollout(experiment, "validation", policy, segments=segments, record=False).total_return
        state.last_score, state.last_step = score, ppo.global_step
        improved = state.best is None or score > state.best
        if improved:
            state.best, state.best_step, state.stale = score, ppo.global_step, 0
            save_model(run_dir / MODEL_DIR / "best_model.pt", ppo, training_state=False)
        else:
            state.stale += 1
        log.validation(ppo.global_step, score, self._train_return(ppo), improved)
        patience = self.params.early_stopping_patience
        if patience is not None and state.stale >= patience:
            state.stopped_early = True

    # -- evaluation ----------------------------------------------------------------------------------
    def load_policy(self, run_dir: Path, experiment: Any, which: str = "best_model") -> Any:
        """The saved policy of a run (``best_model``, falling back to ``model``), checked against ``experiment``."""
        model_dir = Path(run_dir) / MODEL_DIR
        path = model_dir / f"{which}.pt"
        if not path.is_file():
            path = model_dir / "model.pt"
        return self.load_policy_file(path, experiment)

    def load_policy_file(self, model_path: Path, experiment: Any) -> Any:
        """A policy from an explicit model file (weights only: loading it runs no code from the file)."""
        from tradecore_ppo.policy import load_policy

        env = experiment.make_env(next(iter(experiment.splits)))
        return load_policy(Path(model_path), env.observation_space, env.action_space, self.params.action_masks)


def _next_multiple(step: int, every: int) -> int:
    return (step // every + 1) * every if every else 0
