"""Running many child runs at once under a worker limit, Ctrl-C safe.

One loop in the calling (main) thread starts children up to the limit and polls them, so a
KeyboardInterrupt (or SIGTERM, turned into one) always lands here: running children get SIGINT,
then SIGTERM, then SIGKILL; trials not yet started are marked cancelled; the summary is written
after every finished trial and once more on the way out.
"""

from __future__ import annotations

import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tradecore.compute.child import ChildRun, start_child, stop_children
from tradecore.compute.summary import TrialResult

if TYPE_CHECKING:
    from tradecore.plugins import PluginControls


@dataclass
class ChildJob:
    """One run to execute in a child: a key, its folder and its (in-process) manifest."""

    key: str
    index: int
    overrides: dict[str, Any]
    manifest: dict[str, Any]
    folder: Path


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Treat SIGTERM like Ctrl-C while children run, so `kill <pid>` also stops them cleanly."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def _raise(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, _raise)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_jobs(
    jobs: list[ChildJob],
    *,
    workers: int,
    controls: PluginControls | None = None,
    timeout_s: float | None = None,
    grace_s: float = 10.0,
    on_change: Callable[[list[TrialResult], bool], None] | None = None,
    on_finish: Callable[[TrialResult], None] | None = None,
    poll_s: float = 0.05,
) -> list[TrialResult]:
    """Execute ``jobs`` in child processes, at most ``workers`` at a time; return one result per job.

    ``on_change(results, interrupted)`` runs after each finished job and once at the end (write the
    summary there); ``on_finish(result)`` after each finished job (progress). On Ctrl-C the results
    are completed as interrupted/cancelled, ``on_change`` runs, and KeyboardInterrupt is re-raised.
    """
    results = {
        job.key: TrialResult(key=job.key, index=job.index, overrides=job.overrides, folder=str(job.folder))
        for job in jobs
    }
    ordered = [results[job.key] for job in jobs]
    pending = deque(jobs)
    running: dict[str, ChildRun] = {}
    interrupted = False
    with sigterm_as_interrupt():
        try:
            while pending or running:
                while pending and len(running) < max(1, workers):
                    job = pending.popleft()
                    child = start_child(job.key, job.manifest, job.folder, controls=controls)
                    running[job.key] = child
                    results[job.key].pid = child.pid
                    results[job.key].status = "running"
                for key, child in list(running.items()):
                    if child.poll() is None and timeout_s is not None and child.seconds > timeout_s:
                        stop_children([child], grace_s=min(grace_s, 5.0), reason="timeout")
                    if child.poll() is None:
                        continue
                    del running[key]
                    finish_trial(results[key], child)
                    if on_finish:
                        on_finish(results[key])
                    if on_change:
                        on_change(ordered, False)
                time.sleep(poll_s)
        except KeyboardInterrupt:
            interrupted = True
            try:
                stop_children(list(running.values()), grace_s=grace_s)
            finally:
                for key, child in running.items():
                    finish_trial(results[key], child)
                for job in pending:
                    results[job.key].status = "cancelled"
            raise
        finally:
            if on_change:
                on_change(ordered, interrupted)
    return ordered


def finish_trial(result: TrialResult, child: ChildRun) -> None:
    """Record how ``child`` (exited or stopped) ended in ``result``: time, exit code, its outcome, or why it failed."""
    child.poll()
    result.seconds = round(child.seconds, 3)
    result.returncode = child.process.returncode
    outcome = child.outcome()
    TrialResult.from_outcome(result, outcome)
    if child.stop_reason:
        result.status = child.stop_reason
        result.error = result.error or f"stopped ({child.stop_reason}) after {child.seconds:.1f} s"
    elif outcome is None or result.returncode not in (0, None):
        result.status = "failed"
        line = child.error_line()
        result.error = f"exit code {result.returncode}" + (f": {line}" if line else "")
