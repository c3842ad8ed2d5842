"""examples/portfolio.json end to end with a token training budget (and fewer bars): the synthetic basket
aligned, per-asset features, ppo-fast on the portfolio env, the agent and the portfolio baselines evaluated,
the report drawn."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tradecore.cli import cli

REPO = Path(__file__).resolve().parents[2]
TINY_BUDGET = {
    "total_timesteps": 512,
    "n_envs": 16,
    "n_steps": 32,
    "n_epochs": 1,
    "n_minibatches": 2,
    "eval_freq": 512,
    "checkpoint_freq": 0,
    "tensorboard": False,
}


@pytest.mark.slow
def test_portfolio_example_runs_end_to_end(tmp_path):
    manifest = json.loads((REPO / "examples" / "portfolio.json").read_text())
    manifest["trainer"]["params"].update(TINY_BUDGET)
    manifest["source"]["params"]["bars"] = 8000  # the example's basket, shorter: its own rules and features
    path = tmp_path / "portfolio.json"
    path.write_text(json.dumps(manifest))
    result = CliRunner().invoke(cli, ["run", str(path), "--runs-dir", str(tmp_path / "runs")])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("[data] 8,000 1h bars of 4 assets (AAA/USD, BBB/USD, CCC/USD, DDD/USD)")
    assert "16 features (4 assets x 4: log_returns_24, log_returns_96, relative_strength_96" in lines[1]
    assert "MultiDiscrete([3 3 3 3])" in lines[2]
    for policy in ("agent", "cash", "equal_weight", "buy_and_hold", "inverse_volatility", "random"):
        assert any(line.startswith(policy + " ") for line in lines), policy
    (run,) = (tmp_path / "runs").iterdir()
    record = json.loads((run / "run.json").read_text())
    assert record["status"] == "complete" and record["data"]["alignment"]["missing"] == "refuse"
    assert sorted(record["data"]["source"]["symbols"]) == ["AAA/USD", "BBB/USD", "CCC/USD", "DDD/USD"]
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["agent"]["ci95"]["total_return"] and set(metrics["agent"]["assets"]) == set(metrics["symbols"])
    page = (run / "report.html").read_text()
    assert "id='chart-weights'" in page and "Attribution by asset" in page
    # tradecore eval re-evaluates the saved portfolio agent on the same split, into a folder of its own
    again = CliRunner().invoke(cli, ["eval", str(run), "--split", "test", "--runs-dir", str(tmp_path / "runs")])
    assert again.exit_code == 0, again.output
    (evaluation,) = (run / "evals").iterdir()
    assert json.loads((evaluation / "metrics.json").read_text())["agent"] == metrics["agent"]
    assert json.loads((evaluation / "eval.json").read_text())["data"]["sha256"] == record["data"]["sha256"]
