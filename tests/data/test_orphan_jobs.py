"""A job whose process was killed (-9) stays ``running`` in the store; listings find its owner gone and mark
it interrupted, with what to do next (a fetch is resumed, a stream started again)."""

from __future__ import annotations

import json
import subprocess
import sys

from tradecore.data.jobs import JobStore
from tradecore.owner import current_owner
from tradecore.testing import run_cli


def _dead_owner() -> dict:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return {**current_owner(), "pid": child.pid}


def test_data_jobs_lists_jobs_of_killed_processes_as_interrupted(tmp_path):
    jobs = JobStore(tmp_path / "lake")
    dead = _dead_owner()
    stream = jobs.create("stream", {"label": "kraken BTC/USD 1m stream"})
    fetch = jobs.create("fetch", {"label": "kraken BTC/USD 1m"})
    alive = jobs.create("stream", {"label": "still streaming"})
    jobs.update(stream.id, status="running", owner=dead)
    jobs.update(fetch.id, status="running", owner=dead)
    jobs.update(alive.id, status="running", owner=current_owner())

    result = run_cli("data", "jobs", "--lake", str(tmp_path / "lake"), "--json")
    assert result.exit_code == 0, result.output
    listed = {j["id"]: j for j in json.loads(result.output)}
    assert listed[stream.id]["status"] == "interrupted"
    assert listed[stream.id]["messages"][-1] == "its process is gone (killed); start the stream again (it catches up)"
    assert listed[fetch.id]["status"] == "interrupted"
    assert listed[fetch.id]["messages"][-1] == "its process is gone (killed); resume it"
    assert listed[alive.id]["status"] == "running"


def test_listing_a_lake_without_jobs_creates_nothing(tmp_path):
    result = run_cli("data", "jobs", "--lake", str(tmp_path / "lake"))
    assert result.exit_code == 0 and result.output.strip() == "no jobs"
    assert not (tmp_path / "lake").exists()
