"""Drop-in test plugin (loaded with --plugins-dir): a trainer whose validation curve is set by its params.

It writes ``training.csv`` exactly as the sb3 trainer's validation callback does (header ``timesteps,
validation_score,train_episode_return,best``, one row per evaluation, appended while training), so the
Ray backend's reporting and Tune's schedulers see what they would see from SB3, in a known order.
It learns nothing, so its policy takes the first choice of every action head (flat, in the default set).
"""

from __future__ import annotations

import csv
import time
from pathlib import Path

import numpy as np

from tradecore.api import Trainer, TrainResult, hookimpl


class FirstChoicePolicy:
    """Index 0 on every discrete head (zeros on a Box), whatever it observes."""

    wants_masks = False

    def __init__(self, action_space):
        box = action_space.shape is not None
        self.width = action_space.shape[0] if box else len(action_space.spaces)
        self.dtype = np.float32 if box else np.int64
        self.num_envs = 1

    def reset(self, num_envs):
        self.num_envs = num_envs

    def act(self, obs, *, masks=None, bars=None):
        return np.zeros((self.num_envs, self.width), self.dtype)


class CurveTrainer(Trainer):
    def __init__(self, params):
        self.params = params

    def load_policy(self, run_dir, experiment, which="best_model"):
        return self.load_policy_file(Path(run_dir) / "training.csv", experiment)

    def load_policy_file(self, model_path, experiment):
        return FirstChoicePolicy(experiment.make_env(next(iter(experiment.splits))).action_space)

    def train(self, experiment, ctx, *, resume=False):
        p = self.params
        path = Path(ctx.run_dir) / "training.csv"
        best, best_step = None, 0
        for i in range(1, p.evals + 1):
            time.sleep(p.step_s)  # "training" between evaluations
            score = p.quality * i / p.evals
            improved = best is None or score > best
            best, best_step = (score, i * p.eval_freq) if improved else (best, best_step)
            new = not path.exists()
            with path.open("a", newline="") as fh:
                writer = csv.writer(fh)
                if new:
                    writer.writerow(["timesteps", "validation_score", "train_episode_return", "best"])
                writer.writerow([i * p.eval_freq, f"{score:.10g}", "nan", int(improved)])
        steps = p.evals * p.eval_freq
        return TrainResult(algo="curve", timesteps=steps, best_validation_return=best, best_step=best_step)


@hookimpl
def tradecore_trainers():
    from pydantic import BaseModel, ConfigDict, Field

    from tradecore.api import TrainerSpec

    class CurveParams(BaseModel):
        model_config = ConfigDict(extra="forbid")
        quality: float = 0.0
        evals: int = Field(6, ge=1)
        eval_freq: int = Field(100, ge=1)
        step_s: float = Field(0.2, ge=0)

    yield TrainerSpec(
        name="curve-test",
        description="Test trainer: writes a validation curve set by its params",
        params=CurveParams,
        factory=CurveTrainer,
    )
