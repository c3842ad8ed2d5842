"""The ``ray`` backend: each run is a child ``tradecore run`` inside a Ray Tune trial (sweeps) or a Ray task (single
runs), with per-trial CPU/GPU resources, a concurrency limit, retries and the trial folder as its checkpoint.

Trials report every validation score the trainer writes while it trains (``training.csv`` in the run folder,
one row per evaluation: SB3's validation callback) to Tune, so a scheduler set in the params (ASHA, median
stopping) can stop bad trials early; the final report carries the sweep metric and the checkpoint.

A local Ray is started small (dashboard off, bounded object store; ``local_mode`` is gone in Ray 2.60) unless
``address`` names an existing cluster. Trial folders must be on storage every node sees when on a cluster.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tradecore.api import ComputeBackend, RunOutcome, RunRequest, SweepingBackend, SweepOptions, TrialResult

if TYPE_CHECKING:
    from tradecore.api import SweepPlan

TRIAL_FILE = "trial.json"
CURVE_FILE = "training.csv"  # written by the trainer during training: timesteps, validation_score, ...


class CurveTail:
    """New rows of the run's ``training.csv`` (the child's run folder lies somewhere under the trial folder)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path: Path | None = None
        self.offset = 0
        self.header: list[str] | None = None

    def rows(self) -> list[dict[str, float]]:
        if self.path is None:
            found = sorted(self.folder.glob(f"*/{CURVE_FILE}")) or sorted(self.folder.glob(f"*/*/{CURVE_FILE}"))
            if not found:
                return []
            self.path = found[0]
        try:
            with self.path.open("rb") as fh:
                fh.seek(self.offset)
                chunk = fh.read()
        except OSError:
            return []
        complete = chunk[: chunk.rfind(b"\n") + 1]  # a row still being written waits for the next poll
        self.offset += len(complete)
        rows = []
        for line in complete.decode("utf-8", errors="replace").splitlines():
            cells = [c.strip() for c in line.split(",")]
            if self.header is None:
                self.header = cells
                continue
            row = {}
            for name, cell in zip(self.header, cells, strict=False):
                try:
                    row[name] = float(cell)
                except ValueError:
                    continue
            if "validation_score" in row and "timesteps" in row:
                rows.append(row)
        return rows


def run_job(job: dict[str, Any], on_poll: Any = None) -> dict[str, Any]:
    """Run one job in a child process and return its TrialResult as a dict (also written to ``trial.json``)."""
    from tradecore.api import finish_trial, start_child, stop_children

    folder = Path(job["folder"])
    result = TrialResult(key=job["key"], index=job["index"], overrides=job["overrides"], folder=str(folder))
    child = start_child(
        job["key"],
        job["manifest"],
        folder,
        controls=job.get("controls"),
        runs_dir=Path(job["runs_dir"]) if job.get("runs_dir") else None,
    )
    result.pid = child.pid
    try:
        while child.poll() is None:
            if on_poll is not None:
                on_poll()
            time.sleep(0.05)
        if on_poll is not None:
            on_poll()  # rows written just before the child exited
    except BaseException:  # Ray cancels a trial by raising inside it: never leave the child behind
        stop_children([child], grace_s=job.get("grace_s", 10.0))
        raise
    finish_trial(result, child)
    data = result.as_dict()
    (folder / TRIAL_FILE).write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
    return data


def tune_trial(config: dict[str, Any]) -> None:
    """Tune trainable: run the job, report each validation score while it trains (schedulers may stop the
    trial there), then report the sweep metric and keep the trial folder as the checkpoint."""
    from ray import tune

    from tradecore.api import metric_value

    job = config["job"]
    tail = CurveTail(Path(job["folder"]))
    last: dict[str, float] = {}

    def report_progress() -> None:
        for row in tail.rows():
            last.update(row)
            tune.report({"trial_key": job["key"], **row})  # a scheduler's STOP ends the trial here

    data = run_job(job, on_poll=report_progress)
    value = metric_value(TrialResult(**data), job.get("metric"))
    report = {
        "trial_key": data["key"],
        "ok": data["status"] == "done",
        "status": data["status"],
        "objective": value if value is not None else float("nan"),
        "timesteps": last.get("timesteps", 0.0),
        "validation_score": last.get("validation_score", float("nan")),
    }
    tune.report(report, checkpoint=tune.Checkpoint.from_directory(job["folder"]))


def make_scheduler(params: Any) -> Any:
    """The Tune scheduler named in the backend params (None: every trial runs to the end)."""
    if params is None:
        return None
    from ray.tune.schedulers import ASHAScheduler, MedianStoppingRule

    common = {"time_attr": params.time_attr, "metric": params.metric, "mode": params.mode}
    if params.type == "asha":
        return ASHAScheduler(
            **common,
            grace_period=params.grace_period,
            reduction_factor=params.reduction_factor,
            max_t=params.max_t or 2**40,  # ASHA stops trials at max_t: by default never cut a run short
        )
    return MedianStoppingRule(
        **common,
        grace_period=params.grace_period,
        min_samples_required=params.min_samples_required,
        hard_stop=True,
    )


class RayBackend(ComputeBackend, SweepingBackend):
    def __init__(self, params: Any) -> None:
        self.params = params

    def _init(self) -> bool:
        """Connect to the cluster or start a small local Ray; True when this call started it."""
        import ray

        if ray.is_initialized():
            return False
        p = self.params
        if p.address:
            ray.init(address=p.address, include_dashboard=False, log_to_driver=False)
        else:
            ray.init(
                num_cpus=p.num_cpus,
                object_store_memory=p.object_store_mb * 1024 * 1024,
                include_dashboard=False,
                log_to_driver=False,
            )
        return True

    def submit(self, request: RunRequest) -> RunOutcome:
        """One run as a Ray task with the trial resources."""
        import ray

        from tradecore.api import TradecoreError, child_manifest, default_runs_root, unique_folder

        runs_root = (request.runs_root or default_runs_root()).resolve()
        name = request.resolved.manifest.name
        folder = unique_folder(runs_root / "ray", name)
        job = {
            "key": name,
            "index": 0,
            "overrides": {},
            "manifest": child_manifest(request.resolved),
            "folder": str(folder),
            "runs_dir": str(runs_root),
            "controls": request.runtime.controls if request.runtime else None,
        }
        started = self._init()
        try:
            task = ray.remote(
                num_cpus=self.params.cpus_per_trial,
                num_gpus=self.params.gpus_per_trial,
                max_retries=self.params.max_failures,
            )(run_job)
            data = ray.get(task.remote(job))
        finally:
            if started:
                ray.shutdown()
        if data["status"] not in ("done", "incomplete"):
            raise TradecoreError(
                f"run {name!r} {data['status']} on Ray: {data.get('error') or ''}; log: {folder / 'run.log'}"
            )
        return RunOutcome.from_dict(data)  # the trial carries the child's stages, run folder and metrics

    def sweep(self, plan: SweepPlan, options: SweepOptions) -> dict[str, Any]:
        """Every trial of ``plan`` as a Tune trial, ``workers`` at a time; returns the sweep summary."""
        from tradecore.api import summary_dict, unique_folder, write_summary

        options = options.with_defaults(plan.config)
        folder = unique_folder(options.runs_root.resolve() / "sweeps", plan.name)
        jobs = [self._trial_job(trial, folder, options) for trial in plan.trials]
        options.echo(f"sweep {plan.name!r}: {len(jobs)} Ray Tune trial(s), {options.workers} at a time, in {folder}")
        started = self._init()
        interrupted = False
        reports: dict[str, tuple[dict[str, Any], Any]] = {}
        try:
            reports = self._fit(jobs, folder, options.workers)
        except KeyboardInterrupt:
            interrupted = True
            raise
        finally:
            results = [self._trial_result(job, *reports.get(job["key"], ({}, None)), interrupted) for job in jobs]
            summary = summary_dict(
                plan.name, folder, plan.paths, results, options.metric, options.mode, interrupted=interrupted
            )
            write_summary(folder, summary)
            if started:
                import ray

                ray.shutdown()
        return summary

    def _trial_job(self, trial: Any, folder: Path, options: SweepOptions) -> dict[str, Any]:
        """What a Tune trial needs to run one trial of the plan as a child ``tradecore run``."""
        from tradecore.api import child_manifest

        return {
            "key": trial.key,
            "index": trial.index,
            "overrides": trial.overrides,
            "manifest": child_manifest(trial.resolved),
            "folder": str(folder / trial.key),
            "metric": options.metric,
            "controls": options.controls,
            "grace_s": options.grace_s if options.grace_s is not None else 10.0,
        }

    def _fit(self, jobs: list[dict[str, Any]], folder: Path, workers: int) -> dict[str, tuple[dict[str, Any], Any]]:
        """Run ``jobs`` as one Tune grid; trial key -> (its last reported metrics, its error or None)."""
        import contextlib
        import sys

        from ray import tune

        trainable = tune.with_resources(
            tune_trial, {"cpu": self.params.cpus_per_trial, "gpu": self.params.gpus_per_trial}
        )
        tuner = tune.Tuner(
            trainable,
            param_space={"job": tune.grid_search(jobs)},
            tune_config=tune.TuneConfig(max_concurrent_trials=workers, scheduler=make_scheduler(self.params.scheduler)),
            run_config=tune.RunConfig(
                name="tune",
                storage_path=self.params.storage_path or str(folder / "ray"),
                verbose=0,
                failure_config=tune.FailureConfig(max_failures=self.params.max_failures),
                checkpoint_config=tune.CheckpointConfig(num_to_keep=1),
            ),
        )
        with contextlib.redirect_stdout(sys.stderr):  # Tune's tables would corrupt `--json` on stdout
            grid = tuner.fit()
        return {r.config["job"]["key"]: (r.metrics or {}, r.error) for r in grid if r.config}

    def _trial_result(self, job: dict[str, Any], metrics: dict[str, Any], error: Any, interrupted: bool) -> TrialResult:
        """The trial as its child recorded it (``trial.json``), as the scheduler stopped it, or as lost."""
        path = Path(job["folder"]) / TRIAL_FILE
        if path.is_file():
            return TrialResult(**json.loads(path.read_text(encoding="utf-8")))
        if error is None and "validation_score" in metrics and "objective" not in metrics:
            return self._stopped(job, metrics)
        return TrialResult(
            key=job["key"],
            index=job["index"],
            overrides=job["overrides"],
            folder=job["folder"],
            status="interrupted" if interrupted else "failed",
            error="the Ray trial ended without a result; see the Tune logs",
        )

    def _stopped(self, job: dict[str, Any], metrics: dict[str, Any]) -> TrialResult:
        """A trial the scheduler stopped: its last validation score, and the partial run folder it left."""
        folder = Path(job["folder"])
        run_dirs = [p.parent for p in folder.glob(f"*/{CURVE_FILE}")]
        scheduler = self.params.scheduler
        return TrialResult(
            key=job["key"],
            index=job["index"],
            overrides=job["overrides"],
            folder=job["folder"],
            run_dir=str(run_dirs[0]) if run_dirs else None,
            status="stopped",
            seconds=round(float(metrics.get("time_total_s") or 0.0), 3),
            error=(
                f"stopped early by the {scheduler.type} scheduler at {int(metrics.get('timesteps', 0)):,} steps "
                f"(validation score {metrics.get('validation_score'):.4g})"
            ),
        )
