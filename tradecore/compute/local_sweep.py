"""Executing a planned sweep on this machine: one child process per trial, each in its own folder."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tradecore.compute.child import child_manifest
from tradecore.compute.executor import ChildJob, run_jobs
from tradecore.compute.summary import TrialResult, render_summary, summary_dict, write_summary

if TYPE_CHECKING:
    from tradecore.compute.sweep import SweepPlan
    from tradecore.plugins import PluginControls


@dataclass
class SweepOptions:
    """How to execute a sweep; ``None`` fields fall back to the manifest's ``sweep`` section."""

    runs_root: Path
    workers: int | None = None
    metric: str | None = None
    mode: str | None = None
    timeout_s: float | None = None
    grace_s: float | None = None
    progress: bool = False
    controls: PluginControls | None = None
    echo: Callable[[str], None] = print


def unique_folder(parent: Path, name: str) -> Path:
    """Create and return ``<parent>/<name>-<UTC time>``, never reusing a folder."""
    base = parent / f"{name}-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}"
    folder, n = base, 1
    while True:
        try:
            folder.mkdir(parents=True, exist_ok=False)
            return folder
        except FileExistsError:
            n += 1
            folder = base.with_name(f"{base.name}-{n}")


def run_local_sweep(plan: SweepPlan, options: SweepOptions, *, max_workers: int | None = None) -> dict[str, Any]:
    """Run every trial of ``plan`` in child processes; return the summary (also in ``sweep.json``).

    On Ctrl-C the summary is written with the trials marked interrupted/cancelled and KeyboardInterrupt
    propagates.
    """
    config = plan.config
    workers = options.workers or config.workers
    if max_workers:
        workers = min(workers, max_workers)
    metric = options.metric if options.metric is not None else config.metric
    mode = options.mode or config.mode
    folder = unique_folder(options.runs_root / "sweeps", plan.name)
    jobs = [
        ChildJob(
            key=t.key, index=t.index, overrides=t.overrides, manifest=child_manifest(t.resolved), folder=folder / t.key
        )
        for t in plan.trials
    ]
    options.echo(f"sweep {plan.name!r}: {len(jobs)} run(s), {workers} at a time, in {folder}")

    from tqdm import tqdm

    bar = tqdm(total=len(jobs), unit="run", disable=not options.progress, leave=False)
    state: dict[str, Any] = {}

    def on_change(results: list[TrialResult], interrupted: bool) -> None:
        state["summary"] = summary_dict(plan.name, folder, plan.paths, results, metric, mode, interrupted=interrupted)
        write_summary(folder, state["summary"])

    def on_finish(result: TrialResult) -> None:
        bar.update(1)
        if not options.progress:
            options.echo(
                f"  {result.key} {result.status} in {result.seconds:.1f} s"
                + (f": {result.error}" if result.status in ("failed", "timeout") else "")
            )

    try:
        run_jobs(
            jobs,
            workers=workers,
            controls=options.controls,
            timeout_s=options.timeout_s,
            grace_s=10.0 if options.grace_s is None else options.grace_s,
            on_change=on_change,
            on_finish=on_finish,
        )
    finally:
        bar.close()
    return state["summary"]


__all__ = ["SweepOptions", "render_summary", "run_local_sweep", "unique_folder"]
