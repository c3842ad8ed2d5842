"""Hook implementations. Kept light: params models and numpy are imported inside the hooks, so
``tradecore --help`` (which imports every plugin module) stays fast."""

from __future__ import annotations

from tradecore import hookimpl


@hookimpl
def tradecore_indicators():
    from tradecore.api import IndicatorSpec
    from tradecore_example.params import HlSpreadParams

    yield IndicatorSpec(
        name="hl-spread",
        description="Bar range (high - low) / close, averaged over a rolling window",
        params=HlSpreadParams,
        factory="tradecore_example.indicators:HlSpread",
    )


@hookimpl
def tradecore_reward_terms():
    from tradecore.api import RewardTermSpec
    from tradecore_example.params import LossAversionParams

    yield RewardTermSpec(
        name="loss-aversion",
        description="Step return, with losses weighted more than gains",
        params=LossAversionParams,
        factory="tradecore_example.rewards:LossAversion",
    )
