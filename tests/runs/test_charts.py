"""Interactive charts: valid Plotly JSON from a run folder, light on a million bars, trades where they happened."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import plotly.graph_objects as go

from tradecore.runs.charts import MAX_CANDLES, compare_figures, plotly_js_path, rollout_figures, run_figures
from tradecore.runs.compare import save_rollouts
from tradecore.runs.evaluate import Rollout
from tradecore.runs.folder import write_json
from tradecore.runs.series import PLOT_BUCKETS

HOUR_MS = 3_600_000
START_MS = 1_577_836_800_000  # 2020-01-01T00:00:00Z


def _rollout(bars: int, exposure: np.ndarray, *, seed: int = 0, record: bool = True) -> Rollout:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.002, bars + 1)))
    open_ = np.concatenate([[100.0], close[:-1]])
    high, low = np.maximum(open_, close) * 1.001, np.minimum(open_, close) * 0.999
    equity = 1000 * np.exp(np.cumsum(np.concatenate([[0.0], rng.normal(0, 0.001, bars)])))
    return Rollout(
        equity=equity,
        exposure=exposure,
        costs=np.zeros(bars),
        price=close,
        time=START_MS + HOUR_MS * np.arange(bars + 1, dtype=np.int64),
        reward=np.zeros(bars),
        reward_terms={"pnl": rng.normal(0, 0.01, bars), "turnover": -np.abs(exposure) * 1e-3} if record else {},
        candles={"open": open_, "high": high, "low": low} if record else {},
    )


def _run_folder(path: Path, bars: int = 300) -> Path:
    exposure = np.zeros(bars)
    # long at 10, out at 20, short at 30, flipped to long at 40, resized at 43, out at 45
    exposure[10:20], exposure[30:40], exposure[40:43], exposure[43:45] = 1.0, -0.5, 0.5, 0.25
    rollouts = {"agent": _rollout(bars, exposure)}
    rollouts |= {name: _rollout(bars, np.ones(bars), seed=i + 1, record=False) for i, name in enumerate(BASELINES)}
    save_rollouts(rollouts, path / "evaluation" / "test.npz")
    write_json(path / "metrics.json", {"split": "test"})
    (path / "training.csv").write_text("timesteps,validation_score,train_episode_return\n256,-0.4,nan\n512,-0.3,0.1\n")
    return path


BASELINES = ("flat", "buy_and_hold", "random_0", "random_1")


def _points(figure: dict) -> int:
    return max(len(trace.get("x", [])) for trace in figure["data"])


def test_run_figures_are_valid_plotly_json_on_date_axes(tmp_path):
    figures = run_figures(_run_folder(tmp_path))
    assert [f["id"] for f in figures] == ["price", "equity", "drawdown", "exposure", "reward_terms", "training"]
    json.dumps(figures, allow_nan=False)  # plain JSON: no numpy, no NaN
    for chart in figures:
        go.Figure(chart["figure"])  # plotly's own schema check: every property name and value type
        if chart["id"] != "training":
            assert chart["figure"]["layout"]["xaxis"]["type"] == "date"
            assert chart["figure"]["data"][0]["x"][0] == START_MS
    price = figures[0]["figure"]["data"]
    candles, markers = price[0], {trace["name"]: trace for trace in price[1:]}
    assert candles["type"] == "candlestick" and len(candles["x"]) == 301
    # the bar where the exposure changed, at that bar's close
    at = [START_MS + bar * HOUR_MS for bar in (10, 20, 30, 40, 43, 45)]
    assert markers["long entry"]["x"] == [at[0], at[3]] and markers["short entry"]["x"] == [at[2]]
    assert markers["exit"]["x"] == [at[1], at[5]] and markers["resize"]["x"] == [at[4]]
    assert markers["short entry"]["customdata"] == [-0.5]
    assert markers["long entry"]["y"][0] == candles["close"][10]
    equity = {trace["name"] for trace in figures[1]["figure"]["data"]}
    assert {"agent", "flat", "buy_and_hold", "random (2 seeds, min to max)"} <= equity
    assert figures[5]["figure"]["data"][1]["y"] == [None, 0.1]  # the missing train return is a gap


def test_a_million_bars_make_light_charts_that_keep_every_extreme(tmp_path):
    bars = 1_000_000
    exposure = np.zeros(bars)
    exposure[::7] = 1.0  # a trade every few bars: far more than a chart can mark
    agent = _rollout(bars, exposure)
    agent.candles["high"][654_321] = 1e6  # a one-bar wick
    rollouts = {"agent": agent.arrays(), "buy_and_hold": _rollout(bars, np.ones(bars), seed=1).arrays()}
    figures = rollout_figures(rollouts)
    assert len(json.dumps(figures)) < 3_000_000
    by_id = {f["id"]: f["figure"] for f in figures}
    candles = by_id["price"]["data"][0]
    assert len(candles["x"]) <= MAX_CANDLES and max(candles["high"]) == 1e6
    assert by_id["price"]["layout"]["yaxis"]["type"] == "log"  # the wick spans four orders of magnitude
    assert all(len(trace["x"]) <= MAX_CANDLES for trace in by_id["price"]["data"][1:])
    for chart in ("equity", "drawdown", "exposure", "reward_terms"):
        assert _points(by_id[chart]) <= 2 * PLOT_BUCKETS + 3, chart
    last = START_MS + HOUR_MS * bars
    assert by_id["equity"]["data"][0]["x"][-1] == last  # downsampled, still to the last bar


def test_an_older_rollout_without_candles_draws_them_from_the_closes(tmp_path):
    agent = _rollout(50, np.zeros(50))
    agent.candles = {}
    candles = rollout_figures({"agent": agent.arrays()})[0]["figure"]["data"][0]
    assert candles["open"][1:] == candles["close"][:-1]


def test_compare_overlays_each_runs_agent(tmp_path):
    runs = [_run_folder(tmp_path / "a"), _run_folder(tmp_path / "b", bars=200), tmp_path / "empty"]
    (tmp_path / "empty").mkdir()
    figures = compare_figures(runs)
    assert [f["id"] for f in figures] == ["compare_equity", "compare_drawdown"]
    assert [trace["name"] for trace in figures[0]["figure"]["data"]] == ["a", "b"]
    for chart in figures:
        go.Figure(chart["figure"])


def test_plotly_js_is_the_bundled_file():
    path = plotly_js_path()
    assert path.name == "plotly.min.js" and path.stat().st_size > 1_000_000
