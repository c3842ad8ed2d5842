"""What the service caches answers exactly what the lake and the job store hold: coverage after writes and
removals, the newest job per series, and the endpoints built on them (coverage, gaps, the paged job list)."""

from __future__ import annotations

import polars as pl
import pytest
from fastapi.testclient import TestClient

from tradecore.data.coverage import lake_coverage
from tradecore.data.fetch_jobs import exchange_facts
from tradecore.data.gaps import lake_gap_report, summary_line
from tradecore.data.jobs import JobStore
from tradecore.data.lake import Lake
from tradecore.service.app import create_app
from tradecore.service.lake_cache import LakeCache
from tradecore.service.settings import ServiceSettings

HOUR = 3_600_000
START = 1_703_980_800_000  # 2023-12-31: a day later the series crosses into a second year partition


def hours(n: int, start: int = START, skip: tuple[int, ...] = ()) -> pl.DataFrame:
    times = [start + i * HOUR for i in range(n) if i not in skip]
    return pl.DataFrame(
        {"time": times, "open": 1.0, "high": 2.0, "low": 0.5, "close": 1.5, "volume": 3.0, "trades": 4}
    ).with_columns(pl.col("time").cast(pl.Int64))


def as_dicts(coverages) -> list[dict]:
    return [c.as_dict() for c in coverages]


def test_coverage_follows_every_write_and_removal(tmp_path):
    lake = Lake(tmp_path)
    cache = LakeCache(lake, JobStore(tmp_path))
    assert cache.coverage() == [] and lake.changed_ns() is None
    lake.write("synthetic", "AAA/USD", "1h", hours(48, skip=(5, 6)), "synthetic")
    assert as_dicts(cache.coverage()) == as_dicts(lake_coverage(lake))
    stamp = lake.changed_ns()
    lake.write("synthetic", "AAA/USD", "1h", hours(3, START + 5 * HOUR), "synthetic")  # fills the hole
    lake.write("synthetic", "BBB/USD", "1h", hours(10), "synthetic")
    assert lake.changed_ns() > stamp
    [aaa, bbb] = cache.coverage()
    assert (aaa.holes, aaa.rows, bbb.pair) == (0, 48, "BBB/USD")
    assert as_dicts([aaa, bbb]) == as_dicts(lake_coverage(lake))
    # a window replaced by nothing removes the newer year's partition
    lake.replace_window("synthetic", "AAA/USD", "1h", START + 24 * HOUR, START + 48 * HOUR, hours(0), "synthetic")
    assert as_dicts(cache.coverage()) == as_dicts(lake_coverage(lake))
    assert cache.coverage()[0].partitions == 1


def test_the_newest_job_per_series_is_merged_from_changes(tmp_path):
    jobs = JobStore(tmp_path)
    cache = LakeCache(Lake(tmp_path), jobs)
    assert cache.latest_jobs() == {}

    def job(kind: str, symbol: str) -> int:
        params = {"symbol": symbol, "timeframe": "1h"}
        return jobs.create(kind, {"exchange": "synthetic", "params": params}).id

    first = job("fetch", "AAA/USD")
    assert cache.latest_jobs() == jobs.latest_per_series()
    job("fetch", "BBB/USD")
    newest = job("fetch", "AAA/USD")
    jobs.update(first, status="done")  # an old job's update moves the time, not the newest id
    job("validate", "AAA/USD")
    merged = cache.latest_jobs()
    assert merged == jobs.latest_per_series()
    assert merged[("fetch", "synthetic", "AAA/USD", "1h")][0] == newest


@pytest.fixture
def client(tmp_path):
    lake = Lake(tmp_path / "lake")
    lake.write("synthetic", "AAA/USD", "1h", hours(100, skip=(10, 11, 12, 50)), "synthetic")
    with TestClient(create_app(ServiceSettings(lake=tmp_path / "lake", runs=tmp_path / "runs", workers=1))) as c:
        c.lake = lake
        yield c


def test_gaps_of_a_series_are_the_data_gaps_report(client):
    answer = client.get("/api/data/gaps", params={"exchange": "synthetic", "symbol": "AAA/USD", "timeframe": "1h"})
    assert answer.status_code == 200, answer.text
    facts = exchange_facts(client.app.state.service.runtime.registry, "synthetic")
    report = lake_gap_report(client.lake, "synthetic", "AAA/USD", "1h", facts=facts)
    got = answer.json()
    assert got["summary"] == summary_line(report)
    assert [(g["start"], g["slots"], g["kind"]) for g in got["gaps"]] == [
        (g.as_dict()["start"], g.slots, g.kind) for g in report.gaps
    ]
    assert sorted(g["slots"] for g in got["gaps"]) == [1, 3] and got["gap_count"] == 2
    first = client.get(
        "/api/data/gaps", params={"exchange": "synthetic", "symbol": "AAA/USD", "timeframe": "1h", "limit": 1}
    ).json()
    assert len(first["gaps"]) == 1 and first["gaps_not_listed"] == 1 and first["gap_count"] == 2

    missing = client.get("/api/data/gaps", params={"exchange": "synthetic", "symbol": "ZZZ/USD", "timeframe": "1h"})
    assert missing.status_code == 404 and "nothing stored" in missing.text
    bad = client.get("/api/data/gaps", params={"exchange": "synthetic", "symbol": "../x", "timeframe": "1h"})
    assert bad.status_code == 422


def test_the_coverage_row_changes_when_the_lake_does(client):
    [row] = client.get("/api/data-coverage").json()
    assert (row["rows"], row["holes"]) == (96, 2)
    client.lake.write("synthetic", "AAA/USD", "1h", hours(3, START + 10 * HOUR), "synthetic")
    [row] = client.get("/api/data-coverage").json()
    assert (row["rows"], row["holes"]) == (99, 1)
    assert client.get("/api/data-coverage", params={"symbol": "BBB/USD"}).json() == []


def test_the_job_list_comes_in_pages(client):
    jobs = JobStore(client.lake.root)
    ids = [jobs.create("fetch", {"exchange": "synthetic", "params": {"symbol": "AAA/USD"}}).id for _ in range(5)]
    page = client.get("/api/data-jobs", params={"limit": 2})
    assert [j["id"] for j in page.json()] == ids[::-1][:2]
    assert page.headers["link"] == '</api/data-jobs?offset=2&limit=2>; rel="next"'
    last = client.get("/api/data-jobs", params={"limit": 2, "offset": 4})
    assert [j["id"] for j in last.json()] == [ids[0]] and "link" not in last.headers
