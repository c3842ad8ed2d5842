"""The manifest's ``env`` and ``split`` sections: how the trading environment executes and splits data."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator


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

    type: Literal["single"] = Field("single", description="single: one pair (the default); portfolio: many assets")
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


class PortfolioActionsConfig(BaseModel):
    """How an agent's action becomes target weights over the assets (and cash)."""

    model_config = ConfigDict(extra="forbid")

    mode: Literal["continuous", "discrete"] = Field(
        "continuous",
        description="continuous: Box of target weights (SAC/TD3/PPO); discrete: MultiDiscrete, one weight bucket "
        "per asset (PPO/MaskablePPO)",
    )
    simplex: Literal["normalize", "softmax"] = Field(
        "normalize",
        description="Long-only continuous actions (assets + cash, each in [-1, 1]) onto the simplex. normalize: "
        "(a + 1) / 2 divided by its sum (all zero = all cash), reaches every allocation; softmax: FinRL's "
        "softmax of the raw values (smooth, but no weight above e / (e + n / e))",
    )
    buckets: list[float] = Field(
        [0.0, 0.25, 0.5, 1.0],
        description="Discrete mode: the weights each asset's head chooses from (negative ones need allow_short); "
        "when their gross sum exceeds max_gross they are scaled down to it",
    )

    @model_validator(mode="after")
    def _buckets(self) -> PortfolioActionsConfig:
        if len(self.buckets) < 2:
            raise ValueError("buckets needs at least two weights, e.g. [0.0, 0.5, 1.0]")
        if any(not (-1 <= b <= 1) for b in self.buckets):
            raise ValueError("buckets values must be in [-1, 1]: fractions of equity per asset")
        if len(set(self.buckets)) != len(self.buckets):
            raise ValueError("buckets values must be distinct")
        return self


class PortfolioEnvConfig(BaseModel):
    """One account allocating across the source's symbols: target weights, rebalanced at the next bar's open."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["portfolio"] = Field(description="portfolio: many assets, one account (source.params.symbols)")
    window: int = Field(64, ge=1, le=4096, description="Bars of features in each observation")
    fee_bps: float | dict[str, float] = Field(
        26.0, description="Fee per side in basis points: one number, or per symbol ({'BTC/USD': 26, ...})"
    )
    slippage_bps: float | dict[str, float] = Field(
        2.0, description="Slippage per fill in basis points: one number, or per symbol"
    )
    min_order: float = Field(
        0.0, ge=0, description="Smallest order notional (quote currency); smaller ones are skipped"
    )
    no_trade_band: float = Field(
        0.0, ge=0, lt=1, description="An asset is not traded while |current weight - target| is within this band"
    )
    episode_steps: int | None = Field(720, ge=1, description="Steps per episode; null = until the data ends")
    random_start: bool = Field(True, description="Start episodes at random bars drawn from the env's np_random")
    initial_equity: float = Field(10_000.0, gt=0, description="Starting equity in quote currency")
    allow_short: bool = Field(False, description="Allow negative weights (long/short), capped by max_gross")
    max_gross: float = Field(1.0, gt=0, le=20, description="Cap on the sum of |weights| (gross exposure)")
    max_drawdown: float | None = Field(None, gt=0, lt=1, description="Terminate when drawdown exceeds this")
    missing: Literal["refuse", "drop"] = Field(
        "refuse",
        description="Bars where an asset's data is missing (not a no-trade bar): refuse the run, or drop those "
        "bars for every asset (the time axis then jumps over them)",
    )
    normalize: Literal["rolling", "expanding", "none"] = Field("rolling", description="Causal feature normalisation")
    normalize_window: int = Field(500, ge=2, description="Bars in the rolling normalisation window")
    actions: PortfolioActionsConfig = Field(default_factory=PortfolioActionsConfig)
    observation: Literal["dict", "flat"] = Field(
        "dict",
        description="dict: {'market': (assets, window, features), 'account': (assets + 3,)}: each asset's weight, "
        "cash weight, log equity, drawdown; flat: one float32 vector",
    )

    @model_validator(mode="after")
    def _combos(self) -> PortfolioEnvConfig:
        for name in ("fee_bps", "slippage_bps"):
            value = getattr(self, name)
            values = value.values() if isinstance(value, dict) else [value]
            if any(not (0 <= v <= 1000) for v in values):
                raise ValueError(f"{name}: basis points must be in [0, 1000]")
        if not self.allow_short and self.max_gross > 1:
            raise ValueError("max_gross above 1 needs allow_short: true (long-only weights sum to at most 1)")
        if not self.allow_short and any(b < 0 for b in self.actions.buckets):
            raise ValueError("actions.buckets: negative weights need allow_short: true")
        return self

    def cost_bps(self, name: str, symbols: list[str] | tuple[str, ...]) -> list[float]:
        """``fee_bps`` or ``slippage_bps`` per symbol; a per-symbol map must name exactly the symbols."""
        from tradecore.errors import TradecoreError

        value = getattr(self, name)
        if not isinstance(value, dict):
            return [float(value)] * len(symbols)
        if set(value) != set(symbols):
            missing = sorted(set(symbols) - set(value))
            extra = sorted(set(value) - set(symbols))
            raise TradecoreError(
                f"env.{name}: per-symbol costs must name every symbol of source.params.symbols"
                + (f"; missing {', '.join(missing)}" if missing else "")
                + (f"; not in the source: {', '.join(extra)}" if extra else "")
            )
        return [float(value[s]) for s in symbols]


def _env_kind(value) -> str:
    """The env model a manifest's ``env`` object is for: ``portfolio`` by its ``type``, else the single pair."""
    kind = value.get("type", "single") if isinstance(value, dict) else getattr(value, "type", "single")
    return {"single": "EnvConfig", "portfolio": "PortfolioEnvConfig"}.get(kind) if isinstance(kind, str) else None


#: the manifest's ``env``: the single-pair env (``type`` absent or ``single``) or the portfolio env
AnyEnvConfig = Annotated[
    Annotated[EnvConfig, Tag("EnvConfig")] | Annotated[PortfolioEnvConfig, Tag("PortfolioEnvConfig")],
    Discriminator(
        _env_kind,
        custom_error_type="env_type",
        custom_error_message="type must be 'single' (one pair, the default) or 'portfolio'",
    ),
]
