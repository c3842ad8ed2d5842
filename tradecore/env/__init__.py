"""The Gymnasium trading environment. Importing this package stays light (no gymnasium import).

``gymnasium.make("tradecore/Trading-v0", manifest=path_or_dict, split="train")`` works once
:func:`register_envs` has run: it runs on import of this package when gymnasium is already imported,
and ``gymnasium.make("tradecore.env:tradecore/Trading-v0", ...)`` imports it for you.
"""

from __future__ import annotations

import sys

ENV_ID = "tradecore/Trading-v0"


def register_envs() -> None:
    """Register ``tradecore/Trading-v0`` with gymnasium (idempotent)."""
    import gymnasium

    if ENV_ID not in gymnasium.registry:
        gymnasium.register(id=ENV_ID, entry_point="tradecore.gymnasium_env:make_trading_env", disable_env_checker=True)


if "gymnasium" in sys.modules:
    register_envs()
