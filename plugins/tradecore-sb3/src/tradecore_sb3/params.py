"""Typed params of the ``sb3`` trainer (pydantic only: listing and validating never import torch or SB3).

Hyperparameters left at ``null`` take the algorithm's own Stable-Baselines3 default, as in RL Zoo's
hyperparameter files; a hyperparameter the chosen algorithm does not have is an error, not ignored.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

#: bounds past which a run is certain to fail, hang or exhaust memory, caught at validation
MAX_STEPS = 10**12
#: steps held by one on-policy rollout (n_steps * n_envs): beyond this the buffer outgrows a machine's memory
ROLLOUT_CAP = 2**22
LayerSize = Annotated[int, Field(ge=1, le=65_536)]
Layers = Annotated[list[LayerSize], Field(min_length=1, max_length=64)]

Algo = Literal["PPO", "A2C", "DQN", "MaskablePPO", "RecurrentPPO", "SAC", "TD3"]

ON_POLICY = ("PPO", "A2C", "MaskablePPO", "RecurrentPPO")
OFF_POLICY = ("DQN", "SAC", "TD3")
CONTINUOUS_ONLY = ("SAC", "TD3")

#: hyperparameter -> the algorithms that accept it (SB3 constructor keyword of the same name)
APPLIES_TO: dict[str, tuple[str, ...]] = {
    "n_steps": ON_POLICY,
    "batch_size": ("PPO", "MaskablePPO", "RecurrentPPO", *OFF_POLICY),
    "n_epochs": ("PPO", "MaskablePPO", "RecurrentPPO"),
    "gae_lambda": ON_POLICY,
    "clip_range": ("PPO", "MaskablePPO", "RecurrentPPO"),
    "clip_range_vf": ("PPO", "MaskablePPO", "RecurrentPPO"),
    "normalize_advantage": ON_POLICY,
    "ent_coef": ("PPO", "A2C", "MaskablePPO", "RecurrentPPO", "SAC"),
    "vf_coef": ON_POLICY,
    "target_kl": ("PPO", "MaskablePPO", "RecurrentPPO"),
    "buffer_size": OFF_POLICY,
    "learning_starts": OFF_POLICY,
    "tau": OFF_POLICY,
    "train_freq": OFF_POLICY,
    "gradient_steps": OFF_POLICY,
    "target_update_interval": ("DQN", "SAC"),
    "exploration_fraction": ("DQN",),
    "exploration_final_eps": ("DQN",),
    "max_grad_norm": ("PPO", "A2C", "MaskablePPO", "RecurrentPPO", "DQN"),
    "lstm_hidden_size": ("RecurrentPPO",),
}


class LinearSchedule(BaseModel):
    """A value moving linearly from ``initial`` at the start of training to ``final`` at the end."""

    model_config = ConfigDict(extra="forbid")

    schedule: Literal["linear"] = Field(description="Schedule kind")
    initial: float = Field(gt=0, le=10, description="Value at the start of training")
    final: float = Field(0.0, ge=0, le=10, description="Value at the end of training")


class NetArch(BaseModel):
    """Separate hidden layers for the policy (``pi``, actor) and value (``vf``, critic) networks."""

    model_config = ConfigDict(extra="forbid")

    pi: Layers = Field([64, 64], description="Policy/actor hidden layer sizes")
    vf: Layers = Field([64, 64], description="Value/critic hidden layer sizes")


class VecNormalizeParams(BaseModel):
    """SB3 ``VecNormalize``: running mean/std of observations and returns, saved with the model."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(False, description="Wrap the training envs in VecNormalize")
    norm_obs: bool = Field(True, description="Normalise observations")
    norm_reward: bool = Field(True, description="Scale rewards by the running std of returns")
    clip_obs: float = Field(10.0, gt=0, description="Clip normalised observations to +-clip_obs")
    clip_reward: float = Field(10.0, gt=0, description="Clip scaled rewards to +-clip_reward")


class SB3Params(BaseModel):
    """Params of the ``sb3`` trainer."""

    model_config = ConfigDict(extra="forbid")

    algo: Algo = Field(
        "PPO",
        description="Algorithm: PPO, A2C, DQN (SB3), MaskablePPO, RecurrentPPO "
        "(sb3-contrib), SAC, TD3 (continuous sizing only)",
    )
    total_timesteps: int = Field(100_000, ge=1, le=MAX_STEPS, description="Environment steps to train for")
    policy: Literal["auto", "MlpPolicy", "MultiInputPolicy", "MlpLstmPolicy", "MultiInputLstmPolicy"] = Field(
        "auto", description="SB3 policy class; auto picks it from the observation space and algorithm"
    )
    learning_rate: Annotated[float, Field(gt=0, le=10)] | LinearSchedule | None = Field(
        None, description='Learning rate, or {"schedule": "linear", "initial": 3e-4, "final": 0}'
    )
    n_steps: int | None = Field(None, ge=1, le=2**20, description="Rollout steps per env per update (on-policy)")
    batch_size: int | None = Field(None, ge=1, le=2**22, description="Minibatch size")
    n_epochs: int | None = Field(None, ge=1, le=10_000, description="Passes over each rollout (PPO)")
    gamma: float | None = Field(None, gt=0, le=1, description="Discount factor")
    gae_lambda: float | None = Field(None, ge=0, le=1, description="GAE lambda (on-policy)")
    clip_range: Annotated[float, Field(gt=0, le=10)] | LinearSchedule | None = Field(
        None, description="PPO clip range, or a linear schedule"
    )
    clip_range_vf: float | None = Field(None, gt=0, description="PPO value-function clip range")
    normalize_advantage: bool | None = Field(None, description="Normalise advantages (on-policy)")
    ent_coef: float | None = Field(None, ge=0, description="Entropy coefficient")
    vf_coef: float | None = Field(None, ge=0, description="Value-function loss coefficient")
    max_grad_norm: float | None = Field(None, gt=0, description="Gradient clipping norm")
    target_kl: float | None = Field(None, gt=0, description="Stop an update early above this KL (PPO)")
    buffer_size: int | None = Field(None, ge=1, le=10**7, description="Replay buffer size (off-policy)")
    learning_starts: int | None = Field(
        None, ge=0, le=MAX_STEPS, description="Steps before learning starts (off-policy)"
    )
    tau: float | None = Field(None, gt=0, le=1, description="Soft update coefficient (off-policy)")
    train_freq: int | None = Field(None, ge=1, le=MAX_STEPS, description="Update every train_freq steps (off-policy)")
    gradient_steps: int | None = Field(
        None, ge=-1, le=10_000, description="Gradient steps per update; -1 = as many as env steps"
    )
    target_update_interval: int | None = Field(None, ge=1, le=MAX_STEPS, description="Target network update interval")
    exploration_fraction: float | None = Field(None, gt=0, le=1, description="DQN: share of training for epsilon decay")
    exploration_final_eps: float | None = Field(None, ge=0, le=1, description="DQN: final epsilon")
    lstm_hidden_size: int | None = Field(None, ge=1, le=65_536, description="RecurrentPPO: LSTM hidden units")
    net_arch: Layers | NetArch | None = Field(
        None, description='Hidden layers, e.g. [64, 64], or {"pi": [...], "vf": [...]}'
    )
    activation_fn: Literal["tanh", "relu", "elu", "leaky_relu"] | None = Field(
        None, description="Activation of the hidden layers"
    )
    device: Literal["cpu", "cuda", "auto"] = Field(
        "cpu", description="cpu, cuda (error without a GPU) or auto (cuda when present, else cpu with a warning)"
    )
    n_envs: int = Field(4, ge=1, le=1024, description="Parallel training environments")
    vec_env: Literal["batched", "dummy", "subproc"] = Field(
        "batched", description="batched: tradecore's numpy-batched vector env; dummy/subproc: SB3's"
    )
    vec_normalize: VecNormalizeParams = Field(default_factory=VecNormalizeParams)
    eval_freq: int = Field(
        10_000, ge=0, le=MAX_STEPS, description="Evaluate on the validation split every N steps; 0 = off"
    )
    early_stopping_patience: int | None = Field(
        None, ge=1, le=1_000_000, description="Stop after this many evaluations without a new best validation score"
    )
    checkpoint_freq: int = Field(
        50_000, ge=0, le=MAX_STEPS, description="Save a resumable checkpoint every N steps; 0 = off"
    )
    tensorboard: bool = Field(True, description="Write TensorBoard logs into the run folder")
    torch_threads: int = Field(1, ge=1, le=256, description="torch CPU threads (1 keeps CPU runs reproducible)")
    seed: int | None = Field(None, ge=0, lt=2**32, description="Trainer seed; default: the manifest's seed")

    @model_validator(mode="after")
    def _fits_algo(self) -> SB3Params:
        wrong = [
            name for name, algos in APPLIES_TO.items() if getattr(self, name) is not None and self.algo not in algos
        ]
        if wrong:
            raise ValueError(
                f"{', '.join(wrong)} does not apply to {self.algo}; remove it "
                f"(applies to: {', '.join(APPLIES_TO[wrong[0]])})"
            )
        if self.policy in ("MlpLstmPolicy", "MultiInputLstmPolicy") and self.algo != "RecurrentPPO":
            raise ValueError(f"policy {self.policy} needs algo RecurrentPPO")
        if self.algo == "RecurrentPPO" and self.policy in ("MlpPolicy", "MultiInputPolicy"):
            raise ValueError("RecurrentPPO needs policy MlpLstmPolicy or MultiInputLstmPolicy (or auto)")
        if isinstance(self.net_arch, NetArch) and self.algo == "DQN":
            raise ValueError("DQN has one Q-network: give net_arch as a list, e.g. [64, 64]")
        if self.early_stopping_patience is not None and self.eval_freq == 0:
            raise ValueError("early_stopping_patience needs eval_freq > 0")
        if self.n_steps is not None and self.n_steps * self.n_envs > ROLLOUT_CAP:
            raise ValueError(
                f"n_steps * n_envs = {self.n_steps * self.n_envs:,} steps per rollout is more than {ROLLOUT_CAP:,}: "
                "the rollout buffer would not fit in memory; lower n_steps or n_envs"
            )
        if self.gradient_steps == 0:
            raise ValueError("gradient_steps must be -1 (as many as env steps) or at least 1")
        if self.algo in ("PPO", "MaskablePPO", "RecurrentPPO") and self.normalize_advantage is not False:
            # SB3 normalises advantages within each minibatch: one sample has no std
            if self.batch_size == 1:
                raise ValueError("batch_size must be at least 2 with normalize_advantage (or set it to false)")
            if self.n_steps is not None and self.n_steps * self.n_envs < 2:
                raise ValueError("n_steps * n_envs must be at least 2 with normalize_advantage")
        return self

    def algo_kwargs(self) -> dict[str, object]:
        """The SB3 constructor keywords the user set (schedules and net_arch are built by the trainer)."""
        skip = {
            "algo",
            "total_timesteps",
            "policy",
            "learning_rate",
            "clip_range",
            "net_arch",
            "activation_fn",
            "device",
            "n_envs",
            "vec_env",
            "vec_normalize",
            "eval_freq",
            "early_stopping_patience",
            "checkpoint_freq",
            "tensorboard",
            "torch_threads",
            "seed",
            "lstm_hidden_size",
        }
        return {k: v for k, v in self.model_dump().items() if k not in skip and v is not None}
