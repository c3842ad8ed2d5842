"""Typed params of the ``ppo-fast`` trainer (pydantic only: listing and validating never import torch).

Names follow the ``sb3`` trainer's where the meaning is the same (``n_steps``, ``n_epochs``,
``clip_range``, ``ent_coef``, ...), so a manifest moves between the two by changing ``type``; the
minibatch is given as a count (``n_minibatches``, CleanRL's choice) because the rollout size grows
with ``n_envs``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator


class LinearSchedule(BaseModel):
    """A value moving linearly from ``initial`` at the start of training to ``final`` at the end."""

    model_config = ConfigDict(extra="forbid")

    schedule: Literal["linear"] = Field(description="Schedule kind")
    initial: float = Field(gt=0, le=10, description="Value at the start of training")
    final: float = Field(0.0, ge=0, le=10, description="Value at the end of training")

    def at(self, progress: float) -> float:
        """The value after ``progress`` (0 -> 1) of training."""
        return self.initial + (self.final - self.initial) * min(1.0, max(0.0, progress))


class NetArch(BaseModel):
    """Separate hidden layers for the policy (``pi``, actor) and value (``vf``, critic) networks."""

    model_config = ConfigDict(extra="forbid")

    pi: list[int] = Field([64, 64], description="Policy/actor hidden layer sizes")
    vf: list[int] = Field([64, 64], description="Value/critic hidden layer sizes")

    @model_validator(mode="after")
    def _sizes(self) -> NetArch:
        if any(not (1 <= h <= 8192) for h in [*self.pi, *self.vf]):
            raise ValueError("hidden layer sizes must be between 1 and 8192")
        return self


class PPOParams(BaseModel):
    """Params of the ``ppo-fast`` trainer."""

    model_config = ConfigDict(extra="forbid")

    total_timesteps: int = Field(200_000, ge=1, le=10**11, description="Environment steps to train for")
    n_envs: int = Field(256, ge=1, le=8192, description="Envs stepped together in one batched call")
    n_steps: int = Field(64, ge=1, le=8192, description="Rollout steps per env per update")
    n_epochs: int = Field(4, ge=1, le=100, description="Passes over each rollout")
    n_minibatches: int = Field(4, ge=1, le=65536, description="Minibatches each pass is cut into")
    learning_rate: float | LinearSchedule = Field(
        3e-4, description='Adam learning rate, or {"schedule": "linear", "initial": 3e-4, "final": 0}'
    )
    gamma: float = Field(0.99, gt=0, le=1, description="Discount factor")
    gae_lambda: float = Field(0.95, ge=0, le=1, description="GAE lambda")
    clip_range: float | LinearSchedule = Field(0.2, description="PPO policy clip range, or a linear schedule")
    clip_range_vf: float | None = Field(
        None, gt=0, le=10, description="Clip the value update around the old value by this much; null = off"
    )
    normalize_advantage: bool = Field(True, description="Normalise advantages per minibatch")
    ent_coef: float = Field(0.0, ge=0, le=10, description="Entropy bonus coefficient")
    vf_coef: float = Field(0.5, ge=0, le=100, description="Value loss (mean squared error) coefficient")
    max_grad_norm: float = Field(0.5, gt=0, le=1000, description="Gradient clipping norm")
    target_kl: float | None = Field(
        None, gt=0, le=10, description="Stop an update's epochs once approximate KL exceeds 1.5 x this"
    )
    net_arch: list[int] | NetArch = Field(
        [64, 64], description='Hidden layers of both networks, e.g. [64, 64], or {"pi": [...], "vf": [...]}'
    )
    activation_fn: Literal["tanh", "relu"] = Field("tanh", description="Activation of the hidden layers")
    log_std_init: float = Field(0.0, ge=-20, le=5, description="Continuous actions: initial log std of the Gaussian")
    action_masks: bool = Field(
        True, description="Discrete actions: sample only the choices the env's action masks allow"
    )
    device: Literal["cpu", "cuda", "auto"] = Field(
        "cpu", description="cpu, cuda (error without a GPU) or auto (cuda when present, else cpu with a warning)"
    )
    torch_threads: int = Field(1, ge=1, le=256, description="torch CPU threads (1 keeps CPU runs reproducible)")
    eval_freq: int = Field(50_000, ge=0, description="Evaluate on the validation split every N steps; 0 = off")
    eval_segments: int = Field(
        1,
        ge=1,
        le=4096,
        description="Step the validation split as this many segments side by side: faster, slightly pessimistic "
        "(each segment starts flat); 1 = one exact episode, as the sb3 trainer scores",
    )
    early_stopping_patience: int | None = Field(
        None, ge=1, description="Stop after this many evaluations without a new best validation score"
    )
    checkpoint_freq: int = Field(100_000, ge=0, description="Save a resumable checkpoint every N steps; 0 = off")
    tensorboard: bool = Field(True, description="Write TensorBoard logs into the run folder")
    seed: int | None = Field(None, ge=0, lt=2**32, description="Trainer seed; default: the manifest's seed")

    @field_validator("learning_rate", "clip_range", mode="before")
    @classmethod
    def _schedule(cls, value: object) -> object:
        """A schedule's own error, in one line (not one line per member of the number-or-schedule union)."""
        if not isinstance(value, dict):
            return value
        try:
            return LinearSchedule.model_validate(value)
        except ValidationError as exc:
            first = exc.errors()[0]
            raise ValueError(f"schedule {'.'.join(map(str, first['loc']))}: {first['msg']}") from None

    @model_validator(mode="after")
    def _consistent(self) -> PPOParams:
        rollout = self.n_envs * self.n_steps
        if self.n_minibatches > rollout:
            raise ValueError(
                f"n_minibatches ({self.n_minibatches}) exceeds the rollout size n_envs x n_steps ({rollout}); "
                "lower n_minibatches"
            )
        for name in ("learning_rate", "clip_range"):
            value = getattr(self, name)
            if isinstance(value, float) and not (0 < value <= 10):
                raise ValueError(f"{name} must be in (0, 10], got {value}")
        if isinstance(self.net_arch, list) and any(not (1 <= h <= 8192) for h in self.net_arch):
            raise ValueError("net_arch sizes must be between 1 and 8192")
        if self.early_stopping_patience is not None and self.eval_freq == 0:
            raise ValueError("early_stopping_patience needs eval_freq > 0")
        return self

    @property
    def rollout_size(self) -> int:
        return self.n_envs * self.n_steps

    def hidden_layers(self) -> tuple[list[int], list[int]]:
        """(actor, critic) hidden layer sizes."""
        if isinstance(self.net_arch, NetArch):
            return list(self.net_arch.pi), list(self.net_arch.vf)
        return list(self.net_arch), list(self.net_arch)

    def value_at(self, name: Literal["learning_rate", "clip_range"], progress: float) -> float:
        value = getattr(self, name)
        return value.at(progress) if isinstance(value, LinearSchedule) else float(value)
