"""``tradecore paper``: one-line refusals with the CLI's exit codes, a replay and its report from the command line."""

from __future__ import annotations

import json

import pytest

from tradecore.cli import main


def paper(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(["--only", "tradecore-ppo", "paper", *args])
    out, err = capsys.readouterr()
    return exit_info.value.code, out, err


def test_refusals_are_one_line_with_the_exit_code(paper_run, capsys) -> None:
    run, lake = str(paper_run["run_dir"]), str(paper_run["lake"])
    code, _, err = paper(capsys, run, "--pair", "ETH/USD", "--lake", lake, "--trust-model")
    assert code == 2 and "trained on SYN/USD, not ETH/USD" in err and len(err.strip().splitlines()) == 1
    code, _, err = paper(capsys, run, "--timeframe", "15m", "--lake", lake, "--trust-model")
    assert code == 2 and "trained on 1h, not 15m" in err
    code, _, err = paper(capsys, run, "--start", "2020-02-01", "--lake", lake, "--trust-model")
    assert code == 2 and "add --replay" in err
    # too little history before the first decision for the features' warm-up: the work fails, exit 1
    args = ("--replay", "--start", "2020-01-02", "--end", "2020-02-01", "--lake", lake, "--trust-model")
    code, _, err = paper(capsys, run, *args)
    assert code == 1 and "fetch earlier candles" in err and len(err.strip().splitlines()) == 1


def test_a_replay_from_the_command_line_and_its_report(paper_run, capsys) -> None:
    run, lake = str(paper_run["run_dir"]), str(paper_run["lake"])
    args = ("--replay", "--start", "2020-02-10", "--end", "2020-02-20", "--lake", lake, "--trust-model", "--json")
    code, out, _ = paper(capsys, run, *args)
    assert code == 0
    result = json.loads(out)
    assert result["status"] == "done" and result["bars"] == 10 * 24 - 1 and result["agent"]["final_equity"] > 0
    code, out, _ = paper(capsys, "report", result["ledger"], "--json")
    assert code == 0 and json.loads(out)["fills"] == result["fills"]
