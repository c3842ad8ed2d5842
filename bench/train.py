"""Training throughput on the quickstart experiment: SB3 PPO and ppo-fast in the same run, with the env's share of wall.

    python bench/train.py [--steps 16384] [--vec-env batched|dummy] [--fast-steps 327680] [--fast-envs 256]

Prints ``name value`` lines. SB3 (examples/quickstart.json's params): ppo_steps_per_s, env_time_share
(time inside the vector env's step/reset over the whole learn() wall time), train_wall_s. ppo-fast
(examples/quickstart-fast.json's params, validation and checkpoints off): fast_steps_per_s,
fast_env_time_share (time inside the batched env's step/reset/action_masks), fast_train_wall_s; then
fast_speedup (fast_steps_per_s / ppo_steps_per_s). Needs the tradecore-sb3 and tradecore-ppo plugins.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed_methods(cls: type, names: tuple[str, ...], inside: list[float]) -> None:
    """Wrap ``cls``'s methods so the seconds spent in them add up in ``inside[0]``."""
    for name in names:
        original = getattr(cls, name)

        def timed(self, *a, _original=original, **k):
            started = time.perf_counter()
            try:
                return _original(self, *a, **k)
            finally:
                inside[0] += time.perf_counter() - started

        setattr(cls, name, timed)


def train(manifest: dict, params: dict) -> tuple[int, float]:
    """Train ``manifest``'s trainer with ``params`` overriding its own; (timesteps, wall seconds of train())."""
    from tradecore.api import Candles, RunContext, Runtime, build_experiment

    manifest["trainer"]["params"].update(params)
    resolved = Runtime().resolve(manifest)
    ctx = RunContext(lake_root=ROOT, seed=manifest["seed"])
    candles = Candles.from_frame(resolved.source.build().load(ctx), "1h")
    experiment = build_experiment(resolved, candles, ctx)
    experiment.make_vec_env("train", 2, seed=0).step([[0, 0, 0, 0]] * 2)  # compile the env's kernels first
    trainer = resolved.trainer.build()
    with tempfile.TemporaryDirectory() as tmp:
        ctx.run_dir = Path(tmp)
        started = time.perf_counter()
        result = trainer.train(experiment, ctx)
        wall = time.perf_counter() - started
    return (result["timesteps"] if isinstance(result, dict) else result.timesteps), wall  # sb3: dict


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=16384)
    parser.add_argument("--vec-env", default="batched", choices=["batched", "dummy"])
    parser.add_argument("--fast-steps", type=int, default=327680)
    parser.add_argument("--fast-envs", type=int, default=256)
    args = parser.parse_args()

    from stable_baselines3.common.vec_env import DummyVecEnv
    from tradecore_sb3 import vec

    from tradecore.env.vector import BatchedTradingEnv

    off = {"eval_freq": 0, "checkpoint_freq": 0, "tensorboard": False}
    sb3_inside = [0.0]  # time in the adapter + env: everything SB3 calls on the vector env
    timed_methods(vec.GymnasiumVecEnv if args.vec_env == "batched" else DummyVecEnv, ("step_wait", "reset"), sb3_inside)
    manifest = json.loads((ROOT / "examples" / "quickstart.json").read_text())
    steps, wall = train(manifest, {**off, "total_timesteps": args.steps, "vec_env": args.vec_env})
    sb3_rate = steps / wall
    print(f"ppo_steps_per_s {sb3_rate:.0f}")
    print(f"env_time_share {sb3_inside[0] / wall:.4f}")
    print(f"train_wall_s {wall:.2f}")

    fast_inside = [0.0]  # time in the batched env itself: ppo-fast calls it with no adapter
    timed_methods(BatchedTradingEnv, ("step", "reset", "action_masks"), fast_inside)
    manifest = json.loads((ROOT / "examples" / "quickstart-fast.json").read_text())
    steps, wall = train(manifest, {**off, "total_timesteps": args.fast_steps, "n_envs": args.fast_envs})
    print(f"fast_steps_per_s {steps / wall:.0f}")
    print(f"fast_env_time_share {fast_inside[0] / wall:.4f}")
    print(f"fast_train_wall_s {wall:.2f}")
    print(f"fast_speedup {steps / wall / sb3_rate:.1f}")


if __name__ == "__main__":
    main()
