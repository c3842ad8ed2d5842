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

Each rate is given per wall second (``steps_per_s``) and per second of this process's CPU time
(``cpu_steps_per_s``): on a shared machine the second is what the code costs, the first what a user waits.
Two yardsticks run interleaved with tradecore's envs, repeat by repeat, so load slows them alike:

- ``trading_single``/``trading_vector_<n>``: the single-asset TradingEnv and BatchedTradingEnv of
  ``bench/env_step.py`` (window 64, 4 features, all four action heads); ``ratio_*`` are per-repeat medians.
- ``copy_ceiling``: ``np.copyto`` of one batch step's market observations (``num_envs`` x 10 x 64 x 8 float32,
  5.2 MB at 256 envs) between two warm buffers, as env-steps/s: no env that writes its observations can
  beat it on this machine (memory bandwidth); ``vector_over_copy_ceiling`` says how close the vector env is.
- ``observe_ceiling``: the vector env's own observation kernel alone, every env at its current bar (256
  windows spread over the data, as in training): the part of a step no accounting change can remove.

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


def time_steps(step, actions, steps: int, reset, cap_s: float | None = None) -> tuple[float, float]:
    """Steps per wall second and per CPU second over ``steps`` steps (auto-reset on the end included);
    ``cap_s`` stops early."""
    reset()
    t0, c0 = time.perf_counter(), time.process_time()
    done_steps = 0
    k = len(actions)
    for i in range(steps):
        out = step(actions[i % k])
        done_steps += 1
        if out[2] or out[3]:
            reset()
        if cap_s is not None and (i & 63) == 0 and time.perf_counter() - t0 > cap_s:
            break
    return done_steps / (time.perf_counter() - t0), done_steps / max(time.process_time() - c0, 1e-9)


def time_batches(step, actions, steps: int, num_envs: int) -> tuple[float, float]:
    """Env-steps per wall second and per CPU second over ``steps`` batch steps (the results are dropped)."""
    t0, c0 = time.perf_counter(), time.process_time()
    for i in range(steps):
        step(actions[i % len(actions)])
    return steps * num_envs / (time.perf_counter() - t0), steps * num_envs / max(time.process_time() - c0, 1e-9)


def single_env(rows):
    """tradecore's PortfolioEnv, warmed up, and its pre-sampled actions."""
    from tradecore.env.portfolio import PortfolioEnv

    env = PortfolioEnv(market(rows), config(), terms())
    env.action_space.seed(0)
    actions = [env.action_space.sample() for _ in range(4096)]
    time_steps(env.step, actions, 2000, lambda: env.reset(seed=0))  # JIT and warm-up
    return env, actions


def vector_env(rows, num_envs):
    from tradecore.env.portfolio_vector import BatchedPortfolioEnv

    venv = BatchedPortfolioEnv(market(rows), config(random_start=True, episode_steps=720), terms(), num_envs, seed=0)
    venv.action_space.seed(0)
    actions = [venv.action_space.sample() for _ in range(64)]
    venv.reset(seed=0)
    time_batches(venv.step, actions, 64, num_envs)
    return venv, actions


def trading_envs(rows, num_envs):
    """The single-asset yardstick: ``bench/env_step.py``'s TradingEnv and BatchedTradingEnv, warmed up."""
    from env_step import experiment, full_config, synthetic

    exp = experiment(*synthetic(rows), full_config())
    env = exp.make_env("train")
    env.action_space.seed(0)
    actions = [env.action_space.sample() for _ in range(4096)]
    time_steps(env.step, actions, 2000, lambda: env.reset(seed=0))
    venv = exp.make_vec_env("train", num_envs, seed=0, episode_steps=720, random_start=True)
    venv.action_space.seed(0)
    batches = [venv.action_space.sample() for _ in range(64)]
    venv.reset(seed=0)
    time_batches(venv.step, batches, 64, num_envs)
    return env, actions, venv, batches


def copy_ceiling(num_envs: int, steps: int) -> tuple[float, float]:
    """Env-steps/s (wall, CPU) if a batch step did nothing but copy its market observations between two warm
    buffers (numpy's memcpy)."""
    src = np.random.default_rng(0).standard_normal((num_envs, ASSETS, WINDOW, FEATURES)).astype(np.float32)
    dst = np.empty_like(src)
    np.copyto(dst, src)
    return time_batches(lambda _: np.copyto(dst, src), [None], steps, num_envs)


def observe_ceiling(venv, steps: int) -> tuple[float, float]:
    """Env-steps/s (wall, CPU) if a batch step only wrote its observations (tradecore's gather kernel)."""
    engine = venv.engine
    envs = np.arange(engine.num_envs)
    row = engine.take_row()
    return time_batches(lambda _: engine.observe(envs, row), [None], steps, engine.num_envs)


def bench_tradecore(args) -> dict[str, list[tuple[float, float]]]:
    """Every tradecore figure, repeat by repeat: (wall, CPU) rates."""
    n = args.num_envs
    env, actions = single_env(args.rows)
    venv, batches = vector_env(args.rows, n)
    if args.yardstick:
        t_env, t_actions, t_venv, t_batches = trading_envs(args.rows, n)
    results: dict[str, list[tuple[float, float]]] = {}

    def add(name, rate):
        results.setdefault(name, []).append(rate)

    for _ in range(args.repeats):
        add("tradecore_portfolio", time_steps(env.step, actions, args.steps, lambda: env.reset(seed=0)))
        add(f"tradecore_portfolio_vector_{n}", time_batches(venv.step, batches, args.vector_steps, n))
        add(f"observe_ceiling_{n}", observe_ceiling(venv, args.vector_steps))
        add(f"copy_ceiling_{n}", copy_ceiling(n, args.vector_steps))
        if args.yardstick:
            add("trading_single", time_steps(t_env.step, t_actions, args.steps, lambda: t_env.reset(seed=0)))
            add(f"trading_vector_{n}", time_batches(t_venv.step, t_batches, args.vector_steps, n))
    return results


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
    ap.add_argument("--no-yardstick", dest="yardstick", action="store_false", help="skip the single-asset envs")
    args = ap.parse_args(argv)
    results = bench_tradecore(args)
    peers = {"finrl_portfolio": bench_finrl, "gym_trading_env_multi": bench_gym_trading_env}
    for name in filter(None, args.peers.split(",")):
        results[name] = peers[name](args.peer_rows, args.steps, args.repeats, args.cap_s)
    wall = {name: statistics.median(r[0] for r in rates) for name, rates in results.items()}
    cpu = {name: statistics.median(r[1] for r in rates) for name, rates in results.items()}
    for name, rates in results.items():
        print(f"{name} steps_per_s={wall[name]:.0f} cpu_steps_per_s={cpu[name]:.0f}")
        print(f"  {name}: repeats {', '.join(f'{w:,.0f} (cpu {c:,.0f})' for w, c in rates)}", file=sys.stderr)

    def ratio(a: str, b: str) -> str:
        """Median of the per-repeat ratios of wall rates, and of CPU rates."""
        pairs = list(zip(results[a], results[b]))
        return (
            f"{statistics.median(x[0] / y[0] for x, y in pairs):.2f} "
            f"cpu={statistics.median(x[1] / y[1] for x, y in pairs):.2f}"
        )

    n = args.num_envs
    print(f"vector_over_observe_ceiling={ratio(f'tradecore_portfolio_vector_{n}', f'observe_ceiling_{n}')}")
    print(f"vector_over_copy_ceiling={ratio(f'tradecore_portfolio_vector_{n}', f'copy_ceiling_{n}')}")
    if args.yardstick:
        print(f"ratio_single_over_trading_single={ratio('tradecore_portfolio', 'trading_single')}")
        print(f"ratio_vector_over_trading_vector_{n}={ratio(f'tradecore_portfolio_vector_{n}', f'trading_vector_{n}')}")
    for name in peers:
        if name in results:
            print(f"ratio_single_over_{name}={wall['tradecore_portfolio'] / wall[name]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
