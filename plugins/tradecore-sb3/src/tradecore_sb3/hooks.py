"""Hook implementations of the ``sb3`` plugin (light: imports only pydantic, never torch or SB3)."""

from __future__ import annotations

from tradecore.api import hookimpl


@hookimpl
def tradecore_trainers():
    from tradecore.api import TrainerSpec
    from tradecore_sb3.params import SB3Params

    yield TrainerSpec(
        name="sb3",
        description="Stable-Baselines3: PPO, A2C, DQN, SAC, TD3 and sb3-contrib MaskablePPO, RecurrentPPO",
        params=SB3Params,
        factory="tradecore_sb3.trainer:SB3Trainer",
        meta={"algorithms": ["PPO", "A2C", "DQN", "MaskablePPO", "RecurrentPPO", "SAC", "TD3"]},
    )


@hookimpl
def tradecore_provenance():
    """Versions of what trains the policy, from package metadata (importing torch would cost seconds)."""
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for package in ("stable-baselines3", "sb3-contrib", "torch"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            pass  # sb3-contrib is optional: without it, no run used it
    return found
