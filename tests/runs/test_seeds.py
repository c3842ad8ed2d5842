"""``tradecore run MANIFEST --seeds``: choosing seeds, the summary across seeds, its table and report, the CLI."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from tradecore.cli import cli
from tradecore.errors import TradecoreError
from tradecore.runs.seeds import parse_seeds, render_seeds, seeds_summary
from tradecore.runs.seeds_report import render_seeds_report


def test_a_count_starts_at_the_manifest_seed_and_a_list_is_taken_as_given():
    assert parse_seeds("3", 7) == ([7, 8, 9], "the manifest's seed 7 and the 2 after it")
    assert parse_seeds("1", 7) == ([7], "the manifest's seed 7")
    assert parse_seeds("7,8, 12", 0) == ([7, 8, 12], "given with --seeds")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0", "between 1 and"),
        ("five", "give a count"),
        ("-1", "give a count"),
        ("3,3", "appears twice"),
        (",", "give a count"),
        ("4294967296,1", "below 2**32"),
    ],
)
def test_bad_seeds_are_one_line_errors(text, message):
    with pytest.raises(TradecoreError, match=re.escape(message)):
        parse_seeds(text, 0)


def _trial(index, seed, status="done", total_return=None, sharpe=None, beat=None, run_dir=None):
    metrics = None
    if total_return is not None:
        comparisons = {name: {"beat": won} for name, won in (beat or {}).items()}
        metrics = {
            "split": "test",
            "agent": {"total_return": total_return, "sharpe": sharpe, "max_drawdown": 0.1, "trades": 5},
            "verdict": {"comparisons": comparisons},
        }
    return {
        "key": f"t{index:03d}",
        "index": index,
        "overrides": {"seed": seed},
        "status": status,
        "seconds": 1.5,
        "run_dir": run_dir,
        "metrics": metrics,
        "error": None if status == "done" else "exit code 1: error: boom",
    }


def _sweep(folder):
    return {
        "name": "demo-seeds",
        "folder": str(folder),
        "interrupted": False,
        "counts": {"done": 4, "failed": 1},
        "trials": [
            _trial(0, 7, total_return=0.10, sharpe=1.0, beat={"flat": True, "buy_and_hold": False}),
            _trial(1, 8, total_return=-0.20, sharpe=-1.0, beat={"flat": False, "buy_and_hold": False}),
            _trial(2, 9, total_return=0.30, sharpe=2.0, beat={"flat": True, "buy_and_hold": True}),
            _trial(3, 10, total_return=0.50, sharpe=None, beat={"flat": True, "buy_and_hold": True}),
            _trial(4, 11, status="failed"),
        ],
    }


def test_summary_aggregates_the_evaluated_seeds_and_keeps_every_row(tmp_path):
    summary = seeds_summary(_sweep(tmp_path), [7, 8, 9, 10, 11], "the manifest's seed 7 and the 4 after it")
    assert summary["evaluated"] == 4 and [r["seed"] for r in summary["runs"]] == [7, 8, 9, 10, 11]
    ret = summary["aggregate"]["total_return"]
    assert ret["n"] == 4 and ret["mean"] == pytest.approx(0.175) and ret["iqm"] == pytest.approx(0.2)
    assert ret["min"] == -0.2 and ret["max"] == 0.5
    assert ret["mean_ci95"][0] <= ret["mean"] <= ret["mean_ci95"][1]
    sharpe = summary["aggregate"]["sharpe"]  # the undefined Sharpe of seed 10 is left out, and counted
    assert sharpe["n"] == 3 and sharpe["mean"] == pytest.approx(2 / 3)
    rates = summary["aggregate"]["beat_rate"]
    assert list(rates) == ["flat", "buy_and_hold"]
    assert rates["flat"]["rate"] == 0.75 and rates["buy_and_hold"]["rate"] == 0.5
    # the same runs give the same intervals
    assert seeds_summary(_sweep(tmp_path), [7, 8, 9, 10, 11], "x")["aggregate"] == summary["aggregate"]

    text = render_seeds(summary)
    assert "across 4 of 5 seed(s)" in text and "beat buy_and_hold" in text and "+17.50%" in text
    assert "exit code 1: error: boom" in text

    report = render_seeds_report(tmp_path, summary)
    html = report.read_text()
    assert report.name == "seeds.html" and "data:image/png;base64," in html
    assert "IQM" in html and "+17.50%" in html and "http" not in html


def test_a_group_where_no_agent_was_evaluated_says_so(tmp_path):
    sweep = {"name": "demo-seeds", "folder": None, "counts": {"failed": 1}, "trials": [_trial(0, 7, status="failed")]}
    summary = seeds_summary(sweep, [7], "given with --seeds")
    assert summary["evaluated"] == 0 and summary["aggregate"]["total_return"]["mean"] is None
    assert "nothing to aggregate" in render_seeds(summary)
    assert "data:image/png" not in render_seeds_report(tmp_path, summary).read_text()


def test_workers_and_archive_need_the_right_company(tmp_path):
    runner = CliRunner()
    manifest = tmp_path / "m.json"
    manifest.write_text("{}")
    result = runner.invoke(cli, ["run", str(manifest), "--workers", "2"])
    assert result.exit_code == 2 and "--workers goes with --seeds" in result.output
    result = runner.invoke(cli, ["run", str(manifest), "--seeds", "2", "--archive"])
    assert result.exit_code == 2 and "does not combine with --resume or --archive" in result.output


@pytest.mark.slow
def test_run_with_seeds_end_to_end(tiny_manifest, tmp_path):
    tiny_manifest["sweep"] = {"parameters": {"env.fee_bps": {"values": [1, 2, 3]}}}  # not run by --seeds
    manifest = tmp_path / "tiny.json"
    manifest.write_text(json.dumps(tiny_manifest))
    runs = tmp_path / "runs"
    command = [sys.executable, "-m", "tradecore", "run", str(manifest), "--seeds", "2", "--workers", "2"]
    done = subprocess.run([*command, "--runs-dir", str(runs), "--json"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["seeds"] == [3, 4] and summary["evaluated"] == 2
    assert "seeds 3, 4 (the manifest's seed 3 and the 1 after it)" in done.stderr
    (folder,) = (runs / "sweeps").iterdir()
    assert json.loads((folder / "seeds.json").read_text()) == summary
    assert (folder / "seeds.html").is_file() and (folder / "sweep.json").is_file()
    for row, seed in zip(summary["runs"], [3, 4], strict=True):
        record = json.loads((Path(row["run_dir"]) / "run.json").read_text())
        assert record["seed"] == seed and record["name"] == f"tiny-seed{seed}"
    aggregate = summary["aggregate"]["total_return"]
    assert aggregate["n"] == 2 and aggregate["min"] <= aggregate["mean"] <= aggregate["max"]
