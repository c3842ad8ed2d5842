"""The ``loss-aversion`` reward term: the step's net return, losses multiplied by ``loss_weight``.

It implements only the scalar form ``__call__(outcome)``; tradecore's batched env then calls it row by
row (a built-in term would add a vectorised ``batch`` for speed).
"""

from __future__ import annotations

from typing import Any

from tradecore.api import RewardTerm
from tradecore_example.params import LossAversionParams


class LossAversion(RewardTerm):
    def __init__(self, params: LossAversionParams) -> None:
        self.loss_weight = params.loss_weight

    def __call__(self, outcome: Any) -> float:
        ret = outcome.ret  # equity return of the step, net of fees and slippage
        return ret * self.loss_weight if ret < 0 else ret
