"""The server's worker processes: queued fetch jobs from the job store and started runs, at most N at once.

One supervisor thread looks at the job store a few times a second: jobs queued by the service
(``request["via"] == "service"``, status ``pending``) get a worker process each, finished processes are
reaped, and a worker that died without a word has its job marked failed. Runs are ``python -m tradecore
run MANIFEST --runs-dir RUNS``, exactly the CLI. Cancel and shutdown send SIGINT, which both stop like
Ctrl-C: a fetch saves its cursor and is interrupted (resumable), a run checkpoints.
"""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tradecore.data.jobs import JobStore

SERVICE = "service"
POLL_S = 0.2


@dataclass
class Worker:
    kind: str  # "fetch" or "run"
    key: str  # job id or run launch id
    process: subprocess.Popen
    started: float = field(default_factory=time.time)
    log: Path | None = None


@dataclass
class RunLaunch:
    id: str
    manifest: str
    name: str
    status: str = "queued"  # queued, running, exited, failed
    pid: int | None = None
    returncode: int | None = None
    run: str | None = None  # the run folder's name, once it exists
    submitted: float = field(default_factory=time.time)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class Supervisor:
    def __init__(self, lake: Path, runs: Path, slots: int, plugin_env: dict[str, str | None] | None = None) -> None:
        self.lake, self.runs, self.slots = Path(lake), Path(runs), slots
        #: the server's plugin controls (``tradecore --disable ... serve``), so workers load the same plugins
        self.env = {**os.environ, **{k: v for k, v in (plugin_env or {}).items() if v is not None}}
        for name in [k for k, v in (plugin_env or {}).items() if v is None]:
            self.env.pop(name, None)
        self.jobs = JobStore(lake)
        self.workers: dict[tuple[str, str], Worker] = {}
        self.launches: dict[str, RunLaunch] = {}
        self._run_queue: collections.deque[str] = collections.deque()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.logs = self.lake / "_service_logs"

    # ---------------------------------------------------------------- life cycle

    def start(self) -> list[int]:
        """Mark jobs whose process is gone interrupted (resumable), then start taking queued jobs."""
        orphans = self.jobs.mark_orphans()
        self._thread = threading.Thread(target=self._loop, name="tradecore-supervisor", daemon=True)
        self._thread.start()
        return orphans

    def stop(self, wait_s: float = 20.0) -> None:
        """Stop taking work, interrupt every worker (SIGINT: cursor saved, job interrupted) and wait for them."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self._lock:
            workers = list(self.workers.values())
        for w in workers:
            _interrupt(w.process)
        deadline = time.time() + wait_s
        for w in workers:
            try:
                w.process.wait(timeout=max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                w.process.kill()
                w.process.wait()
        for w in workers:
            if w.kind == "fetch":
                job = self.jobs.get(int(w.key))
                if job.status in ("running", "pending"):
                    self.jobs.update(job.id, status="interrupted", message="the server stopped; resume it")
        with self._lock:
            self.workers.clear()

    # ---------------------------------------------------------------- fetch jobs

    def cancel_job(self, job_id: int) -> str:
        """Stop a job: its worker gets SIGINT (the job ends interrupted at its saved cursor); a queued job
        becomes interrupted without starting. Returns what happened."""
        with self._lock:
            worker = self.workers.get(("fetch", str(job_id)))
            if worker is None:
                job = self.jobs.get(job_id)
                if job.status == "pending":
                    self.jobs.update(job_id, status="interrupted", message="cancelled before it started")
                    return "cancelled"
                return "not-running"
        _interrupt(worker.process)
        try:
            worker.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.process.kill()
            worker.process.wait()
        self._reap()
        self.jobs.update(job_id, message="cancelled from the web service")
        return "cancelled"

    def owns(self, job_id: int) -> bool:
        with self._lock:
            return ("fetch", str(job_id)) in self.workers

    # ---------------------------------------------------------------- runs

    def queue_run(self, manifest: Path, name: str) -> RunLaunch:
        launch = RunLaunch(id=f"r{int(time.time() * 1000)}-{len(self.launches) + 1}", manifest=str(manifest), name=name)
        with self._lock:
            self.launches[launch.id] = launch
            self._run_queue.append(launch.id)
        return launch

    # ---------------------------------------------------------------- the loop

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._reap()
                self._launch()
            except Exception as exc:  # noqa: BLE001 -- a locked store or a full disk must not end the loop
                print(f"tradecore serve: supervisor: {exc}", file=sys.stderr)
            self._stop.wait(POLL_S)

    def _free(self) -> int:
        with self._lock:
            return self.slots - len(self.workers)

    def _launch(self) -> None:
        while self._free() > 0 and self._run_queue and not self._stop.is_set():
            self._start_run(self._run_queue.popleft())
        if self._free() <= 0:
            return
        with self._lock:
            busy = {k for kind, k in self.workers if kind == "fetch"}
        queued = [
            j
            for j in reversed(self.jobs.list(status="pending", kind="fetch", limit=200))
            if j.request.get("via") == SERVICE and str(j.id) not in busy
        ]
        for job in queued[: self._free()]:
            self._spawn(
                "fetch",
                str(job.id),
                [sys.executable, "-m", "tradecore.service.worker", str(job.id), "--lake", str(self.lake)],
            )

    def _start_run(self, launch_id: str) -> None:
        launch = self.launches[launch_id]
        cmd = [sys.executable, "-m", "tradecore", "run", launch.manifest, "--runs-dir", str(self.runs)]
        worker = self._spawn("run", launch_id, cmd)
        launch.status, launch.pid = "running", worker.process.pid

    def _spawn(self, kind: str, key: str, cmd: list[str]) -> Worker:
        self.logs.mkdir(parents=True, exist_ok=True)
        log = self.logs / f"{kind}-{key}.log"
        with open(log, "ab") as fh:
            # its own session: a Ctrl-C in the server's terminal reaches the server, which stops workers itself
            process = subprocess.Popen(
                cmd, stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True, env=self.env
            )
        worker = Worker(kind, key, process, log=log)
        with self._lock:
            self.workers[(kind, key)] = worker
        return worker

    def _reap(self) -> None:
        with self._lock:
            done = [(k, w) for k, w in self.workers.items() if w.process.poll() is not None]
            for k, _ in done:
                del self.workers[k]
        for (kind, key), w in done:
            code = w.process.returncode
            if kind == "fetch":
                job = self.jobs.get(int(key))
                if job.status == "running" and (job.owner or {}).get("pid") == w.process.pid:
                    self.jobs.update(job.id, status="failed", error=f"worker exited with code {code}: {_tail(w.log)}")
            else:
                launch = self.launches[key]
                launch.returncode = code
                launch.status = "exited" if code == 0 else ("interrupted" if code == 130 else "failed")


def _interrupt(process: subprocess.Popen) -> None:
    if process.poll() is None:
        try:
            os.kill(process.pid, signal.SIGINT)
        except ProcessLookupError:
            pass


def _tail(log: Path | None) -> str:
    if log is None or not log.is_file():
        return "no output"
    lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no output"
