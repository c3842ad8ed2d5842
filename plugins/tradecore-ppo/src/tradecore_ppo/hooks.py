"""Hook implementations of the ``ppo`` plugin (light: imports only pydantic, never torch)."""

from __future__ import annotations

from tradecore.api import hookimpl


@hookimpl
def tradecore_trainers():
    from tradecore.api import TrainerSpec
    from tradecore_ppo.params import PPOParams

    yield TrainerSpec(
        name="ppo-fast",
        description="Native batched PPO: drives tradecore's vector env directly (64-1,024 envs), CPU or CUDA",
        params=PPOParams,
        factory="tradecore_ppo.trainer:FastPPOTrainer",
        meta={"algorithms": ["PPO"]},
    )
