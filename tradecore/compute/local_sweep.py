"""Executing a planned sweep on this machine: one child process per trial, each in its own folder."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tradecore.compute.child import child_manifest, unique_folder
from tradecore.compute.executor import ChildJob, run_jobs
from tradecore.compute.summary import TrialResult, summary_dict, write_summary

if TYPE_CHECKING:
    from tradecore.compute.sweep import SweepPlan
    from tradecore.compute.sweeping import SweepOptions


def run_local_sweep(plan: SweepPlan, options: SweepOptions, *, max_workers: int | None = None) -> dict[str, Any]:
    """Run every trial of ``plan`` in child processes; return the summary (also in ``sweep.json``).

    On Ctrl-C the summary is written with the trials marked interrupted/cancelled and KeyboardInterrupt
    propagates.
    """
    options = options.with_defaults(plan.config)
    workers = min(options.workers, max_workers) if max_workers else options.workers
    metric, mode = options.metric, options.mode
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
