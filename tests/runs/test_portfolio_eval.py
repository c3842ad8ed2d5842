"""Portfolio evaluation: attribution sums to the total return; metrics, saved rollouts and the report carry it."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tradecore.runs.compare import judge, save_rollouts
from tradecore.runs.portfolio_baselines import baseline_schedules, execute_weights
from tradecore.runs.portfolio_eval import rollout_from_fills

SYMBOLS = ("AAA/USD", "BBB/USD", "CCC/USD")


@pytest.fixture(scope="module")
def rollouts():
    rng = np.random.default_rng(3)
    close = 100 * np.exp(np.cumsum(rng.standard_normal((400, 3)) * 0.01 + [0.001, 0.0, -0.001], axis=0))
    open_ = np.vstack([close[:1], close[:-1]])
    prices = np.stack([open_.T, np.maximum(open_, close).T, np.minimum(open_, close).T, close.T], axis=2)
    rows = np.arange(99, 399)  # step j decides on row rows[j]'s close and fills over row rows[j] + 1
    time = 1_600_000_000_000 + np.arange(400, dtype=np.int64) * 3_600_000
    out = {}
    for name, schedule in baseline_schedules(close, rows).items():
        fills = execute_weights(prices, schedule, rows + 1, initial_equity=10_000.0, fee_rate=0.001, slippage=0.0005)
        out[name] = rollout_from_fills(fills, close[rows[0] : rows[-1] + 2], time[rows[0] : rows[-1] + 2], SYMBOLS)
    out["agent"] = out["inverse_volatility"]
    return out


def test_attribution_sums_to_the_total_return(rollouts):
    metrics = judge(rollouts, "1h", split="test")
    assert metrics["symbols"] == list(SYMBOLS)
    for name, m in [("agent", metrics["agent"]), *metrics["baselines"].items()]:
        if name == "random":
            continue
        total = sum(a["contribution"] for a in m["assets"].values())
        assert total == pytest.approx(m["total_return"], abs=1e-12), name
    cash = metrics["baselines"]["cash"]
    assert cash["total_return"] == 0.0 and cash["turnover"] == 0.0 and cash["trades"] == 0
    hold = metrics["baselines"]["buy_and_hold"]
    assert hold["trades"] == 3 and hold["turnover"] == pytest.approx(1.0)
    assert metrics["baselines"]["equal_weight"]["turnover"] > hold["turnover"]
    assert set(metrics["baselines"]["random"]["seeds"]) == {"0", "1", "2", "3", "4"}
    assert metrics["agent"]["win_rate"] is None  # single-pair trade statistics do not apply
    json.dumps(metrics, allow_nan=False)


def test_saved_rollouts_feed_the_portfolio_report(rollouts, tmp_path):
    from tradecore.runs.folder import write_json
    from tradecore.runs.report import render_report

    save_rollouts(rollouts, tmp_path / "evaluation" / "test.npz")
    write_json(tmp_path / "metrics.json", judge(rollouts, "1h", split="test"))
    with np.load(tmp_path / "evaluation" / "test.npz") as data:
        assert data["agent/weights"].shape == (300, 3)
        np.testing.assert_allclose(data["agent/asset_pnl"].sum(), data["agent/equity"][-1] - 10_000.0)
    page = render_report(tmp_path).read_text()
    for plot in ("weights", "contribution", "equity", "drawdown"):
        assert (tmp_path / "plots" / f"{plot}.png").is_file()
        assert f"alt='{plot}'" in page
    assert "Attribution by asset" in page and "BBB/USD contribution" in page
    assert not (tmp_path / "plots" / "position.png").exists()
    assert "id='chart-weights'" in page and "id='chart-contribution'" in page


def test_portfolio_charts_stack_the_weights_and_split_the_return_by_asset(rollouts, tmp_path):
    from tradecore.runs.charts import run_figures
    from tradecore.runs.folder import write_json

    save_rollouts(rollouts, tmp_path / "evaluation" / "test.npz")
    metrics = judge(rollouts, "1h", split="test")
    write_json(tmp_path / "metrics.json", metrics)
    figures = {f["id"]: f["figure"] for f in run_figures(tmp_path)}
    assert list(figures) == ["equity", "drawdown", "weights", "contribution"]  # no single-pair price or exposure
    stack = figures["weights"]["data"]
    assert [t["name"] for t in stack] == [*SYMBOLS, "cash"] and {t["stackgroup"] for t in stack} == {"weights"}
    invested = np.sum([t["y"] for t in stack], axis=0)
    np.testing.assert_allclose(invested, 1.0, atol=1e-3)  # weights plus cash stack to the whole equity
    bars = {t["name"]: t for t in figures["contribution"]["data"]}
    assert set(bars) == {"agent", "cash", "equal_weight", "buy_and_hold", "inverse_volatility"}
    assert bars["agent"]["x"] == list(SYMBOLS)
    assert sum(bars["agent"]["y"]) == pytest.approx(metrics["agent"]["total_return"] * 100, abs=1e-3)
    json.dumps(figures, allow_nan=False)
