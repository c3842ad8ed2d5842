"""A worker process: ``python -m tradecore.service.worker JOB_ID --lake DIR`` runs one queued fetch job through
the same code path as ``tradecore data fetch`` (:mod:`tradecore.data.fetch_jobs`).

SIGINT (the server's cancel and shutdown) and SIGTERM stop it like Ctrl-C stops the CLI: the job is marked
interrupted at its last saved cursor, resumable from the web page or with ``tradecore data fetch --resume``.
Exit codes: 0 done, 1 failed, 3 the job was not pending (another process took it), 130 interrupted.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from typing import Any


def die_with_parent() -> None:
    """Ask Linux to send SIGTERM when the server that started this process dies (SIGKILL included), so no
    worker outlives its server unseen; its job is then marked interrupted like any stopped job."""
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return  # not Linux: the restarted server's orphan check still finds the job
    if os.getppid() == 1:  # the server died before the request took effect
        sys.exit(130)


def forward_term_as_interrupt() -> None:
    def forward(signum: int, frame: Any) -> None:
        signal.raise_signal(signal.SIGINT)

    signal.signal(signal.SIGTERM, forward)
    # a parent started in the background may hand down SIGINT ignored, and Python then installs no
    # KeyboardInterrupt handler: the cancel and shutdown paths rely on it
    signal.signal(signal.SIGINT, signal.default_int_handler)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tradecore.service.worker")
    parser.add_argument("job_id", type=int)
    parser.add_argument("--lake", required=True)
    args = parser.parse_args(argv)
    forward_term_as_interrupt()

    from tradecore.data.fetch_jobs import build_fetch_unit, fetch_job_with_progress
    from tradecore.data.jobs import JobStore
    from tradecore.data.lake import Lake
    from tradecore.owner import current_owner
    from tradecore.runtime import Runtime

    jobs = JobStore(args.lake)
    if not jobs.claim(args.job_id, current_owner()):
        return 3
    job = jobs.get(args.job_id)
    try:
        unit, _ = build_fetch_unit(Runtime.from_environment().registry, job.request["source"], job.request["params"])
        fetch_job_with_progress(unit, Lake(args.lake), jobs, job, job.request.get("label", f"job {job.id}"), quiet=True)
    except KeyboardInterrupt:
        if jobs.get(job.id).status == "running":  # stopped before the fetch began
            jobs.update(job.id, status="interrupted", message="interrupted before it started")
        return 130
    except Exception as exc:  # noqa: BLE001 -- recorded on the job (run_fetch_job did, or we do here) and exit 1
        from tradecore.plugins import one_line

        if jobs.get(job.id).status == "running":
            jobs.update(job.id, status="failed", error=one_line(exc))
        print(f"error: job {job.id}: {one_line(exc)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    die_with_parent()
    sys.exit(main())
