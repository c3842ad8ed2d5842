"""Training throughput of PPO on the quickstart configuration (MLP policy, CPU), and the env's share of wall time.

    python bench/train.py [--steps 16384] [--vec-env batched|dummy]

Prints ``name value`` lines: ppo_steps_per_s, env_time_share (time inside the vector env's step/reset
over the whole learn() wall time), train_wall_s.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=16384)
    parser.add_argument("--vec-env", default="batched", choices=["batched", "dummy"])
    args = parser.parse_args()

    from tradecore.env.experiment import build_experiment
    from tradecore.interfaces import Candles, RunContext
    from tradecore.runtime import Runtime

    manifest = json.loads((ROOT / "examples" / "quickstart.json").read_text())
    manifest["trainer"]["params"].update(
        total_timesteps=args.steps, eval_freq=0, checkpoint_freq=0, tensorboard=False, vec_env=args.vec_env
    )
    resolved = Runtime().resolve(manifest)
    ctx = RunContext(lake_root=ROOT, seed=manifest["seed"])
    candles = Candles.from_frame(resolved.source.build().load(ctx), "1h")
    experiment = build_experiment(resolved, candles, ctx)
    trainer = resolved.trainer.build()

    from stable_baselines3.common.vec_env import DummyVecEnv
    from tradecore_sb3 import vec

    inside = [0.0]  # time in the adapter + env: everything SB3 calls on the vector env

    target = vec.GymnasiumVecEnv if args.vec_env == "batched" else DummyVecEnv
    for name in ("step_wait", "reset"):
        original = getattr(target, name)

        def timed(self, *a, _original=original, **k):
            started = time.perf_counter()
            try:
                return _original(self, *a, **k)
            finally:
                inside[0] += time.perf_counter() - started

        setattr(target, name, timed)

    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        ctx.run_dir = Path(tmp)
        started = time.perf_counter()
        result = trainer.train(experiment, ctx)
        wall = time.perf_counter() - started
    print(f"ppo_steps_per_s {result['timesteps'] / wall:.0f}")
    print(f"env_time_share {inside[0] / wall:.4f}")
    print(f"train_wall_s {wall:.2f}")


if __name__ == "__main__":
    main()
