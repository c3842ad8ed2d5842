"""The ``ray`` backend: each run is a child ``tradecore run`` inside a Ray Tune trial (sweeps) or a Ray task (single
runs), with per-trial CPU/GPU resources, a concurrency limit, retries and the trial folder as its checkpoint.

A local Ray is started small (dashboard off, bounded object store; ``local_mode`` is gone in Ray 2.60) unless
``address`` names an existing cluster. Trial folders must be on storage every node sees when on a cluster.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from tradecore.interfaces import ComputeBackend

TRIAL_FILE = "trial.json"


def run_job(job: dict[str, Any]) -> dict[str, Any]:
    """Run one job in a child process and return its TrialResult as a dict (also written to ``trial.json``)."""
    from tradecore.compute.child import start_child, stop_children
    from tradecore.compute.executor import _finish
    from tradecore.compute.summary import TrialResult

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
            time.sleep(0.05)
    except BaseException:  # Ray cancels a trial by raising inside it: never leave the child behind
        stop_children([child], grace_s=job.get("grace_s", 10.0))
        raise
    _finish(result, child)
    data = result.as_dict()
    (folder / TRIAL_FILE).write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
    return data


def tune_trial(config: dict[str, Any]) -> None:
    """Tune trainable: run the job, report its metric, keep the trial folder as the checkpoint."""
    from ray import tune

    from tradecore.compute.summary import TrialResult, metric_value

    job = config["job"]
    data = run_job(job)
    value = metric_value(TrialResult(**data), job.get("metric"))
    report = {
        "trial_key": data["key"],
        "ok": data["status"] == "done",
        "status": data["status"],
        "objective": value if value is not None else float("nan"),
    }
    tune.report(report, checkpoint=tune.Checkpoint.from_directory(job["folder"]))


class RayBackend(ComputeBackend):
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

    def submit(self, request: Any) -> Any:
        """One run as a Ray task with the trial resources."""
        import ray

        from tradecore.compute.child import child_manifest
        from tradecore.compute.local_sweep import unique_folder
        from tradecore.errors import TradecoreError
        from tradecore.paths import default_runs_root
        from tradecore.runs.pipeline import RunOutcome, StageReport

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
        stages = [
            StageReport(s["stage"], s["status"], s.get("seconds", 0.0), s.get("detail", "")) for s in data["stages"]
        ]
        return RunOutcome(
            stages=stages, run_dir=Path(data["run_dir"]) if data.get("run_dir") else None, metrics=data.get("metrics")
        )

    def sweep(self, plan: Any, options: Any) -> dict[str, Any]:
        """Every trial of ``plan`` as a Tune trial, ``workers`` at a time; returns the sweep summary."""
        from ray import tune

        from tradecore.compute.child import child_manifest
        from tradecore.compute.local_sweep import unique_folder
        from tradecore.compute.summary import TrialResult, summary_dict, write_summary

        config = plan.config
        workers = options.workers or config.workers
        metric = options.metric if options.metric is not None else config.metric
        mode = options.mode or config.mode
        folder = unique_folder(options.runs_root.resolve() / "sweeps", plan.name)
        jobs = [
            {
                "key": t.key,
                "index": t.index,
                "overrides": t.overrides,
                "manifest": child_manifest(t.resolved),
                "folder": str(folder / t.key),
                "metric": metric,
                "controls": options.controls,
                "grace_s": options.grace_s if options.grace_s is not None else 10.0,
            }
            for t in plan.trials
        ]
        options.echo(f"sweep {plan.name!r}: {len(jobs)} Ray Tune trial(s), {workers} at a time, in {folder}")
        started = self._init()
        interrupted = False
        try:
            trainable = tune.with_resources(
                tune_trial, {"cpu": self.params.cpus_per_trial, "gpu": self.params.gpus_per_trial}
            )
            tuner = tune.Tuner(
                trainable,
                param_space={"job": tune.grid_search(jobs)},
                tune_config=tune.TuneConfig(max_concurrent_trials=workers),
                run_config=tune.RunConfig(
                    name="tune",
                    storage_path=self.params.storage_path or str(folder / "ray"),
                    verbose=0,
                    failure_config=tune.FailureConfig(max_failures=self.params.max_failures),
                    checkpoint_config=tune.CheckpointConfig(num_to_keep=1),
                ),
            )
            import contextlib
            import sys

            with contextlib.redirect_stdout(sys.stderr):  # Tune's tables would corrupt `--json` on stdout
                tuner.fit()
        except KeyboardInterrupt:
            interrupted = True
            raise
        finally:
            results = []
            for job in jobs:
                path = Path(job["folder"]) / TRIAL_FILE
                if path.is_file():
                    results.append(TrialResult(**json.loads(path.read_text(encoding="utf-8"))))
                else:
                    results.append(
                        TrialResult(
                            key=job["key"],
                            index=job["index"],
                            overrides=job["overrides"],
                            folder=job["folder"],
                            status="interrupted" if interrupted else "failed",
                            error="the Ray trial ended without a result; see the Tune logs",
                        )
                    )
            summary = summary_dict(plan.name, folder, plan.paths, results, metric, mode, interrupted=interrupted)
            write_summary(folder, summary)
            if started:
                import ray

                ray.shutdown()
        return summary
