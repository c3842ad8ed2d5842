"""A live ``tradecore serve`` on 127.0.0.1 (a real process with real worker processes), and helpers."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

httpx = pytest.importorskip("httpx", reason="the service tests need httpx (pip install -e '.[test]')")
pytest.importorskip("fastapi", reason="tradecore serve needs fastapi (pip install -e '.[service]')")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """``python -m tradecore [GLOBAL...] serve`` in its own process; ``stop()`` is Ctrl-C, ``kill()`` is SIGKILL.
    ``global_options`` go before ``serve`` (``--disable X``, ``--trace``); ``cwd`` is where it runs."""

    def __init__(
        self,
        lake: Path,
        runs: Path,
        *extra: str,
        workers: int = 2,
        env: dict | None = None,
        global_options: tuple[str, ...] = (),
        cwd: Path | None = None,
    ) -> None:
        self.lake, self.runs, self.port = lake, runs, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = lake.parent / f"serve-{self.port}.log"
        cmd = [sys.executable, "-m", "tradecore", *global_options, "serve", "--lake", str(lake), "--runs", str(runs)]
        cmd += ["--port", str(self.port), "--workers", str(workers), *extra]
        lake.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "wb") as fh:
            self.process = subprocess.Popen(
                cmd, stdout=fh, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}, cwd=cwd
            )
        self.client = httpx.Client(base_url=self.url, timeout=30)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"tradecore serve exited: {self.log.read_text()}")
            try:
                if self.client.get("/health").status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError(f"tradecore serve did not come up: {self.log.read_text()}")

    def wait_job(self, job_id: int, statuses=("completed", "failed", "interrupted"), timeout: float = 60) -> dict:
        deadline = time.time() + timeout
        while time.time() < deadline:
            job = self.client.get(f"/api/data-jobs/{job_id}").json()
            if job["status"] in statuses:
                return job
            time.sleep(0.1)
        raise AssertionError(f"job {job_id} still {job['status']} after {timeout} s")

    def stop(self) -> int:
        self.client.close()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=60)

    def kill(self) -> None:
        self.client.close()
        self.process.kill()
        self.process.wait()


@pytest.fixture
def live(tmp_path):
    servers = []

    def start(*extra: str, lake: Path | None = None, runs: Path | None = None, **kw) -> LiveServer:
        server = LiveServer(lake or tmp_path / "lake", runs or tmp_path / "runs", *extra, **kw)
        servers.append(server)
        return server

    yield start
    for server in servers:
        if server.process.poll() is None:
            server.stop()


def synthetic_job(start="2023-01-01T00:00:00Z", end="2023-03-01T00:00:00Z", timeframe="1h", **extra) -> dict:
    return {
        "exchange": "synthetic",
        "symbol": "SYN/USD",
        "timeframe": timeframe,
        "start_timestamp": start,
        "end_timestamp": end,
        "options": {"seed_from_zip": False, "full_history": False},
        **extra,
    }
