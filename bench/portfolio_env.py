"""Portfolio env step throughput: tradecore's PortfolioEnv and BatchedPortfolioEnv side by side with the peers, one run.

    python bench/portfolio_env.py                          # tradecore only
    /tmp/finrl-venv/bin/python bench/portfolio_env.py --peers finrl_portfolio,gym_trading_env_multi

Peers (installed in a throwaway venv: ``python3 -m venv --system-site-packages /tmp/finrl-venv``, then
``/tmp/finrl-venv/bin/pip install --no-deps finrl gym-trading-env``; never imported by tradecore):

- ``finrl_portfolio``: FinRL's ``StockPortfolioEnv`` (``finrl/meta/env_portfolio_allocation/env_portfolio.py``,
  loaded from its file): 10 assets, 8 indicators, obs = the assets' covariance matrix stacked on the current
  indicator row (no window), softmax weights, **no transaction costs** (its ``transaction_cost_pct`` is unused).
  Each step calls ``len(df.index.unique())``, O(rows): its rate falls with the data length, so it gets
  ``--peer-rows`` bars and time-capped repeats.
- ``gym_trading_env_multi``: gym-trading-env's ``MultiDatasetTradingEnv`` over 10 pickled datasets, window 64,
  8 features, positions [0, 0.5, 1], fee 0.1 %. It trades **one asset at a time** (each episode draws a
  dataset): the closest it has to a multi-asset env, not a portfolio.

tradecore: 10 assets, window 64, 8 features each, long-only continuous weights (normalize), fee 0.1 %,
slippage 2 bps, four reward terms (pnl, drawdown, turnover, concentration), Dict observation ``(10, 64, 8)``
+ account. Single env: fixed start, no episode limit. Vector env: 256 envs, random starts, 720-step episodes
with autoreset. Actions are pre-sampled; each repeat times ``--steps`` steps; medians over ``--repeats``.
Stdout: one ``name value`` line per figure.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import tempfile
import time
import warnings

import numpy as np

ASSETS, WINDOW, FEATURES = 10, 64, 8


def market(rows: int, seed: int = 0):
    from tradecore.env.portfolio_engine import PortfolioMarket

    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, (ASSETS, rows)), axis=1))
    open_ = np.concatenate([close[:, :1], close[:, :-1]], axis=1)
    prices = np.stack([open_, np.maximum(open_, close) * 1.002, np.minimum(open_, close) * 0.998, close], axis=2)
    return PortfolioMarket(
        tuple(f"A{a}/USD" for a in range(ASSETS)),
        np.arange(rows, dtype=np.int64) * 3_600_000,
        np.ascontiguousarray(prices),
        np.ones((ASSETS, rows), bool),
        rng.standard_normal((ASSETS, rows, FEATURES)).astype(np.float32),
        tuple(f"f{j}" for j in range(FEATURES)),
    )


def config(**kw):
    from tradecore.config.env import PortfolioEnvConfig

    base = dict(type="portfolio", window=WINDOW, fee_bps=10, slippage_bps=2, episode_steps=None, random_start=False)
    return PortfolioEnvConfig(**{**base, **kw})


def terms():
    from tradecore.env import rewards as R

    return [
        ("pnl", 1.0, R.PnL),
        ("drawdown", 0.5, R.DrawdownPenalty),
        ("turnover", 0.1, R.TurnoverPenalty),
        ("concentration", 0.01, R.ConcentrationPenalty),
    ]


def time_steps(step, actions, steps: int, reset, cap_s: float | None = None) -> float:
    """Steps per second over ``steps`` steps (auto-reset on the end included); ``cap_s`` stops early."""
    reset()
    t0 = time.perf_counter()
    done_steps = 0
    k = len(actions)
    for i in range(steps):
        out = step(actions[i % k])
        done_steps += 1
        if out[2] or out[3]:
            reset()
        if cap_s is not None and (i & 63) == 0 and time.perf_counter() - t0 > cap_s:
            break
    return done_steps / (time.perf_counter() - t0)


def bench_single(rows, steps, repeats):
    from tradecore.env.portfolio import PortfolioEnv

    env = PortfolioEnv(market(rows), config(), terms())
    env.action_space.seed(0)
    actions = [env.action_space.sample() for _ in range(4096)]
    time_steps(env.step, actions, 2000, lambda: env.reset(seed=0))  # JIT and warm-up
    return [time_steps(env.step, actions, steps, lambda: env.reset(seed=0)) for _ in range(repeats)]


def bench_vector(rows, steps, repeats, num_envs):
    from tradecore.env.portfolio_vector import BatchedPortfolioEnv

    venv = BatchedPortfolioEnv(market(rows), config(random_start=True, episode_steps=720), terms(), num_envs, seed=0)
    venv.action_space.seed(0)
    actions = [venv.action_space.sample() for _ in range(64)]
    venv.reset(seed=0)
    for a in actions:
        venv.step(a)
    rates = []
    for _ in range(repeats):
        venv.reset(seed=0)
        t0 = time.perf_counter()
        for i in range(steps):
            venv.step(actions[i % 64])
        rates.append(steps * num_envs / (time.perf_counter() - t0))
    return rates


def _finrl_module():
    spec = importlib.util.find_spec("finrl")
    if spec is None:
        raise ImportError("finrl is not installed (see the module docstring)")
    path = os.path.join(list(spec.submodule_search_locations)[0], "meta/env_portfolio_allocation/env_portfolio.py")
    mspec = importlib.util.spec_from_file_location("_bench_finrl_portfolio", path)
    mod = importlib.util.module_from_spec(mspec)
    mspec.loader.exec_module(mod)  # the file alone: finrl/__init__ pulls in its training stack
    return mod


def bench_finrl(rows, steps, repeats, cap_s):
    import pandas as pd

    mod = _finrl_module()
    m = market(rows)
    close = m.prices[:, :, 3]
    rets = np.diff(np.log(close), axis=1, prepend=np.log(close[:, :1]))
    frames = []
    for a in range(ASSETS):
        frame = pd.DataFrame({"date": np.arange(rows), "tic": m.symbols[a], "close": close[a]})
        for j in range(FEATURES):
            frame[f"f{j}"] = m.features[a, :, j]
        frames.append(frame)
    df = pd.concat(frames).sort_values(["date", "tic"], kind="stable")
    covs = [np.cov(rets[:, max(0, d - WINDOW + 1) : d + 1]) if d >= 2 else np.eye(ASSETS) for d in range(rows)]
    df["cov_list"] = df["date"].map(dict(enumerate(covs)))
    df.index = df["date"].factorize()[0]
    names = [f"f{j}" for j in range(FEATURES)]
    env = mod.StockPortfolioEnv(
        df=df,
        stock_dim=ASSETS,
        hmax=100,
        initial_amount=1_000_000,
        transaction_cost_pct=0.001,
        reward_scaling=1e-4,
        state_space=ASSETS,
        action_space=ASSETS,
        tech_indicator_list=names,
        lookback=WINDOW,
    )
    env.action_space.seed(0)
    actions = [env.action_space.sample() for _ in range(4096)]
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:  # it saves plots into results/ at the end of the data
        os.chdir(tmp)
        os.mkdir("results")
        try:
            quiet = open(os.devnull, "w")
            saved, sys.stdout = sys.stdout, quiet  # it prints a summary at every episode end
            try:
                time_steps(env.step, actions, 200, env.reset)
                rates = [time_steps(env.step, actions, steps, env.reset, cap_s) for _ in range(repeats)]
            finally:
                sys.stdout = saved
        finally:
            os.chdir(cwd)
    return rates


def bench_gym_trading_env(rows, steps, repeats, cap_s):
    import pandas as pd

    saved = warnings.filters[:]
    try:
        from gym_trading_env.environments import MultiDatasetTradingEnv  # sets warnings to errors process-wide
    finally:
        warnings.filters[:] = saved
    m = market(rows)
    with tempfile.TemporaryDirectory() as tmp:
        for a in range(ASSETS):
            p = m.prices[a]
            frame = pd.DataFrame(
                {"open": p[:, 0], "high": p[:, 1], "low": p[:, 2], "close": p[:, 3], "volume": 1.0},
                index=pd.date_range("2020-01-01", periods=rows, freq="h"),
            )
            for j in range(FEATURES):
                frame[f"feature_f{j}"] = m.features[a, :, j]
            frame.to_pickle(os.path.join(tmp, f"A{a}.pkl"))
        env = MultiDatasetTradingEnv(
            dataset_dir=os.path.join(tmp, "*.pkl"),
            positions=[0, 0.5, 1],
            windows=WINDOW,
            trading_fees=0.001,
            borrow_interest_rate=0.0,
            initial_position=0,
            max_episode_duration="max",
            verbose=0,
        )
        env.action_space.seed(0)
        actions = [env.action_space.sample() for _ in range(4096)]
        time_steps(env.step, actions, 500, lambda: env.reset(seed=0))
        return [time_steps(env.step, actions, steps, lambda: env.reset(seed=0), cap_s) for _ in range(repeats)]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=20_000, help="bars per asset for tradecore")
    ap.add_argument("--peer-rows", type=int, default=2_000, help="bars per asset for the peers (FinRL is O(rows))")
    ap.add_argument("--steps", type=int, default=50_000, help="single-env steps per repeat")
    ap.add_argument("--vector-steps", type=int, default=400, help="vector-env batch steps per repeat")
    ap.add_argument("--num-envs", type=int, default=256)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--cap-s", type=float, default=15.0, help="time cap per peer repeat (s)")
    ap.add_argument("--peers", default="", help="comma list: finrl_portfolio,gym_trading_env_multi")
    args = ap.parse_args(argv)
    results = {
        "tradecore_portfolio": bench_single(args.rows, args.steps, args.repeats),
        f"tradecore_portfolio_vector_{args.num_envs}": bench_vector(
            args.rows, args.vector_steps, args.repeats, args.num_envs
        ),
    }
    peers = {"finrl_portfolio": bench_finrl, "gym_trading_env_multi": bench_gym_trading_env}
    for name in filter(None, args.peers.split(",")):
        results[name] = peers[name](args.peer_rows, args.steps, args.repeats, args.cap_s)
    medians = {name: statistics.median(rates) for name, rates in results.items()}
    for name, rates in results.items():
        print(f"{name} steps_per_s={medians[name]:.0f}")
        print(f"  {name}: repeats {', '.join(f'{r:,.0f}' for r in rates)}", file=sys.stderr)
    single = medians["tradecore_portfolio"]
    for name in peers:
        if name in medians:
            print(f"ratio_single_over_{name}={single / medians[name]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
