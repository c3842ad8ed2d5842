"""The manifest's ``env`` and ``split`` sections: how the trading environment executes and splits data."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class ActionsConfig(BaseModel):
    """Which action heads the agent has.

    A head with one choice (or switched off) is not part of the action space: direction off means
    always long (a pure sizing agent), one size bucket means always that size, an empty stop or take
    list means no stop or take.
    """

    model_config = ConfigDict(extra="forbid")

    direction: bool = Field(True, description="Direction head: flat/long (and short when shorting is allowed)")
    size_buckets: list[float] = Field(
        [1.0], description="Position sizes as fractions of the maximum exposure (equity x env.leverage), in (0, 1]"
    )
    stop_loss_pct: list[float] = Field([], description="Stop-loss distances (fraction of entry); [] disables the head")
    take_profit_pct: list[float] = Field(
        [], description="Take-profit distances (fraction of entry); [] disables the head"
    )

    @model_validator(mode="after")
    def _positive(self) -> ActionsConfig:
        if any(not (0 < v <= 1) for v in self.size_buckets):
            raise ValueError("size_buckets values must be in (0, 1]: fractions of the maximum exposure (env.leverage)")
        if any(not (0 < v < 1) for v in self.stop_loss_pct):
            raise ValueError("stop_loss_pct values must be in (0, 1): 0.02 means 2% from the entry price")
        if any(not (0 < v <= 10) for v in self.take_profit_pct):
            raise ValueError("take_profit_pct values must be in (0, 10]: 0.04 means 4% from the entry price")
        if not self.size_buckets:
            raise ValueError("size_buckets needs at least one size")
        return self


class EnvConfig(BaseModel):
    """Execution, costs, episodes and observation window of the trading environment."""

    model_config = ConfigDict(extra="forbid")

    window: int = Field(64, ge=1, le=4096, description="Bars of features in each observation")
    fee_bps: float = Field(26.0, ge=0, le=1000, description="Fee per side in basis points (Kraken taker: 26)")
    slippage_bps: float = Field(2.0, ge=0, le=1000, description="Slippage per fill in basis points")
    episode_steps: int | None = Field(720, ge=1, description="Steps per episode; null = until the data ends")
    random_start: bool = Field(True, description="Start episodes at random bars drawn from the env's np_random")
    initial_equity: float = Field(10_000.0, gt=0, description="Starting equity in quote currency")
    allow_short: bool = Field(True, description="Allow short positions")
    leverage: float = Field(1.0, gt=0, le=20, description="Maximum gross exposure as a multiple of equity")
    max_drawdown: float | None = Field(None, gt=0, lt=1, description="Terminate when drawdown exceeds this")
    normalize: Literal["rolling", "expanding", "none"] = Field("rolling", description="Causal feature normalisation")
    normalize_window: int = Field(500, ge=2, description="Bars in the rolling normalisation window")
    actions: ActionsConfig = Field(default_factory=ActionsConfig)
    action_mode: Literal["discrete", "continuous"] = Field(
        "discrete",
        description="discrete: Dict of Discrete heads; continuous: Box target position in [-1, 1] "
        "x leverage (plus stop/take distances when those lists are given), for SAC/TD3",
    )
    observation: Literal["dict", "flat"] = Field(
        "dict",
        description="dict: {'market': (window, features), 'account': (7,)} for MultiInputPolicy; "
        "flat: one float32 vector for MlpPolicy",
    )


class SplitConfig(BaseModel):
    """Chronological train/validation/test split with an embargo between parts."""

    model_config = ConfigDict(extra="forbid")

    train: float = Field(0.7, gt=0, le=1)
    validation: float = Field(0.15, ge=0, lt=1)
    test: float = Field(0.15, ge=0, lt=1)
    embargo_bars: int | None = Field(
        None,
        ge=0,
        description="Bars skipped between parts; default = the features' look-back (largest indicator warm-up "
        "plus normalize_window - 1 when normalised), so no candle feeds two parts; never less than env.window",
    )
    folds: int = Field(1, ge=1, le=100, description="Walk-forward folds; 1 = one chronological split")
    fold: int = Field(0, ge=0, description="Which walk-forward fold this run uses (0-based)")

    @model_validator(mode="after")
    def _sum(self) -> SplitConfig:
        total = self.train + self.validation + self.test
        if abs(total - 1.0) > 1e-9:
            raise ValueError(f"train + validation + test must be 1.0, got {total:g}")
        if self.fold >= self.folds:
            raise ValueError(f"fold must be below folds ({self.folds}), got {self.fold}")
        return self
