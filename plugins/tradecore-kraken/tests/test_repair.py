"""``tradecore data repair`` against the Kraken loopback: holes filled from trades, REST or a dump equal a clean
fetch; a silent hour is proven empty by one trades query and never asked again; holes out of REST's reach are
unfillable, with the reason; a repair killed with SIGKILL and resumed ends in a clean fetch's lake."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from kraken_helpers import lake_frame, run_fetch, utc
from tradecore_kraken.loopback import KrakenLoopback

from tradecore.testing import run_cli

HOUR_S = 3600


def silent_hour(server: KrakenLoopback, lo: int, hi: int) -> int:
    """An hour index in [lo, hi) without a trade, between two hours with trades."""
    hours = (server.tapes["XXBTZUSD"].time_ns // 10**9 - server.start_s) // HOUR_S
    counts = np.bincount(hours, minlength=hi + 1)
    return next(h for h in range(lo, hi) if counts[h] == 0 and counts[h - 1] and counts[h + 1])


def fetch_pieces(server: KrakenLoopback, lake, cuts: list[int]) -> None:
    """Fetch with trades between every other pair of hour offsets: [0, c0), [c1, c2), ... [c_last, end)."""
    edges = [0, *cuts, None]
    for a, b in zip(edges[::2], edges[1::2], strict=True):
        run_fetch(server, lake, start=utc(server.start_s + a * HOUR_S), end=b and utc(server.start_s + b * HOUR_S))


def repair(server: KrakenLoopback, lake, *args: str) -> dict:
    params = ("--param", f"api_url={server.url}", "--param", "rate_limit=false", "--param", "backoff_s=0")
    result = run_cli("data", "repair", "-p", "BTC/USD", "-t", "5m", *params, *args, "--lake", str(lake.root), "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def gaps(lake) -> dict:
    result = run_cli("data", "gaps", "-p", "BTC/USD", "-t", "5m", "--lake", str(lake.root), "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


@pytest.fixture
def server():
    with KrakenLoopback(hours=30, trades_per_minute=4, seed=11) as srv:
        yield srv


def test_holes_fill_from_trades_and_a_silent_hour_is_proven_empty_once(server, lake, tmp_path):
    from tradecore.api import Lake

    quiet = silent_hour(server, 12, 28)
    fetch_pieces(server, lake, [2, 5, quiet, quiet + 1])  # a missing 3 hours, and a silent hour
    before = gaps(lake)
    missing = [g for g in before["gaps"] if g["kind"] == "missing"]
    assert [g["repair"] for g in missing] == ["fillable"] * 2

    done = repair(server, lake, "--param", "method=trades")
    assert (done["counts"]["holes"], done["counts"]["filled"], done["counts"]["no_trades"]) == (2, 1, 1)
    after = gaps(lake)
    assert after["missing_gaps"] == 0
    assert {g["repair"] for g in after["gaps"]} == {"no-trades"}
    verified = [g for g in after["gaps"] if g["reason"].startswith("verified")]
    [hour] = verified  # the silent hour (and any empty slots next to it)
    assert hour["kind"] == "no_trades" and hour["slots"] >= 12
    assert hour["start_ms"] <= (server.start_s + quiet * HOUR_S) * 1000 < hour["end_ms"]
    assert hour["reason"] == f"verified: trades found no trade (repair job {done['job']})"

    clean = Lake(tmp_path / "clean")
    run_fetch(server, clean)
    assert lake_frame(lake).equals(lake_frame(clean))

    asked = server.counts.get("Trades", 0)
    again = repair(server, lake, "--param", "method=trades")
    assert again["counts"]["holes"] == 0 and server.counts.get("Trades", 0) == asked  # not asked again
    table = run_cli("data", "gaps", "-p", "BTC/USD", "-t", "5m", "--lake", str(lake.root)).output
    assert "no-trades (verified)" in table and "no-trades (proven)" in table


def test_rest_leaves_old_holes_unfillable_with_the_reason_and_trades_then_fill_them(lake, tmp_path):
    from tradecore.api import Lake

    with KrakenLoopback(hours=80, trades_per_minute=2, seed=4) as server:
        fetch_pieces(server, lake, [5, 8, 60, 63])  # REST reaches the newest 720 bars: the last 60 hours
        done = repair(server, lake, "--param", "method=rest")
        results = {h["start"][:13]: h["result"] for h in done["holes"]}
        assert results == {"2023-07-01 05": "unfillable", "2023-07-03 12": "filled"}
        old = next(h for h in done["holes"] if h["result"] == "unfillable")
        assert "REST OHLC reaches only the newest 720 5m bars" in old["reason"]

        after = gaps(lake)
        assert {g["repair"] for g in after["gaps"]} == {"no-trades", "unfillable"}
        [unfillable] = [g for g in after["gaps"] if g["repair"] == "unfillable"]
        assert (unfillable["start"], unfillable["slots"], unfillable["reason"]) == (
            "2023-07-01 05:00",
            36,
            old["reason"],
        )
        table = run_cli("data", "gaps", "-p", "BTC/USD", "-t", "5m", "--lake", str(lake.root)).output
        assert "unfillable: REST OHLC reaches only the newest 720 5m bars" in table

        repair(server, lake, "--param", "method=trades")
        assert gaps(lake)["missing_gaps"] == 0
        clean = Lake(tmp_path / "clean")
        run_fetch(server, clean)
    stored, want = lake_frame(lake), lake_frame(clean)
    assert stored["time"].equals(want["time"])
    for column in ("open", "high", "low", "close", "trades"):
        assert stored[column].equals(want[column]), column
    assert np.allclose(stored["volume"].to_numpy(), want["volume"].to_numpy(), rtol=0, atol=1e-7)
    assert set(stored["origin"]) == {"trades-rebuild", "rest"}


def test_from_file_fills_from_a_dump_and_says_which_holes_it_does_not_cover(server, lake, tmp_path):
    """No network: the dump holds 02:00 .. 06:00 of the first day; the hole at 20:00 it does not cover."""
    from tradecore.api import Lake

    clean = Lake(tmp_path / "clean")
    run_fetch(server, clean)
    fetch_pieces(server, lake, [3, 5, 20, 22])
    rows = lake_frame(clean).filter(
        (lake_frame(clean)["time"].dt.epoch("s") >= server.start_s + 2 * HOUR_S)
        & (lake_frame(clean)["time"].dt.epoch("s") < server.start_s + 6 * HOUR_S)
    )
    dump = tmp_path / "XBTUSD_5.csv"
    dump.write_text(
        "".join(
            f"{t},{o!r},{h!r},{lo!r},{c!r},{v!r},{n}\n"
            for t, o, h, lo, c, v, n in zip(
                rows["time"].dt.epoch("s"), *(rows[k] for k in ("open", "high", "low", "close", "volume", "trades"))
            )
        )
    )
    requests = len(server.requests)
    result = run_cli(
        "data", "repair", "-p", "BTC/USD", "-t", "5m", "--from-file", str(dump), "--lake", str(lake.root), "--json"
    )
    assert result.exit_code == 0, result.output
    done = json.loads(result.output)
    assert len(server.requests) == requests  # the file only
    assert [h["result"] for h in done["holes"]] == ["filled", "unfillable"]
    reason = done["holes"][1]["reason"]  # the hole runs on into a silent hour
    assert reason.startswith("no dump covers 2023-07-01 20:00 .. ") and "get XBTUSD_5.csv from" in reason

    def first_20_hours(stored):
        return stored.filter(stored["time"].dt.epoch("s") < server.start_s + 20 * HOUR_S).drop("origin")

    assert first_20_hours(lake_frame(lake)).equals(first_20_hours(lake_frame(clean)))
    assert set(lake_frame(lake)["origin"]) == {"dump", "trades-rebuild"}


def test_unknown_pair_and_timeframe_are_one_line_errors(server, lake):
    run_fetch(server, lake, end=utc(server.start_s + 2 * HOUR_S))
    for args, code, message in (
        (("-p", "DOGE/USD", "-t", "5m"), 1, "no candles stored for kraken DOGE/USD 5m"),
        (("-p", "BTC/USD", "-t", "7m"), 1, "no candles stored for kraken BTC/USD 7m"),
        (("-p", "BTC/USD", "-t", "5m", "--source", "nope"), 2, "--source"),
    ):
        result = run_cli("data", "repair", "-e", "kraken", *args, "--lake", str(lake.root))
        assert result.exit_code == code, result.output
        [line] = [line for line in result.output.splitlines() if line.lower().startswith("error")]
        assert message in line and "Traceback" not in result.output


def repair_command(server: KrakenLoopback, root) -> list[str]:
    return [
        sys.executable,
        "-m",
        "tradecore",
        "data",
        "repair",
        "-p",
        "BTC/USD",
        "-t",
        "5m",
        "--param",
        f"api_url={server.url}",
        "--param",
        "rate_limit=false",
        "--param",
        "backoff_s=0",
        "--param",
        "method=trades",
        "--lake",
        str(root),
        "--quiet",
        "--json",
    ]


@pytest.mark.slow
def test_a_repair_killed_mid_hole_and_resumed_equals_a_clean_fetch(tmp_path):
    from tradecore.api import JobStore, Lake

    with KrakenLoopback(hours=20, trades_per_minute=12, seed=11) as server:
        clean = Lake(tmp_path / "clean")
        run_fetch(server, clean)
        lake = Lake(tmp_path / "killed")
        fetch_pieces(server, lake, [2, 9, 11, 17])  # two holes of 7 and 6 hours, about 5 Trades pages each
        command = repair_command(server, lake.root)
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        jobs = JobStore(lake.root)
        rng = random.Random(2)
        kills = 0
        for _ in range(4):
            repairs = jobs.list(kind="repair")
            if repairs and repairs[0].status == "done":
                break
            resume = ["--resume", str(repairs[0].id)] if repairs else []
            proc = subprocess.Popen([*command, *resume], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            target = server.counts.get("Trades", 0) + rng.randint(2, 4)
            while server.counts.get("Trades", 0) < target and proc.poll() is None:
                time.sleep(0.002)
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                kills += 1
            proc.wait()
        [job] = jobs.list(kind="repair")
        if job.status != "done":
            finished = subprocess.run([*command, "--resume", str(job.id)], env=env, capture_output=True, timeout=60)
            assert finished.returncode == 0, finished.stderr
        assert kills >= 2
        assert jobs.get(job.id).status == "done"
        children = [j for j in jobs.list(kind="fetch") if j.request.get("repair_job") == job.id]
        assert len(children) == 2  # each hole's fetch job resumed, never started twice
        assert lake_frame(lake).equals(lake_frame(clean))
        assert gaps(lake)["missing_gaps"] == 0
