"""Built-in reward terms."""

from __future__ import annotations

from tradecore.hookspecs import hookimpl


@hookimpl
def tradecore_reward_terms():
    from pydantic import BaseModel, ConfigDict, Field

    from tradecore.specs import RewardTermSpec

    class PnlParams(BaseModel):
        model_config = ConfigDict(extra="forbid")
        mode: str = Field("log", pattern="^(log|simple)$", description="log or simple return of equity")

    yield RewardTermSpec(name="pnl", description="Change of equity net of fees and slippage",
                         params=PnlParams, factory="tradecore.env.rewards:PnL")
