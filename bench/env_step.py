"""Env step/reset throughput of tradecore's TradingEnv and BatchedTradingEnv; one ``name value`` line per figure.

    python bench/env_step.py                       # full configuration, 100k rows, 50k steps x 3
    python bench/env_step.py --small-batch         # the vector env with one env over the single env
    python bench/env_step.py --rows 5000000        # step/reset cost at 5M rows (compare with 10k)
    python bench/env_step.py --scaling 10000,5000000 --repeats 7   # both sizes interleaved, plus the ratios
    python ../shared/bench/env_step_peers.py --envs numpy_ref_full,gym_trading_env \\
        --extra tradecore=bench.env_step:peer_factory --check-api      # side by side with the peers

Full configuration (the issue's budget): window 64, 4 features, all four action heads (direction with
shorting, 4 sizes, 4 stops, 4 takes), fee 0.1 %, slippage 2 bps, four reward terms (pnl, fee_cost,
drawdown, turnover), Dict observation, fixed start and no episode limit (like the peer script).
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import numpy as np

SIZES = [0.25, 0.5, 0.75, 1.0]
STOPS = [0.005, 0.01, 0.02, 0.05]
TERMS = [
    ("pnl", 1.0, "PnL"),
    ("fee_cost", 1.0, "FeeCost"),
    ("drawdown", 0.5, "DrawdownPenalty"),
    ("turnover", 0.1, "TurnoverPenalty"),
]


def full_config(window: int = 64, fee: float = 0.001, **overrides):
    from tradecore.config.env import EnvConfig

    settings = dict(
        window=window,
        fee_bps=fee * 1e4,
        slippage_bps=2.0,
        episode_steps=None,
        random_start=False,
        allow_short=True,
        leverage=1.0,
        normalize="none",
        actions={"direction": True, "size_buckets": SIZES, "stop_loss_pct": STOPS, "take_profit_pct": STOPS},
    )
    settings.update(overrides)
    return EnvConfig(**settings)


def experiment(time_ms, open_, high, low, close, volume, feats, config, timeframe="1m"):
    from tradecore.config.env import SplitConfig
    from tradecore.env import rewards
    from tradecore.env.experiment import experiment_from_arrays
    from tradecore.interfaces import Candles

    candles = Candles(time=time_ms, open=open_, high=high, low=low, close=close, volume=volume, timeframe=timeframe)
    terms = [(name, w, getattr(rewards, cls)) for name, w, cls in TERMS]
    names = [f"f{k}" for k in range(feats.shape[1])]
    # the whole series is one part: no validation/test carved out for a throughput benchmark
    split = SplitConfig(train=1.0, validation=0.0, test=0.0)
    return experiment_from_arrays(candles, feats, names, config, split, terms)


def peer_factory(d):
    """``env_step_peers.py --extra tradecore=bench.env_step:peer_factory``: BenchData -> TradingEnv."""
    df = d.ohlcv
    time_ms = (df.index.asi8 // 1_000_000).astype(np.int64) if df.index.asi8[0] > 10**15 else df.index.asi8
    exp = experiment(
        np.ascontiguousarray(time_ms, dtype=np.int64),
        *(df[c].to_numpy(np.float64) for c in ("open", "high", "low", "close", "volume")),
        d.feats_f32,
        full_config(d.window, d.fee),
    )
    return exp.make_env("train")


def synthetic(rows: int, n_feats: int = 4, seed: int = 0):
    rng = np.random.default_rng(seed)
    sigma = 0.7 / math.sqrt(365 * 24 * 60)
    close = 30_000.0 * np.exp(np.cumsum(rng.normal(0, sigma, rows)))
    open_ = np.r_[30_000.0, close[:-1]]
    wick = np.abs(rng.normal(0, sigma, (2, rows)))
    high = np.maximum(open_, close) * (1 + wick[0])
    low = np.minimum(open_, close) * (1 - wick[1])
    feats = rng.standard_normal((rows, n_feats)).astype(np.float32)
    time_ms = np.arange(rows, dtype=np.int64) * 60_000
    return time_ms, open_, high, low, close, rng.lognormal(3, 0.5, rows), feats


def bench_single(exp, steps: int, repeats: int, seed: int = 0) -> tuple[float, float]:
    env = exp.make_env("train")
    env.action_space.seed(seed)
    actions = [env.action_space.sample() for _ in range(steps)]
    env.reset(seed=seed)
    for a in actions[:1000]:
        env.step(a)
    rates = []
    for _ in range(repeats):
        env.reset(seed=seed)
        step = env.step
        t0 = time.perf_counter()
        for a in actions:
            _, _, term, trunc, _ = step(a)
            if term or trunc:
                env.reset()
        rates.append(steps / (time.perf_counter() - t0))
    resets = []
    for k in range(200):
        t0 = time.perf_counter()
        env.reset(seed=seed + k)
        resets.append(time.perf_counter() - t0)
    return statistics.median(rates), statistics.median(resets) * 1e3


def bench_vector(exp, num_envs: int, steps: int, repeats: int, seed: int = 0) -> float:
    venv = exp.make_vec_env("train", num_envs, seed=seed, episode_steps=720, random_start=True)
    venv.action_space.seed(seed)
    actions = [venv.action_space.sample() for _ in range(64)]
    venv.reset(seed=seed)
    for k in range(50):
        venv.step(actions[k % 64])
    rates = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for k in range(steps):
            venv.step(actions[k % 64])
        rates.append(steps * num_envs / (time.perf_counter() - t0))
    return statistics.median(rates)


def small_batch(exp, steps: int, repeats: int, seed: int = 0) -> tuple[float, float, float]:
    """Steps/s of the single env and of the vector env with one env, on the same actions and episodes, and
    the ratio vector/single: each repeat times both back to back, so a loaded machine slows the pair alike,
    and the ratio is the median of the pairs' ratios (the figure to quote)."""
    env = exp.make_env("train")
    venv = exp.make_vec_env("train", 1, seed=seed, random_start=False, episode_steps=None)
    env.action_space.seed(seed)
    actions = [env.action_space.sample() for _ in range(steps)]
    batched = [{head: np.array([index]) for head, index in a.items()} for a in actions]
    single, vector = [], []
    for _ in range(repeats):
        env.reset(seed=seed)
        t0 = time.perf_counter()
        for a in actions:
            _, _, term, trunc, _ = env.step(a)
            if term or trunc:
                env.reset()
        single.append(steps / (time.perf_counter() - t0))
        venv.reset(seed=seed)
        t0 = time.perf_counter()
        for a in batched:
            venv.step(a)
        vector.append(steps / (time.perf_counter() - t0))
    ratio = statistics.median(v / s for v, s in zip(vector, single))
    return statistics.median(single), statistics.median(vector), ratio


def scaling(sizes: list[int], steps: int, vec_steps: int, num_envs: int, repeats: int) -> None:
    """Single-env step/reset and vector step rates per dataset size, repeats interleaved across sizes so a
    loaded machine slows every size alike; prints medians and each size's ratio to the first."""
    exps = {rows: experiment(*synthetic(rows), full_config()) for rows in sizes}
    single = {rows: [] for rows in sizes}
    resets = {rows: [] for rows in sizes}
    vector = {rows: [] for rows in sizes}
    for _ in range(repeats):
        for rows, exp in exps.items():
            sps, reset_ms = bench_single(exp, steps, 1)
            single[rows].append(sps)
            resets[rows].append(reset_ms)
            vector[rows].append(bench_vector(exp, num_envs, vec_steps, 1))
    base = sizes[0]
    for name, table in (("single.full", single), ("single.reset_ms", resets), (f"vector{num_envs}.full", vector)):
        for rows in sizes:
            print(f"env.{name}.rows{rows} {statistics.median(table[rows]):.4f}")
        for rows in sizes[1:]:
            ratio = statistics.median(table[rows]) / statistics.median(table[base])
            print(f"env.{name}.rows{rows}_over_rows{base} {ratio:.3f}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--steps", type=int, default=50_000)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--num-envs", type=int, default=256)
    p.add_argument("--vec-steps", type=int, default=2_000)
    p.add_argument("--scaling", help="comma-separated dataset sizes measured interleaved, e.g. 10000,5000000")
    p.add_argument("--small-batch", action="store_true", help="only the vector env with one env vs the single env")
    args = p.parse_args()
    if args.scaling:
        sizes = [int(v) for v in args.scaling.split(",")]
        scaling(sizes, args.steps, args.vec_steps, args.num_envs, args.repeats)
        return
    exp = experiment(*synthetic(args.rows), full_config())
    single, vector1, ratio = small_batch(exp, min(args.steps, 20_000), args.repeats)
    print(f"env.vector1.full.rows{args.rows}.steps_per_s {vector1:.1f}")
    print(f"env.vector1_over_single.full.rows{args.rows} {ratio:.3f}")
    if args.small_batch:
        return
    sps, reset_ms = bench_single(exp, args.steps, args.repeats)
    print(f"env.single.full.rows{args.rows}.steps_per_s {sps:.1f}")
    print(f"env.single.full.rows{args.rows}.reset_ms {reset_ms:.4f}")
    vps = bench_vector(exp, args.num_envs, args.vec_steps, args.repeats)
    print(f"env.vector{args.num_envs}.full.rows{args.rows}.env_steps_per_s {vps:.1f}")


if __name__ == "__main__":
    main()
