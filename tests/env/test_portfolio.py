"""The portfolio env: API checks, seeding, leakage for every asset, vector == single, fill arithmetic, alignment,
manifest errors (through resolve and through ``tradecore validate``)."""

from __future__ import annotations

import copy
import json
import tracemalloc
import warnings

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner

from tradecore.cli import cli
from tradecore.config.env import PortfolioEnvConfig
from tradecore.data.align import AlignedCandles, align_frames
from tradecore.env import rewards as R
from tradecore.env.portfolio import PortfolioEnv
from tradecore.env.portfolio_engine import PortfolioMarket
from tradecore.env.portfolio_experiment import build_portfolio_experiment, load_aligned
from tradecore.errors import ManifestError, TradecoreError
from tradecore.features.portfolio import build_portfolio_features
from tradecore.features.standard import RSI, LogReturns
from tradecore.manifest import resolve

TERMS = [
    ("pnl", 1.0, R.PnL),
    ("drawdown", 0.5, R.DrawdownPenalty),
    ("turnover", 0.1, R.TurnoverPenalty),
    ("dsr", 0.1, R.DifferentialSharpe),
    ("concentration", 0.01, R.ConcentrationPenalty),
]


def _market(assets=3, n=400, nf=2, seed=0, traded=None) -> PortfolioMarket:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, (assets, n)), axis=1))
    open_ = np.concatenate([close[:, :1], close[:, :-1]], axis=1)
    prices = np.stack([open_, np.maximum(open_, close) * 1.001, np.minimum(open_, close) * 0.999, close], axis=2)
    features = rng.standard_normal((assets, n, nf)).astype(np.float32)
    return PortfolioMarket(
        tuple(f"A{a}/USD" for a in range(assets)),
        np.arange(n, dtype=np.int64) * 3_600_000,
        np.ascontiguousarray(prices),
        np.ones((assets, n), bool) if traded is None else traded,
        features,
        tuple(f"f{j}" for j in range(nf)),
    )


def _config(**kw) -> PortfolioEnvConfig:
    return PortfolioEnvConfig(type="portfolio", **{"window": 8, "episode_steps": 50, "fee_bps": 10, **kw})


@pytest.mark.parametrize(
    "kw",
    [{}, {"observation": "flat"}, {"actions": {"mode": "discrete"}}, {"allow_short": True, "max_gross": 2.0}],
    ids=["dict", "flat", "discrete", "long_short"],
)
def test_gymnasium_and_sb3_check_env(kw):
    from gymnasium.utils.env_checker import check_env
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    env = PortfolioEnv(_market(), _config(**kw), TERMS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # unbounded Box and "image-like" market warnings
        check_env(env, skip_render_check=True)
        sb3_check_env(env)


def _rollout(env, seed, actions):
    obs, _ = env.reset(seed=seed)
    out = [obs]
    for a in actions:
        obs, r, te, tr, info = env.step(a)
        out.append((obs, r, te, tr, info["weights"].copy()))
        if te or tr:
            break
    return out


def _same(a, b):
    if isinstance(a, dict):
        return all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return np.array_equal(np.asarray(a), np.asarray(b))


def test_seeded_resets_are_reproducible():
    env = PortfolioEnv(_market(), _config(), TERMS)
    actions = [env.action_space.sample() for _ in range(30)]
    first, again = _rollout(env, 7, actions), _rollout(env, 7, actions)
    assert _same(first, again)
    assert env.reset(seed=7)[1]["bar"] != env.reset(seed=8)[1]["bar"] or env.reset(seed=9)[1]["bar"] != 0


@pytest.mark.parametrize("asset", [0, 1, 2])
def test_bars_after_t_do_not_change_anything_up_to_t(asset):
    """Perturb every bar after t of one asset (prices and features): observations and rewards up to t agree."""
    base = _market()
    t_cut = 60
    prices, feats = base.prices.copy(), base.features.copy()
    prices[asset, t_cut + 1 :] *= 1.37
    feats[asset, t_cut + 1 :] += 5.0
    moved = PortfolioMarket(base.symbols, base.time, prices, base.traded, feats, base.feature_names)
    cfg = _config(random_start=False, episode_steps=None)
    a, b = PortfolioEnv(base, cfg, TERMS), PortfolioEnv(moved, cfg, TERMS)
    rng = np.random.default_rng(1)
    oa, ob = a.reset(seed=0)[0], b.reset(seed=0)[0]
    assert _same(oa, ob)
    for t in range(a.engine.bounds.first_start, t_cut):  # the step into bar t+1 <= t_cut
        act = rng.uniform(-1, 1, a.action_space.shape)
        ra, rb = a.step(act), b.step(act)
        assert _same(ra[0], rb[0]) and ra[1] == rb[1], f"step into bar {t + 1}"
    assert not _same(a.step(act)[0], b.step(act)[0])  # the perturbation is visible once reached


@pytest.mark.parametrize("kw", [{}, {"actions": {"mode": "discrete"}}], ids=["continuous", "discrete"])
def test_vector_env_is_bit_identical_to_single_env(kw):
    from tradecore.env.portfolio_vector import BatchedPortfolioEnv

    market, cfg = _market(), _config(episode_steps=20, **kw)
    n, seed = 4, 3
    venv = BatchedPortfolioEnv(market, cfg, TERMS, n, seed=seed)
    singles = [PortfolioEnv(market, cfg, TERMS) for _ in range(n)]
    vobs, _ = venv.reset(seed=seed)
    for i, env in enumerate(singles):
        obs, _ = env.reset(seed=seed + i)
        assert _same(obs, {k: v[i] for k, v in vobs.items()})
    for _ in range(19):  # stays inside the first episode (autoreset draws from each env's own generator)
        acts = np.stack([venv.single_action_space.sample() for _ in range(n)])
        vobs, vr, vte, vtr, vinfo = venv.step(acts)
        for i, env in enumerate(singles):
            obs, r, te, tr, info = env.step(acts[i])
            assert _same(obs, {k: v[i] for k, v in vobs.items()}) and r == vr[i] and (te, tr) == (vte[i], vtr[i])
            assert all(info["reward_terms"][k] == v[i] for k, v in vinfo["reward_terms"].items())
            assert np.array_equal(info["weights"], vinfo["weights"][i])


def _wide():
    """An observation row of 16 envs over 4 assets x 64 bars x 16 features is a result block of its own."""
    return _market(assets=4, n=400, nf=16), _config(window=64, episode_steps=30)


@pytest.mark.parametrize("num_envs", [1, 16], ids=["single", "vector"])
def test_results_a_caller_keeps_are_never_overwritten(num_envs):
    """Kept observations and infos (or a view of one) survive any number of later steps and autoresets."""
    from tradecore.env.portfolio_vector import BatchedPortfolioEnv

    market, cfg = _wide()
    env = PortfolioEnv(market, cfg, TERMS) if num_envs == 1 else BatchedPortfolioEnv(market, cfg, TERMS, 16, seed=0)
    env.reset(seed=0)
    env.action_space.seed(0)
    sub_view = env.step(env.action_space.sample())[0]["market"][0, 1]
    kept = env.step(env.action_space.sample())
    expected = (sub_view.copy(), copy.deepcopy(kept))
    for _ in range(100):
        obs, _, te, tr, _ = env.step(env.action_space.sample())
        if num_envs == 1 and (te or tr):
            env.reset()
    assert _same((sub_view, kept), expected)


def test_stepping_without_keeping_results_reuses_their_memory():
    """A caller that drops (or copies) each step's results gets them in the same few blocks: no new memory."""
    from tradecore.env.portfolio_vector import BatchedPortfolioEnv

    market, cfg = _wide()
    venv = BatchedPortfolioEnv(market, cfg.model_copy(update={"episode_steps": 100}), TERMS, 16, seed=0)
    venv.reset(seed=0)
    actions = np.stack([venv.single_action_space.sample() for _ in range(16)])
    block = 16 * 4 * 64 * 16 * 4  # bytes of one step's market observations
    for _ in range(3):
        venv.step(actions)
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(40):
            obs, *_ = venv.step(actions)
            del obs
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak - before < block // 4


@pytest.mark.parametrize("bad", [3, -4, 1e300, np.nan])
def test_a_bucket_index_out_of_range_is_refused_and_negative_ones_wrap(bad):
    env = PortfolioEnv(_market(), _config(actions={"mode": "discrete", "buckets": [0.0, 0.5, 1.0]}), TERMS)
    env.reset(seed=0)
    with pytest.raises(TradecoreError, match=r"^action for asset 1 has a bucket index outside \[0, 3\)$"):
        env.step(np.array([0, bad, 0], dtype=np.float64))
    wrapped, plain = env.step([-1, -3, 0])[4]["weights"], env.step([2, 0, 0])[4]["weights"]
    assert wrapped[0] > 0 and wrapped[1] == 0 and plain[0] > 0 and plain[1] == 0


def _two_assets(traded=None) -> PortfolioMarket:
    """Two assets, flat features; bar 2 opens at 100 and 50, closes at 110 and 40."""
    prices = np.zeros((2, 4, 4))
    prices[0] = [[100, 100, 100, 100]] * 2 + [[100, 112, 99, 110], [110, 110, 110, 110]]
    prices[1] = [[50, 50, 50, 50]] * 2 + [[50, 51, 39, 40], [40, 40, 40, 40]]
    return PortfolioMarket(
        ("X/USD", "Y/USD"),
        np.arange(4, dtype=np.int64),
        prices,
        np.ones((2, 4), bool) if traded is None else traded,
        np.zeros((2, 4, 1), np.float32),
        ("f",),
    )


def test_rebalance_fills_and_fees_match_hand_computation():
    """Target 60 % X, 30 % Y (normalize: (a + 1) / 2 over the sum; cash value 0.1 of 1.0)."""
    cfg = _config(window=2, random_start=False, fee_bps={"X/USD": 10, "Y/USD": 20}, slippage_bps=5, initial_equity=1000)
    env = PortfolioEnv(_two_assets(), cfg, [("pnl", 1.0, R.PnL), ("turnover", 1.0, R.TurnoverPenalty)])
    env.reset()
    u = np.array([0.6, 0.3, 0.1]) * 2 - 1  # raw actions whose (a + 1) / 2 are 0.6, 0.3, 0.1
    _, reward, _, _, info = env.step(u)
    qx, qy = 600 / 100, 300 / 50  # units: target weight x equity at the open / open
    px, py = 100 * 1.0005, 50 * 1.0005  # buys pay the slippage
    fee = qx * px * 0.001 + qy * py * 0.002
    cash = 1000 - qx * px - qy * py - fee
    equity = cash + qx * 110 + qy * 40
    assert info["fee"] == pytest.approx(fee, rel=1e-12)
    assert info["slippage"] == pytest.approx((600 + 300) * 0.0005, rel=1e-12)
    assert info["equity"] == pytest.approx(equity, rel=1e-12)
    assert info["turnover"] == pytest.approx(0.9, rel=1e-12)
    assert reward == pytest.approx(np.log(equity / 1000) - 0.9, rel=1e-12)
    assert np.allclose(info["weights"], [qx * 110 / equity, qy * 40 / equity])
    assert np.allclose(env.costs_by_asset(), [qx * px * 0.001 + 600 * 0.0005, qy * py * 0.002 + 300 * 0.0005])


def test_band_minimum_order_and_no_trade_bars_skip_orders():
    u = np.array([0.6, 0.3, 0.1]) * 2 - 1
    rule = [("pnl", 1.0, R.PnL)]
    env = PortfolioEnv(_two_assets(), _config(window=2, random_start=False, min_order=400, initial_equity=1000), rule)
    env.reset()
    info = env.step(u)[4]
    assert info["weights"][1] == 0.0 and info["weights"][0] > 0  # Y's 300 order is below the minimum
    env = PortfolioEnv(_two_assets(), _config(window=2, random_start=False, no_trade_band=0.35), rule)
    env.reset()
    assert np.array_equal(env.step(u)[4]["weights"] > 0, [True, False])  # Y's 0.3 drift is inside the band
    traded = np.ones((2, 4), bool)
    traded[0, 2] = False  # X has no candle at bar 2: no fill for X
    env = PortfolioEnv(_two_assets(traded), _config(window=2, random_start=False), rule)
    env.reset()
    assert np.array_equal(env.step(u)[4]["weights"] > 0, [False, True])


def _frame(times, close, trades=1000):
    close = np.asarray(close, dtype=float)
    return pl.DataFrame(
        {
            "time": pl.Series(np.asarray(times, dtype=np.int64)).cast(pl.Datetime("ms", "UTC")),
            "open": close,
            "high": close,
            "low": close,
            "close": close,
            "volume": np.ones(len(close)),
            "trades": pl.Series(np.full(len(close), trades), dtype=pl.Int64),
        }
    )


def test_alignment_carries_no_trade_bars_and_refuses_or_drops_missing_data():
    step = 3_600_000
    full = _frame(np.arange(10) * step, np.arange(10) + 100.0)
    holed = _frame(np.delete(np.arange(10), [4]) * step, np.delete(np.arange(10) + 200.0, [4]))
    with pytest.raises(TradecoreError, match=r"^env\.missing: B/USD is missing data for 1 1h slots"):
        align_frames({"A/USD": full, "B/USD": holed}, "1h", missing="refuse")
    dropped = align_frames({"A/USD": full, "B/USD": holed}, "1h", missing="drop")
    assert len(dropped) == 9 and dropped.record["dropped_slots"] == 1 and 4 * step not in dropped.time
    rare = _frame(np.delete(np.arange(10), [4]) * step, np.delete(np.arange(10) + 200.0, [4]), trades=1)
    quiet = align_frames({"A/USD": full, "B/USD": rare}, "1h")  # 1 trade a bar: an empty bar is plausible
    assert isinstance(quiet, AlignedCandles) and len(quiet) == 10
    assert not quiet.traded[1, 4] and quiet.volume[1, 4] == 0 and np.all(quiet.prices[1, 4] == 203.0)
    assert quiet.record["assets"]["B/USD"]["no_trades_slots"] == 1


def test_features_are_named_per_asset_and_cross_asset_rows_differ(tradecore_runtime):
    data = _manifest(indicators=[{"type": "rsi"}, {"type": "relative_strength", "params": {"period": 5}}])
    resolved = resolve(data, tradecore_runtime.registry)
    exp = build_portfolio_experiment(resolved, load_aligned(resolved, None))
    assert exp.feature_names[:2] == ["BTC/USD:rsi_14", "BTC/USD:relative_strength_5"]
    assert len(exp.feature_names) == 3 * 2
    rs = exp.market.features[:, exp.first :, 1]
    assert not np.array_equal(rs[0], rs[1])
    cands = [exp.aligned.candles(a) for a in range(3)]
    features = build_portfolio_features(exp.aligned, [("log_returns_1", LogReturns(_P(period=1))), ("rsi", RSI(_P()))])
    assert features.values.shape[:2] == (3, len(cands[0]) - features.start)


class _P:
    def __init__(self, period=14, source="close"):
        self.period, self.source = period, source


def _manifest(env=None, indicators=None, source=None):
    return {
        "version": 1,
        "source": source
        or {"type": "synthetic", "params": {"symbols": ["BTC/USD", "ETH/USD", "SOL/USD"], "bars": 1500}},
        "indicators": indicators or [{"type": "rsi"}],
        "env": env or {"type": "portfolio", "window": 16, "normalize_window": 50},
    }


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_manifest(env={"window": 16}), 'env.type: several source.params.symbols need env.type "portfolio"'),
        (
            _manifest(source={"type": "synthetic"}),
            'source.params.symbols: env.type "portfolio" needs a list of two or more symbols',
        ),
        (
            _manifest(source={"type": "synthetic", "params": {"symbols": ["BTC/USD"]}}),
            "source.params.symbols: a portfolio needs at least two symbols",
        ),
        (
            _manifest(env={"type": "portfolio", "max_gross": 2}),
            "env: max_gross above 1 needs allow_short: true",
        ),
        (_manifest(env={"type": "portfolio", "windw": 3}), "env.windw: unknown key 'windw'"),
        (
            {**_manifest(env={"window": 16}, source={"type": "synthetic"}), "indicators": [{"type": "basket_return"}]},
            "indicators[0].type: 'basket_return' is cross-asset",
        ),
    ],
    ids=["single_env", "no_symbols", "one_symbol", "gross", "typo", "cross_in_single"],
)
def test_bad_manifests_fail_with_one_line_naming_the_field(tradecore_runtime, data, message):
    with pytest.raises(ManifestError) as err:
        resolve(data, tradecore_runtime.registry)
    text = str(err.value)
    assert message in text and "\n" not in text.strip()


@pytest.mark.parametrize(
    ("data_section", "field"),
    [
        ({"quality": {"min_coverage": 0.9}}, "data.quality"),
        ({"slice": {"file": "slices.json"}}, "data.slice"),
        ({"quality": {"min_coverage": 0.9}, "slice": {"file": "slices.json"}}, "data.slice"),
    ],
    ids=["quality", "slice", "both"],
)
def test_validate_refuses_single_pair_data_rules_in_a_portfolio(tmp_path, data_section, field):
    path = tmp_path / "portfolio.json"
    path.write_text(json.dumps({**_manifest(), "data": data_section}))
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f'error: {field}: applies to one pair\'s series; a portfolio (env.type "portfolio") treats holes with '
        "env.missing instead: remove it",
        f"{path}: 1 error(s)",
    ]
