"""Built-in reward terms: specs only (params: tradecore.builtins.reward_params, code: tradecore.env.rewards).

Each term returns its unweighted share of a step's reward (see :mod:`tradecore.env.rewards` for the
step outcome they read); the env multiplies by the manifest ``weight`` and sums. Penalties are
already negative, so weights stay positive.
"""

from __future__ import annotations

from tradecore.hookspecs import hookimpl

#: name -> (params model in reward_params, RewardTerm class in tradecore.env.rewards, description)
STANDARD = {
    "pnl": ("PnlParams", "PnL", "Change of equity net of fees and slippage (log or simple)"),
    "fee_cost": ("FeeCostParams", "FeeCost", "Minus fees (and slippage) paid, as a fraction of equity"),
    "drawdown": ("DrawdownParams", "DrawdownPenalty", "Minus the drawdown increase (or level) of equity"),
    "exposure": ("NoParams", "ExposurePenalty", "Minus the absolute exposure held over the bar"),
    "turnover": ("NoParams", "TurnoverPenalty", "Minus the notional traded, as a fraction of equity"),
    "concentration": (
        "NoParams",
        "ConcentrationPenalty",
        "Minus the sum of squared weights held (Herfindahl); single pair: the exposure squared",
    ),
    "dsr": ("DsrParams", "DifferentialSharpe", "Differential Sharpe ratio (Moody & Saffell) of net returns"),
    "terminal": ("TerminalParams", "TerminalReward", "Total return of the episode, paid at its last step"),
}


@hookimpl
def tradecore_reward_terms():
    from tradecore.builtins import reward_params as models  # pydantic: not at plugin import (--help)
    from tradecore.specs import RewardTermSpec

    for name, (model, cls, description) in STANDARD.items():
        yield RewardTermSpec(
            name=name, description=description, params=getattr(models, model), factory=f"tradecore.env.rewards:{cls}"
        )
