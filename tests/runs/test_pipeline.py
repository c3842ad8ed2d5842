"""End-to-end runs with the real sb3 trainer: run folder contents, reproducibility, resume, eval, report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tradecore.cli import cli
from tradecore.runs import folder as rf
from tradecore.runs.charts import plotly_js_path


def _run(runtime, manifest, root: Path):
    return runtime.run(manifest, runs_root=root, echo=lambda _: None)


@pytest.mark.slow
def test_run_folder_is_complete_and_reproducible(runtime, tiny_manifest, tmp_path):
    first = _run(runtime, tiny_manifest, tmp_path)
    second = _run(runtime, tiny_manifest, tmp_path)
    assert first.complete and second.complete
    run = first.run_dir
    for name in (
        "manifest.json",
        "manifest.input.json",
        "run.json",
        "metrics.json",
        "report.html",
        "model/model.zip",
        "model/best_model.zip",
        "checkpoints/latest.json",
        "training.csv",
        "evaluation/test.npz",
        "plots/equity.png",
        "plots/drawdown.png",
        "plots/position.png",
        "plots/training.png",
        "plots/reward_terms.png",
        "logs/run.log",
    ):
        assert (run / name).exists(), name
    assert any((run / "tensorboard").rglob("events.out.tfevents.*"))
    record = json.loads((run / "run.json").read_text())
    assert record["status"] == "complete"
    assert record["plugins"]["sb3"] and record["environment"]["plugins"]["sb3"]["packages"]["stable-baselines3"]
    assert record["data"]["rows"] == 1500 and len(record["data"]["sha256"]) == 64
    assert record["trainer"]["timesteps"] == 512 and record["seed"] == 3
    metrics = json.loads((run / "metrics.json").read_text())
    assert {"flat", "buy_and_hold", "ma_crossover", "random"} <= set(metrics["baselines"])
    assert metrics["verdict"]["summary"].startswith("The agent")
    # same manifest and seed on CPU: byte-identical metrics
    assert (run / "metrics.json").read_bytes() == (second.run_dir / "metrics.json").read_bytes()
    html = (run / "report.html").read_text()
    # one offline file: no URL outside the inlined plotly.js (the PNGs stay for viewers without scripts)
    page = html.split("<pre>")[0].replace(plotly_js_path().read_text(encoding="utf-8"), "")
    assert "data:image/png;base64," in html and "<img" in html and "http" not in page
    assert html.count("Plotly.newPlot") == 1 and "id='chart-price'" in html

    cli_runner = CliRunner()
    listed = cli_runner.invoke(cli, ["runs", "list", "--runs-dir", str(tmp_path), "--json"])
    assert listed.exit_code == 0 and len(json.loads(listed.output)) == 2
    compared = cli_runner.invoke(
        cli, ["runs", "compare", run.name, second.run_dir.name, "--runs-dir", str(tmp_path), "--json"]
    )
    rows = json.loads(compared.output)
    assert rows[0]["total_return"] == rows[1]["total_return"]
    # eval on other data, written beside the run's own metrics
    other = json.dumps({"type": "synthetic", "params": {"bars": 900, "timeframe": "1h", "seed": 99}})
    result = cli_runner.invoke(cli, ["eval", run.name, "--runs-dir", str(tmp_path), "--data", other, "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["metrics"]["split"] == "all" and (Path(out["path"]) / "report.html").is_file()
    report = cli_runner.invoke(cli, ["report", run.name, "--runs-dir", str(tmp_path)])
    assert report.exit_code == 0 and "report" in report.output
    archive = rf.archive_run(run)
    assert archive.stat().st_size > 1000


@pytest.mark.slow
def test_baselines_only_without_a_trainer(runtime, tiny_manifest, tmp_path):
    del tiny_manifest["trainer"]
    outcome = _run(runtime, tiny_manifest, tmp_path)
    assert outcome.complete
    metrics = json.loads((outcome.run_dir / "metrics.json").read_text())
    assert metrics["agent"] is None and "verdict" not in metrics
    assert metrics["baselines"]["flat"]["total_return"] == 0.0
