"""Offline: an unreachable host fails at once (no retry storm), and a run says what the lake holds and how to
fill it."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from tradecore_kraken.client import RetryPolicy, make_exchange
from tradecore_kraken.errors import Unreachable

from tradecore.testing import run_cli

REPO = Path(__file__).resolve().parents[3]


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"  # nothing listens there once the socket is closed


@pytest.mark.parametrize("url", [closed_port_url(), "http://no-such-host.invalid"])
def test_refused_or_unresolvable_hosts_are_not_retried(url):
    slept: list[float] = []
    policy = RetryPolicy(max_retries=6, base_s=1.0, sleep=slept.append)
    exchange = make_exchange("kraken", api_url=url, timeout_ms=2000)
    with pytest.raises(Unreachable, match="kraken Time: cannot (connect|resolve)"):
        policy.call("kraken Time", exchange.publicGetTime)
    assert slept == []


def test_an_offline_run_says_what_the_lake_holds_and_how_to_fill_it(tmp_path):
    from tradecore.api import Lake

    lake = Lake(tmp_path / "lake")
    hours = np.arange(24, dtype=np.int64) * 3_600_000 + 1_704_067_200_000  # 2024-01-01, first day only
    ones = np.ones(24)
    lake.write(
        "kraken",
        "BTC/USD",
        "1h",
        pl.DataFrame({"time": hours, **{c: ones for c in "open high low close volume".split()}}),
        "dump",
    )
    manifest = json.loads((REPO / "configs" / "kraken-btc-usd-1h.json").read_text())
    manifest["source"]["params"].update(
        start="2024-01-01T00:00:00Z", end="2024-01-08T00:00:00Z", api_url=closed_port_url(), lake=str(lake.root)
    )
    path = tmp_path / "offline.json"
    path.write_text(json.dumps(manifest))
    started = time.monotonic()
    result = run_cli("run", str(path), "--runs-dir", str(tmp_path / "runs"))
    assert time.monotonic() - started < 15
    assert result.exit_code != 0
    out = result.output
    assert "Traceback" not in out
    assert "cannot reach Kraken" in out and "Connection refused" in out
    assert f"the lake {lake.root} holds 24 of 168 1h candles for 2024-01-01 00:00 .. 2024-01-08 00:00" in out
    assert f"tradecore kraken import-dump XBTUSD_60.csv --lake {lake.root}" in out
    assert "Kraken_OHLCVT_Q1_2024.zip" in out
    assert (
        "tradecore data fetch --source kraken --pair BTC/USD --timeframe 1h --start 2024-01-01T00:00 "
        f"--end 2024-01-08T00:00 --lake {lake.root}"
    ) in out
    assert '"synthetic"' in out
