"""`tradecore data` end to end, offline, on the synthetic source; bad input gives one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys

import polars as pl
import pytest
from click.testing import CliRunner

from tradecore.cli import cli
from tradecore.data.jobs import JobStore
from tradecore.data.lake import Lake


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.setenv("TRADECORE_LAKE", str(tmp_path / "lake"))
    monkeypatch.setenv("TRADECORE_CONFIG", str(tmp_path / "config.json"))
    runner = CliRunner()

    def invoke(*args: str, code: int = 0):
        result = runner.invoke(cli, ["--no-plugins", "data", *args], catch_exceptions=False)
        assert result.exit_code == code, result.output
        return result.output

    return invoke


def test_fetch_inspect_export(run, tmp_path) -> None:
    plan = json.loads(
        run(
            "fetch",
            "--source",
            "synthetic",
            "--pair",
            "SYN/USD,ETH/USD",
            "--timeframe",
            "1h",
            "--start",
            "2023-01-01",
            "--end",
            "2023-03-01",
            "--dry-run",
            "--json",
        )
    )
    assert [p["unit"] for p in plan] == ["synthetic SYN/USD 1h", "synthetic ETH/USD 1h"]
    assert not (tmp_path / "lake").exists() or not any((tmp_path / "lake").rglob("*.parquet"))
    out = json.loads(
        run(
            "fetch",
            "--source",
            "synthetic",
            "--pair",
            "SYN/USD,ETH/USD",
            "--timeframe",
            "1h,4h",
            "--start",
            "2023-01-01",
            "--end",
            "2023-03-01",
            "--json",
        )
    )
    assert [o["rows"] for o in out] == [1416, 354, 1416, 354]
    listed = json.loads(run("list", "--json"))
    assert {(s["pair"], s["timeframe"], s["rows"]) for s in listed} == {
        ("SYN/USD", "1h", 1416),
        ("SYN/USD", "4h", 354),
        ("ETH/USD", "1h", 1416),
        ("ETH/USD", "4h", 354),
    }
    cov = json.loads(run("coverage", "-p", "SYN/USD", "-t", "1h", "--json"))
    assert cov[0]["percent"] == 100.0 and cov[0]["origins"] == {"synthetic": 1416}
    gaps = json.loads(run("gaps", "-p", "SYN/USD", "-t", "1h", "--end", "2023-03-02", "--json"))
    assert gaps["gaps"][-1]["slots"] == 24 and gaps["gaps"][-1]["kind"] == "missing"
    assert "OK" in run("validate", "-p", "SYN/USD", "-t", "1h")
    run("resample", "-p", "SYN/USD", "--from", "1h", "--to", "1d")
    daily = Lake(tmp_path / "lake").read("synthetic", "SYN/USD", "1d")
    assert (
        daily.height == 59
        and daily["trades"].sum() == Lake(tmp_path / "lake").read("synthetic", "SYN/USD", "1h")["trades"].sum()
    )
    run("export", "-p", "SYN/USD", "-t", "1h", "--start", "2023-02-01", "-o", str(tmp_path / "feb.csv"))
    assert pl.read_csv(tmp_path / "feb.csv").height == 28 * 24
    doc = json.loads(
        run("slices", "-p", "SYN/USD", "-t", "1h", "--min-bars", "100", "-o", str(tmp_path / "slices.json"), "--json")
    )
    assert doc["slices"][0]["rows"] == 1416 and json.loads((tmp_path / "slices.json").read_text()) == doc
    jobs = json.loads(run("jobs", "--json"))
    assert len(jobs) == 4 and {j["status"] for j in jobs} == {"done"}
    assert '"status": "done"' in run("jobs", "show", str(jobs[0]["id"]), "--json")


def test_resume_continues_from_the_cursor(run, tmp_path) -> None:
    args = [
        "fetch",
        "--source",
        "synthetic",
        "--pair",
        "SYN/USD",
        "--timeframe",
        "1m",
        "--start",
        "2023-01-01",
        "--end",
        "2023-05-01",
        "--json",
    ]
    clean = json.loads(run(*args))[0]
    reference = Lake(tmp_path / "lake").read("synthetic", "SYN/USD", "1m")
    # an interrupted copy of the same job: the first chunk stored, cursor after it
    import shutil

    shutil.rmtree(tmp_path / "lake")
    store = JobStore(tmp_path / "lake")
    job = store.create(
        "fetch",
        {
            "source": "synthetic",
            "label": "synthetic SYN/USD 1m",
            "params": {"symbol": "SYN/USD", "timeframe": "1m", "start": "2023-01-01T00:00:00Z", "bars": clean["rows"]},
        },
    )
    lake = Lake(tmp_path / "lake")
    lake.write("synthetic", "SYN/USD", "1m", reference.head(50_000), "synthetic")
    store.update(job.id, status="interrupted", cursor=str(int(reference["time"][50_000].timestamp() * 1000)))
    resumed = json.loads(run("fetch", "--resume", str(job.id), "--json"))
    assert resumed["rows"] == clean["rows"] - 50_000
    assert lake.read("synthetic", "SYN/USD", "1m").equals(reference)
    assert store.get(job.id).status == "done"
    assert "already done" in run("fetch", "--resume", str(job.id), code=1)


def test_groups_from_user_config(run, tmp_path) -> None:
    assert "no groups" in run("groups")
    run("groups", "--set", "majors", "--pairs", "AAA/USD,BBB/USD", "--timeframes", "1d")
    assert json.loads(run("groups", "--json")) == {"majors": {"pairs": ["AAA/USD", "BBB/USD"], "timeframes": ["1d"]}}
    out = json.loads(
        run(
            "fetch",
            "--source",
            "synthetic",
            "--group",
            "majors",
            "--start",
            "2023-01-01",
            "--end",
            "2023-02-01",
            "--json",
        )
    )
    assert [o["unit"] for o in out] == ["synthetic AAA/USD 1d", "synthetic BBB/USD 1d"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["fetch", "--source", "nope", "--pair", "BTC/USD"], "source 'nope'"),
        (
            ["fetch", "--source", "synthetic", "--pair", "BTC/USD", "--start", "2024-02-01", "--end", "2024-01-01"],
            "is not before end",
        ),
        (["fetch", "--source", "synthetic", "--pair", "BTC/USD", "--timeframe", "7x"], "timeframe"),
        (["fetch", "--source", "synthetic", "--group", "tier9"], "unknown pair group 'tier9'"),
        (["fetch", "--source", "synthetic", "--pair", "../../etc/x", "--timeframe", "1h"], "outside the lake"),
        (["gaps", "-e", "kraken", "-p", "BTC/USD", "-t", "1h"], "no candles stored for kraken BTC/USD 1h"),
        (["fetch", "--resume", "42"], "no job 42"),
    ],
)
def test_bad_input_is_one_line(tmp_path, args, message) -> None:
    env = {"TRADECORE_LAKE": str(tmp_path / "lake"), "TRADECORE_CONFIG": str(tmp_path / "c.json"), "PATH": ""}
    proc = subprocess.run(
        [sys.executable, "-m", "tradecore", "--no-plugins", "data", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode != 0
    assert message in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr


def test_gaps_and_slices_on_a_series_with_a_hole(run) -> None:
    """Two synthetic fetches with two never-fetched days between them: gaps and slices report the hole."""
    for start, end in (("2023-01-01", "2023-01-03"), ("2023-01-05", "2023-01-07")):
        fetch = ["fetch", "--source", "synthetic", "--pair", "SYN/USD", "--timeframe", "1h", "-q"]
        run(*fetch, "--start", start, "--end", end)
    report = json.loads(run("gaps", "--json"))
    [gap] = report["gaps"]
    assert (gap["start"], gap["end"], gap["slots"], gap["kind"]) == (
        "2023-01-03 00:00",
        "2023-01-05 00:00",
        48,
        "missing",
    )
    assert (report["gap_count"], report["gap_slots"], report["missing_slots"], report["no_trades_slots"]) == (
        1,
        48,
        48,
        0,
    )
    assert "1 gaps (48 empty slots): 0 no trades (0 slots), 1 missing (48 slots)" in run("gaps")
    doc = json.loads(run("slices", "--min-bars", "24", "--json"))
    assert [(s["start"], s["rows"]) for s in doc["slices"]] == [("2023-01-01 00:00", 48), ("2023-01-05 00:00", 48)]
    assert "2 slices, 96 of 96 candles" in run("slices", "--min-bars", "24")
