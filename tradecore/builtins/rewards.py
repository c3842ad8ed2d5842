"""Built-in reward terms: pnl, fee_cost, drawdown, exposure, turnover, dsr, terminal.

Each term returns its unweighted share of a step's reward (see :mod:`tradecore.env.rewards` for the
step outcome they read); the env multiplies by the manifest ``weight`` and sums. Penalties are
already negative, so weights stay positive.
"""

from __future__ import annotations

from tradecore.hookspecs import hookimpl


@hookimpl
def tradecore_reward_terms():
    from typing import Literal

    from pydantic import BaseModel, ConfigDict, Field

    from tradecore.specs import RewardTermSpec

    class PnlParams(BaseModel):
        model_config = ConfigDict(extra="forbid")
        mode: Literal["log", "simple"] = Field("log", description="log or simple return of equity")

    class FeeCostParams(BaseModel):
        model_config = ConfigDict(extra="forbid")
        include_slippage: bool = Field(True, description="Count slippage as a cost too")

    class DrawdownParams(BaseModel):
        model_config = ConfigDict(extra="forbid")
        mode: Literal["increase", "level"] = Field(
            "increase", description="increase: minus the rise of drawdown this step; level: minus the drawdown"
        )

    class NoParams(BaseModel):
        model_config = ConfigDict(extra="forbid")

    class DsrParams(BaseModel):
        model_config = ConfigDict(extra="forbid")
        eta: float = Field(0.01, gt=0, lt=1, description="Adaptation rate of the moving moments (about 1/bars)")

    class TerminalParams(BaseModel):
        model_config = ConfigDict(extra="forbid")
        mode: Literal["log", "simple"] = Field("log", description="log or simple total return of the episode")

    factory = "tradecore.env.rewards:"
    yield RewardTermSpec(
        name="pnl",
        description="Change of equity net of fees and slippage (log or simple)",
        params=PnlParams,
        factory=factory + "PnL",
    )
    yield RewardTermSpec(
        name="fee_cost",
        description="Minus fees (and slippage) paid, as a fraction of equity",
        params=FeeCostParams,
        factory=factory + "FeeCost",
    )
    yield RewardTermSpec(
        name="drawdown",
        description="Minus the drawdown increase (or level) of equity",
        params=DrawdownParams,
        factory=factory + "DrawdownPenalty",
    )
    yield RewardTermSpec(
        name="exposure",
        description="Minus the absolute exposure held over the bar",
        params=NoParams,
        factory=factory + "ExposurePenalty",
    )
    yield RewardTermSpec(
        name="turnover",
        description="Minus the notional traded, as a fraction of equity",
        params=NoParams,
        factory=factory + "TurnoverPenalty",
    )
    yield RewardTermSpec(
        name="dsr",
        description="Differential Sharpe ratio (Moody & Saffell) of net returns",
        params=DsrParams,
        factory=factory + "DifferentialSharpe",
    )
    yield RewardTermSpec(
        name="terminal",
        description="Total return of the episode, paid at its last step",
        params=TerminalParams,
        factory=factory + "TerminalReward",
    )
