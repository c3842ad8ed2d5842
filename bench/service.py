"""The service budgets of issue 11, side by side in one run, against a live ``tradecore serve`` (uvicorn on
127.0.0.1) over generated data: nothing leaves this machine.

Items (one ``NAME key=value ...`` line each; medians over --repeats):
  service.api.job_status   GET /api/data-jobs/{id}, 10,000 jobs in the store, 200 series in the lake
                                                                          p50 <= 10 ms, p99 <= 50 ms
  service.api.job_list     GET /api/data-jobs (its default page)          p50 <= 10 ms, p99 <= 50 ms
  service.api.coverage     GET /api/data-coverage (all 200 series)        p50 <= 10 ms, p99 <= 50 ms
  service.runs_page        /runs with 1,000 run folders in Chromium: navigation -> the table's rows drawn   <= 1 s
  service.polling          4 synthetic fetch jobs in workers, with 20 clients polling status and coverage and
                           holding the event stream, against the same jobs without clients: 0 errors, each
                           job's wall time (worker process start -> done) at most 10% longer
  service.download_csv     1M 1m candles streamed as CSV: >= 50 MB/s; the server's peak RSS growth (bounded)
  service.download_parquet the same as Parquet

Usage:
    python bench/service.py [--only api,runs,polling,download] [--repeats 3] [--run-folder DIR]

The runs page copies one real run folder (``--run-folder``, else a tiny run trained here first) 1,000 times
with varied metrics. The machine's load average is printed with every item: the machine is shared.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tradecore.data.jobs import JobStore  # noqa: E402
from tradecore.data.lake import Lake  # noqa: E402

HOUR_MS = 3_600_000
MINUTE_MS = 60_000


def load() -> str:
    return "load=" + "/".join(f"{x:.2f}" for x in os.getloadavg())


def say(line: str) -> None:
    print(f"{line} {load()}", flush=True)


def quantile(values: list[float], q: float) -> float:
    return float(np.quantile(np.asarray(values), q))


# ---------------------------------------------------------------- a live server


class Server:
    """``python -m tradecore serve`` in its own process (as a user starts it); ``stop()`` is Ctrl-C."""

    def __init__(self, lake: Path, runs: Path, workers: int = 2) -> None:
        self.lake = lake
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = lake.parent / f"serve-{self.port}.log"
        cmd = [sys.executable, "-m", "tradecore", "serve", "--lake", str(lake), "--runs", str(runs)]
        cmd += ["--port", str(self.port), "--workers", str(workers)]
        with open(self.log, "wb") as fh:
            self.process = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT)
        self.client = httpx.Client(base_url=self.url, timeout=60)
        deadline = time.time() + 120
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"tradecore serve exited: {self.log.read_text()}")
            try:
                if self.client.get("/health").status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError(f"tradecore serve did not come up: {self.log.read_text()}")

    def stop(self) -> None:
        self.client.close()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=60)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# ---------------------------------------------------------------- generated data


def candles(start_ms: int, bars: int, step_ms: int, seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.002, bars)))
    open_ = np.concatenate([[close[0]], close[:-1]])
    spread = np.abs(rng.normal(0, 0.001, bars)) * close
    return pl.DataFrame(
        {
            "time": start_ms + step_ms * np.arange(bars, dtype=np.int64),
            "open": open_,
            "high": np.maximum(open_, close) + spread,
            "low": np.minimum(open_, close) - spread,
            "close": close,
            "volume": rng.uniform(1, 10, bars),
            "trades": rng.integers(1, 50, bars),
        }
    )


def fill_lake(root: Path, series: int, jobs: int) -> list[int]:
    """``series`` small 1h series (each across a year boundary: two partitions, a hole) written through the
    Lake API, and ``jobs`` fetch jobs of them through JobStore (most done, a few failed). Returns the job ids."""
    lake, store = Lake(root), JobStore(root)
    start = 1_696_118_400_000  # 2023-10-01: 3,000 1h bars reach into 2024
    pairs = [f"S{i:03d}/USD" for i in range(series)]
    for i, pair in enumerate(pairs):
        frame = candles(start, 3000, HOUR_MS, i)
        lake.write("synthetic", pair, "1h", frame.filter(pl.int_range(pl.len()) % 500 != 7), "synthetic")
    ids = []
    holder = None
    for n in range(jobs):
        pair = pairs[n % series]
        request = {
            "source": "synthetic",
            "exchange": "synthetic",
            "label": f"synthetic {pair} 1h",
            "params": {"symbol": pair, "timeframe": "1h", "start": "2023-10-01T00:00:00Z", "bars": 3000},
            "options": {"seed_from_zip": False, "full_history": False},
            "via": "bench",
        }
        job = store.create("fetch", request)
        failed = n % 50 == 0
        store.update(
            job.id,
            status="failed" if failed else "done",
            progress=0.5 if failed else 1.0,
            counts={"rows": 3000, "batches": 1},
            error="generated failure" if failed else None,
            message="stored 3,000 candles",
        )
        ids.append(job.id)
        if holder is None:  # held open for the whole fill: else each call's close checkpoints the WAL (an fsync)
            holder = sqlite3.connect(store.path)
            holder.execute("SELECT 1 FROM jobs LIMIT 1").fetchall()
    if holder is not None:
        holder.close()
    return ids


# ---------------------------------------------------------------- API latency


def bench_api(scratch: Path, repeats: int, series: int, jobs: int, requests: int) -> None:
    root = scratch / "api"
    t0 = time.perf_counter()
    ids = fill_lake(root / "lake", series, jobs)
    say(f"service.api.setup series={series} jobs={jobs} seconds={time.perf_counter() - t0:.1f}")
    rng = random.Random(1)
    targets = {
        "job_status": lambda: f"/api/data-jobs/{rng.choice(ids)}",
        "job_list": lambda: "/api/data-jobs",
        "coverage": lambda: "/api/data-coverage",
    }
    with Server(root / "lake", root / "runs") as server:
        listed = server.client.get("/api/data-jobs").json()
        covered = server.client.get("/api/data-coverage").json()
        assert len(covered) == series, len(covered)
        say(f"service.api.shape list_rows={len(listed)} coverage_rows={len(covered)}")
        figures: dict[str, list[tuple[float, float]]] = {name: [] for name in targets}
        for _ in range(repeats):
            for name, path in targets.items():  # side by side: each repeat takes every endpoint in turn
                for _ in range(20):
                    server.client.get(path()).raise_for_status()
                times = []
                for _ in range(requests):
                    url = path()
                    t = time.perf_counter()
                    server.client.get(url).raise_for_status()
                    times.append(1000 * (time.perf_counter() - t))
                figures[name].append((quantile(times, 0.5), quantile(times, 0.99)))
        for name, pairs in figures.items():
            p50 = statistics.median(p for p, _ in pairs)
            p99 = statistics.median(p for _, p in pairs)
            verdict = "ok" if p50 <= 10 and p99 <= 50 else "MISSED"
            say(
                f"service.api.{name} p50_ms={p50:.2f} p99_ms={p99:.2f} budget=p50<=10,p99<=50 {verdict} "
                f"repeats={repeats} requests={requests}"
            )


# ---------------------------------------------------------------- runs page


#: the browser tests' tiny run: trains in seconds
TINY = {
    "trainer": {"total_timesteps": 8192, "n_envs": 32, "n_steps": 64, "eval_freq": 4096, "checkpoint_freq": 8192},
    "bars": 3000,
}


def tiny_run(scratch: Path) -> Path:
    """One real run folder: the fast quickstart, shrunk to train in seconds."""
    manifest = json.loads((ROOT / "examples" / "quickstart-fast.json").read_text())
    manifest.pop("$schema", None)
    manifest["name"] = "bench"
    manifest["source"]["params"]["bars"] = TINY["bars"]
    manifest["trainer"]["params"].update(TINY["trainer"])
    path = scratch / "tiny.json"
    path.write_text(json.dumps(manifest))
    runs = scratch / "tiny-runs"
    cmd = [sys.executable, "-m", "tradecore", "run", str(path), "--runs-dir", str(runs)]
    done = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "TRADECORE_LAKE": str(scratch / "l")})
    if done.returncode != 0:
        raise RuntimeError(f"the tiny run failed: {done.stderr[-2000:]}")
    return next(p for p in runs.iterdir() if (p / "metrics.json").is_file())


COPIED = ("run.json", "metrics.json", "manifest.json", "manifest.input.json", "training.csv")


def many_runs(template: Path, runs: Path, count: int) -> None:
    """``count`` copies of one run folder with varied names, times, statuses and metrics."""
    rng = random.Random(2)
    record = json.loads((template / "run.json").read_text())
    metrics = json.loads((template / "metrics.json").read_text())
    runs.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        name = f"2026{1 + i % 12:02d}{1 + i % 28:02d}T{i % 24:02d}{i % 60:02d}00Z-bench-{i:04d}"
        target = runs / name
        target.mkdir()
        for name in COPIED:  # what the runs table and a run's page read; not the 5 MB report or the checkpoints
            if (template / name).is_file():
                shutil.copy2(template / name, target / name)
        record.update(name=f"bench-{i:04d}", created=f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}T00:00:00+00:00")
        (target / "run.json").write_text(json.dumps(record))
        agent = metrics["agent"]
        agent.update(total_return=rng.uniform(-0.3, 0.5), sharpe=rng.uniform(-2, 3), max_drawdown=rng.uniform(0, 0.5))
        (target / "metrics.json").write_text(json.dumps(metrics))


def bench_runs_page(scratch: Path, repeats: int, count: int, template: Path | None) -> None:
    from playwright.sync_api import sync_playwright

    from tests.browser import CHROMIUM_ARGS, VIEWPORT, chromium_executable

    root = scratch / "runs-page"
    t0 = time.perf_counter()
    template = template or tiny_run(scratch)
    many_runs(template, root / "runs", count)
    say(f"service.runs_page.setup runs={count} seconds={time.perf_counter() - t0:.1f}")
    with Server(root / "lake", root / "runs") as server, sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(root / "profile"), executable_path=chromium_executable(), headless=True, args=CHROMIUM_ARGS,
            viewport=VIEWPORT,
        )  # fmt: skip
        page = context.new_page()
        drawn = "document.querySelectorAll('#runs tbody tr').length > 0 && /of [0-9,]+ runs/.test(document.getElementById('count').textContent)"  # noqa: E501

        def once() -> float:
            t = time.perf_counter()
            page.goto(f"{server.url}/runs")
            page.wait_for_function(drawn, timeout=60_000)
            page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
            return time.perf_counter() - t

        first = once()  # the server's first listing (cold summaries)
        times = [once() for _ in range(max(3, repeats))]
        rows = page.locator("#runs tbody tr").count()
        count_text = page.inner_text("#count")
        context.close()
    median = statistics.median(times)
    say(
        f"service.runs_page seconds={median:.3f} first_seconds={first:.3f} budget<=1 "
        f"{'ok' if median <= 1 and first <= 1 else 'MISSED'} runs={count} rows_drawn={rows} ({count_text}) "
        f"repeats={len(times)}"
    )


# ---------------------------------------------------------------- polling clients while jobs run


def worker_seconds(job) -> float:
    """Wall time of the job's worker process: its start (from the owner's start ticks) to the job's last update."""
    ticks = job.owner["start_ticks"]
    btime = next(int(line.split()[1]) for line in open("/proc/stat") if line.startswith("btime"))
    return job.updated - (btime + ticks / os.sysconf("SC_CLK_TCK"))


async def poll_clients(url: str, clients: int, interval: float, stop: threading.Event) -> dict:
    """Each client holds the event stream open and polls the job list, the status of one of the listed jobs (as a
    page polls its job cards) and coverage."""
    seen = {"requests": 0, "errors": 0, "events": 0, "error_lines": []}

    async def one(n: int) -> None:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:

            async def listen() -> None:
                try:
                    async with client.stream("GET", "/api/events") as stream:
                        async for line in stream.aiter_lines():
                            if line.startswith("event:"):
                                seen["events"] += 1
                except (httpx.HTTPError, asyncio.CancelledError):
                    pass

            listener = asyncio.create_task(listen())

            async def get(path: str) -> httpx.Response | None:
                seen["requests"] += 1
                try:
                    answer = await client.get(path)
                except httpx.HTTPError as exc:
                    answer = None
                    seen["error_lines"].append(f"{path} {exc!r}")
                else:
                    if answer.status_code == 200:
                        return answer
                    seen["error_lines"].append(f"{path} {answer.status_code}")
                seen["errors"] += 1
                return answer

            await asyncio.sleep(interval * n / clients)  # spread the clients over the interval
            while not stop.is_set():
                listed = await get("/api/data-jobs?limit=20")
                jobs = listed.json() if listed is not None and listed.status_code == 200 else []
                if jobs:
                    await get(f"/api/data-jobs/{jobs[n % len(jobs)]['id']}")
                await get("/api/data-coverage")
                await asyncio.sleep(interval)
            listener.cancel()
            await asyncio.gather(listener, return_exceptions=True)

    await asyncio.gather(*(one(n) for n in range(clients)))
    return seen


def run_jobs(server: Server, tag: str, bars: int, count: int) -> list[float]:
    """Submit ``count`` synthetic 1m jobs of ``bars`` candles at once; each one's worker wall time."""
    start = "2020-01-01T00:00:00Z"
    end_ms = 1_577_836_800_000 + bars * MINUTE_MS
    end = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(end_ms / 1000))
    ids = []
    for i in range(count):
        payload = {
            "exchange": "synthetic", "symbol": f"{tag}{i}/USD", "timeframe": "1m", "start_timestamp": start,
            "end_timestamp": end, "options": {"seed_from_zip": False},
        }  # fmt: skip
        answer = server.client.post("/api/data-jobs", json=payload)
        answer.raise_for_status()
        ids.append(answer.json()["id"])
    store = JobStore(server.lake)
    deadline = time.time() + 600
    while time.time() < deadline:
        jobs = [store.get(i) for i in ids]
        if all(j.status in ("done", "failed", "interrupted") for j in jobs):
            break
        time.sleep(0.5)
    assert all(j.status == "done" for j in jobs), [(j.id, j.status, j.error) for j in jobs]
    return [worker_seconds(j) for j in jobs]


def bench_polling(scratch: Path, repeats: int, bars: int, clients: int, interval: float) -> None:
    root = scratch / "polling"
    fill_lake(root / "lake", 200, 0)
    server = Server(root / "lake", root / "runs", workers=4)
    ratios: list[list[float]] = []
    quiet_times, busy_times = [], []
    totals = {"requests": 0, "errors": 0, "events": 0, "error_lines": []}
    try:
        run_jobs(server, "W", bars, 4)  # warm-up: page cache, imports
        for r in range(repeats):
            quiet = run_jobs(server, f"Q{r}X", bars, 4)
            stop = threading.Event()
            result: dict = {}

            def clients_run(result: dict = result, stop: threading.Event = stop) -> None:
                result.update(asyncio.run(poll_clients(server.url, clients, interval, stop)))

            thread = threading.Thread(target=clients_run)
            thread.start()
            time.sleep(1.0)  # every client connected and polling before the jobs start
            busy = run_jobs(server, f"B{r}X", bars, 4)
            stop.set()
            thread.join()
            for key in ("requests", "errors", "events"):
                totals[key] += result[key]
            totals["error_lines"] += result["error_lines"][:5]
            quiet_times.append(quiet)
            busy_times.append(busy)
            ratios.append([b / q for b, q in zip(sorted(busy), sorted(quiet), strict=True)])
            say(
                f"service.polling.round {r} quiet_s={','.join(f'{x:.2f}' for x in quiet)} "
                f"busy_s={','.join(f'{x:.2f}' for x in busy)} requests={result['requests']} errors={result['errors']}"
            )
    finally:
        server.stop()
    per_job = [statistics.median(r[i] for r in ratios) for i in range(4)]
    worst = max(per_job)
    quiet_median = statistics.median(x for q in quiet_times for x in q)
    busy_median = statistics.median(x for b in busy_times for x in b)
    ok = totals["errors"] == 0 and worst <= 1.10
    say(
        f"service.polling clients={clients} interval_s={interval} bars={bars} quiet_job_s={quiet_median:.2f} "
        f"busy_job_s={busy_median:.2f} slowdown_median={statistics.median(per_job):.3f} slowdown_worst={worst:.3f} "
        f"budget<=1.10 requests={totals['requests']} errors={totals['errors']} events={totals['events']} "
        f"{'ok' if ok else 'MISSED'} repeats={repeats}"
    )
    for line in totals["error_lines"][:10]:
        print(f"  error: {line}")


# ---------------------------------------------------------------- downloads


def reset_peak(pid: int) -> None:
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # resets VmHWM to the current RSS


def status_kb(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)


def bench_download(scratch: Path, repeats: int, rows: int) -> None:
    root = scratch / "download"
    lake = Lake(root / "lake")
    lake.write("synthetic", "BIG/USD", "1m", candles(1_577_836_800_000, rows, MINUTE_MS, 5), "synthetic")
    params = {"exchange": "synthetic", "symbol": "BIG/USD", "timeframe": "1m"}
    with Server(root / "lake", root / "runs") as server:
        pid = server.process.pid
        for fmt in ("csv", "parquet"):
            small = {**params, "start": "2020-01-01", "end": "2020-01-02", "format": fmt}
            server.client.get("/api/data/download", params=small).raise_for_status()  # imports, warm caches
            rates, growth, sizes = [], [], []
            for _ in range(repeats):
                reset_peak(pid)
                before = status_kb(pid, "VmRSS")
                size = 0
                t = time.perf_counter()
                with server.client.stream("GET", "/api/data/download", params={**params, "format": fmt}) as answer:
                    answer.raise_for_status()
                    for chunk in answer.iter_raw():
                        size += len(chunk)
                elapsed = time.perf_counter() - t
                rates.append(size / elapsed / 1e6)
                growth.append((status_kb(pid, "VmHWM") - before) / 1024)
                sizes.append(size)
            rate = statistics.median(rates)
            verdict = "ok" if fmt != "csv" or rate >= 50 else "MISSED"
            say(
                f"service.download_{fmt} rows={rows} mb={sizes[0] / 1e6:.1f} mb_per_s={rate:.1f} "
                f"{'budget>=50 ' if fmt == 'csv' else ''}{verdict} peak_rss_growth_mb={statistics.median(growth):.1f} "
                f"max_growth_mb={max(growth):.1f} repeats={repeats}"
            )


# ---------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="api,runs,polling,download", help="comma-separated items")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--series", type=int, default=200)
    parser.add_argument("--requests", type=int, default=300, help="timed requests per endpoint per repeat")
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--run-folder", type=Path, default=None, help="a real run folder to copy (else one is run)")
    parser.add_argument("--bars", type=int, default=600_000, help="candles per polling job (1m)")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between a client's polls")
    parser.add_argument("--rows", type=int, default=1_000_000, help="candles in the download")
    parser.add_argument("--keep", type=Path, default=None, help="scratch folder to keep (default: a temporary one)")
    args = parser.parse_args()
    only = set(args.only.split(","))
    say(f"service.machine cpus={os.cpu_count()} python={sys.version.split()[0]}")
    with tempfile.TemporaryDirectory(prefix="tc-service-bench-") as tmp:
        scratch = args.keep or Path(tmp)
        scratch.mkdir(parents=True, exist_ok=True)
        if "api" in only:
            bench_api(scratch, args.repeats, args.series, args.jobs, args.requests)
        if "runs" in only:
            bench_runs_page(scratch, args.repeats, args.runs, args.run_folder)
        if "polling" in only:
            bench_polling(scratch, args.repeats, args.bars, args.clients, args.interval)
        if "download" in only:
            bench_download(scratch, args.repeats, args.rows)


if __name__ == "__main__":
    main()
