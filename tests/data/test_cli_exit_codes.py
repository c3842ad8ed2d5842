"""Every command follows one exit-code rule: 2 when the command line is wrong, 1 when the input's content
is wrong or the work failed; either way stderr holds one line per problem and no traceback."""

from __future__ import annotations

import signal

import pytest

from tradecore.cli import main

#: (exit code, arguments); {t} is a scratch folder holding broken.json, XBTUSD_60.csv and bad/XBTUSD_60.csv
CASES = [
    # the command line is wrong: exit 2
    (2, "data gaps --bogus"),
    (2, "data gaps -t 1x"),
    (2, "data gaps --start nope"),
    (2, "data gaps --start 2024-02-01 --end 2024-01-01"),
    (2, "data gaps -e ../x -p BTC/USD -t 1h"),
    (2, "data gaps --lake {t}/broken.json"),
    (2, "data coverage -t 1x"),
    (2, "data fetch"),
    (2, "data fetch --source nope --pair BTC/USD"),
    (2, "data fetch --source synthetic --pair X/USD --start nope"),
    (2, "data fetch --source synthetic --pair BTC/USD --timeframe 7x"),
    (2, "data fetch --source synthetic --pair BTC/USD --start 2024-02-01 --end 2024-01-01"),
    (2, "data fetch --source synthetic --group tier9"),
    (2, "data fetch --source synthetic --pair ../../etc/x --timeframe 1h"),
    (2, "data fetch --source synthetic --pair X/USD --param novalue"),
    (2, "data stream --source synthetic --pair SYN/USD --lake {t}/lake"),
    (2, "data stream --source kraken --pair BTC/USD --timeframe 1m,5m --lake {t}/lake"),
    (2, "data stream --source kraken --pair BTC/USD --stale-after 0 --lake {t}/lake"),
    (2, "data validate -t 1x"),
    (2, "data validate --start x"),
    (2, "data validate --file {t}"),
    (2, "data validate --file {t}/none.csv"),
    (2, "data slices --min-bars 0"),
    (2, "data slices --start x"),
    (2, "data slices -t 1x"),
    (2, "data resample --from 1h --to 1x"),
    (2, "data resample --from 1h --to 30m"),
    (2, "data export -o x.csv --start x"),
    (2, "data export -o x.txt"),
    (2, "data export -o {t}"),
    (2, "data export -t 1x -o x.csv"),
    (2, "data jobs --status weird"),
    (2, "data jobs show abc"),
    (2, "data groups --set x"),
    (2, "data list --manifest {t}/none.json"),
    (2, "validate {t}"),
    (2, "validate {t}/none.json"),
    (2, "run {t}"),
    (2, "run {t}/none.json"),
    (2, "sweep {t}"),
    (2, "schema --bogus"),
    (2, "components nosuchkind"),
    (2, "components sources synthetik"),
    (2, "eval"),
    (2, "plugins --bogus"),
    (2, "--no-such-global"),
    (2, "nosuchcommand"),
    (2, "kraken import-dump {t}/none.zip"),
    (2, "kraken import-dump --bogus"),
    (2, "runpod gpus --bogus"),
    # the input's content is wrong, or the work failed: exit 1
    (1, "data gaps"),
    (1, "data gaps -e kraken -p BTC/USD -t 1h"),
    (1, "data jobs show 42"),
    (1, "data fetch --resume 42"),
    (1, "data list --lake /proc"),
    (1, "data validate --file {t}/XBTUSD_60.csv"),
    (1, "runs show nosuchrun"),
    (1, "kraken import-dump {t}/bad"),
]


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    (tmp_path / "broken.json").write_text('{"nme": 1}')
    (tmp_path / "XBTUSD_60.csv").write_text("not,a,candle\n")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "XBTUSD_60.csv").write_text("1,2,3\n")
    monkeypatch.setenv("TRADECORE_LAKE", str(tmp_path / "lake"))
    monkeypatch.setenv("TRADECORE_CONFIG", str(tmp_path / "config.json"))
    monkeypatch.setenv("TRADECORE_RUNS", str(tmp_path / "runs"))
    monkeypatch.chdir(tmp_path)
    handlers = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGHUP)}
    yield tmp_path
    for signum, handler in handlers.items():  # main() forwards SIGTERM/SIGHUP to Ctrl-C: undo it for pytest
        signal.signal(signum, handler)


@pytest.mark.parametrize("code, args", CASES)
def test_exit_code_and_one_line_error(scratch, capsys, code, args) -> None:
    with pytest.raises(SystemExit) as stop:
        main(args.format(t=scratch).split())
    err = capsys.readouterr().err
    assert stop.value.code == code, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err


def test_messages_name_the_problem(scratch, capsys) -> None:
    def error(args: str) -> str:
        with pytest.raises(SystemExit):
            main(args.split())
        return capsys.readouterr().err

    assert "invalid timeframe '1x'" in error("data gaps -t 1x") and "-t" in error("data gaps -t 1x")
    assert "/proc" in error("data list --lake /proc") and "--lake" in error("data list --lake /proc")
    assert "is not before end" in error("data gaps --start 2024-02-01 --end 2024-01-01")
    assert "does not exist" in error(f"validate {scratch}/none.json")
    assert "is a directory" in error(f"validate {scratch}")


def test_help_states_the_rule(scratch, capsys) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert stop.value.code == 0
    assert "Exit codes: 0 done; 1 the input's content is wrong" in out and "2 the command line is wrong" in out
    assert "130 interrupted" in out
