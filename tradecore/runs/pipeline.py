"""The experiment pipeline a backend executes: data -> features -> env -> train -> evaluate -> report.

Each stage takes the run state and adds its plain, typed output; the run folder records every step
(``run.json`` is rewritten after each stage, so a crash or Ctrl-C leaves an honest record). Ctrl-C
during training saves a checkpoint (the trainer does), writes a partial report and says how to resume.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tradecore.errors import StageUnavailable, TradecoreError
from tradecore.interfaces import Candles, RunContext, RunOutcome, RunRequest, StageReport, Trainer, TrainResult
from tradecore.owner import current_owner
from tradecore.paths import resolve_lake_root
from tradecore.runs import folder as rf


@dataclass
class RunState:
    request: RunRequest
    ctx: RunContext
    record: dict[str, Any] = field(default_factory=dict)
    candles: Candles | None = None  # a portfolio's: its AlignedCandles
    experiment: Any = None
    trainer: Trainer | None = None
    trained: TrainResult | None = None
    outputs: dict[str, Any] = field(default_factory=dict)

    @property
    def run_dir(self) -> Path:
        assert self.ctx.run_dir is not None
        return self.ctx.run_dir

    def save_record(self) -> None:
        rf.write_json(self.run_dir / rf.RUN_FILE, self.record)


# -- stages -------------------------------------------------------------------------------------------
def stage_data(state: RunState) -> str:
    from tradecore.data.quality import assess, source_facts

    resolved = state.request.resolved
    if resolved.manifest.env.type == "portfolio":
        from tradecore.runs.portfolio_pipeline import stage_portfolio_data

        return stage_portfolio_data(state)
    source = resolved.source.build()
    frame = source.load(state.ctx)
    if frame.height == 0:
        raise TradecoreError(f"source {resolved.source.spec.name!r} returned no candles for the requested range")
    describe = source.describe()
    timeframe = describe.get("timeframe", "1m")
    assessed = assess(frame, describe, resolved.manifest.data, source_facts(source, describe))
    frame = assessed.frame
    if frame.height == 0:
        raise TradecoreError("data.slice: the source's candles hold nothing inside the slice; load its range")
    for line in assessed.warnings:
        state.ctx.log.warning(line)
        state.request.echo(f"[data] {line}")
    state.candles = Candles.from_frame(frame, timeframe)
    fingerprint = rf.data_fingerprint(describe, state.candles, {**assessed.record, **assessed.quality.as_dict()})
    recorded = state.record.get("data")
    if recorded and recorded.get("sha256") != fingerprint["sha256"]:
        raise TradecoreError(
            f"the data changed since this run started (content hash {recorded['sha256'][:12]} -> "
            f"{fingerprint['sha256'][:12]}); a resumed run needs the same candles: start a new run instead"
        )
    state.record["data"] = fingerprint
    state.outputs["data"] = describe
    holes = f"; {assessed.quality.summary()}" if assessed.quality.gap_count else ""
    return f"{frame.height:,} {timeframe} candles from {fingerprint['first']} to {fingerprint['last']}{holes}"


def stage_features(state: RunState) -> str:
    from tradecore.env.experiment import build_experiment

    assert state.candles is not None
    if state.request.resolved.manifest.env.type == "portfolio":
        from tradecore.runs.portfolio_pipeline import stage_portfolio_features

        return stage_portfolio_features(state)
    state.experiment = exp = build_experiment(state.request.resolved, state.candles, state.ctx)
    state.record["splits"] = {
        name: {
            "start": r.start,
            "stop": r.stop,
            "bars": len(r),
            "first": rf.data_fingerprint({}, exp.candles(name))["first"] if len(r) else None,
            "last": rf.data_fingerprint({}, exp.candles(name))["last"] if len(r) else None,
        }
        for name, r in exp.splits.items()
    }
    state.record["embargo"] = {"bars": exp.embargo, "from": exp.embargo_reason, "feature_lookback": exp.first}
    parts = ", ".join(f"{n} {len(r):,}" for n, r in exp.splits.items())
    names = ", ".join(exp.feature_names[:6]) + (" ..." if len(exp.feature_names) > 6 else "")
    embargo = f"embargo {exp.embargo:,} bars ({exp.embargo_reason})"
    return f"{len(exp.feature_names)} features ({names}); bars: {parts}; {embargo}"


def stage_env(state: RunState) -> str:
    env = state.experiment.make_env("train")
    obs, _ = env.reset(seed=state.ctx.seed)
    shape = {k: tuple(v.shape) for k, v in obs.items()} if isinstance(obs, dict) else tuple(obs.shape)
    return f"observation {shape}, actions {env.action_space}"


def stage_train(state: RunState) -> str:
    resolved = state.request.resolved
    if resolved.trainer is None:
        state.record["trainer"] = None
        return "no trainer in the manifest: evaluating the baselines only"
    state.trainer = trainer = resolved.trainer.build()
    state.trained = result = trainer.train(state.experiment, state.ctx, resume=state.request.resume is not None)
    state.record["trainer"] = result.as_dict()
    stopped = " (early stop: no validation improvement)" if result.stopped_early else ""
    best = result.best_validation_return
    best_text = f", best validation return {best:+.2%} at {result.best_step:,} steps" if best is not None else ""
    return f"{result.algo} {result.timesteps:,} steps{best_text}{stopped}"


def stage_evaluate(state: RunState) -> str:
    from tradecore.runs.compare import judge, run_policies, save_rollouts

    exp = state.experiment
    split = "test" if "test" in exp.splits else ("validation" if "validation" in exp.splits else "train")
    agent = state.trainer.load_policy(state.run_dir, exp) if state.trainer is not None else None
    rollouts = run_policies(exp, split, agent, seed=state.ctx.seed)
    metrics = judge(rollouts, exp.timeframe, split=split, seed=state.ctx.seed)
    if state.trained is not None:
        metrics["evaluated_model"] = state.trained.evaluated_model
    save_rollouts(rollouts, state.run_dir / "evaluation" / f"{split}.npz")
    rf.write_json(state.run_dir / rf.METRICS_FILE, metrics)
    state.outputs["metrics"] = metrics
    state.outputs["split"] = split
    verdict = (metrics.get("verdict") or {}).get("summary", "baselines only")
    return f"{metrics['bars']:,} {split} bars; {verdict}"


def stage_report(state: RunState) -> str:
    from tradecore.runs.report import render_report

    path = render_report(state.run_dir, state.outputs.get("split", "test"))
    return f"report {path}"


STAGES: list[tuple[str, Callable[[RunState], str]]] = [
    ("data", stage_data),
    ("features", stage_features),
    ("env", stage_env),
    ("train", stage_train),
    ("evaluate", stage_evaluate),
    ("report", stage_report),
]


# -- driver ---------------------------------------------------------------------------------------------
def _open_run(request: RunRequest) -> tuple[Path, dict[str, Any]]:
    resolved = request.resolved
    manifest = resolved.manifest
    if request.resume is not None:
        run_dir = rf.resolve_run_dir(request.resume, request.runs_root)
        rf.require_files(run_dir, rf.INPUT_MANIFEST_FILE)
        record = rf.read_json(run_dir / rf.RUN_FILE)
        if record.get("status") == "complete":
            raise TradecoreError(f"run {run_dir.name} is already complete; nothing to resume")
        if rf.run_status(record) == "running" and record.get("owner"):
            raise TradecoreError(
                f"run {run_dir.name} is still running (process {record['owner']['pid']}); "
                "stop it first (Ctrl-C or kill), then resume"
            )
        record.setdefault("resumed", []).append(datetime.now(UTC).isoformat())
        record.update(status="running", owner=current_owner())
        return run_dir, record
    run_dir = rf.create_run_dir(request.runs_root, manifest.name)
    rf.write_json(run_dir / rf.MANIFEST_FILE, resolved.as_dict())
    rf.write_json(
        run_dir / rf.INPUT_MANIFEST_FILE,
        manifest.model_dump(mode="json", by_alias=True, exclude_none=True, exclude={"schema_"}),
    )
    record = {
        "name": manifest.name,
        "created": datetime.now(UTC).isoformat(),
        "status": "running",
        "owner": current_owner(),
        "seed": manifest.seed,
        "command": sys.argv,
        "plugins": resolved.plugins,
        "environment": rf.environment_record(request.runtime.provenance(resolved) if request.runtime else None),
        "stages": [],
    }
    return run_dir, record


def execute(request: RunRequest) -> RunOutcome:
    """Run every stage in order, recording them in a run folder; stop at the first that is unavailable."""
    manifest = request.resolved.manifest
    run_dir, record = _open_run(request)
    log = logging.getLogger("tradecore.run")
    handler = logging.FileHandler(run_dir / "logs" / "run.log" if _mkdir(run_dir / "logs") else run_dir / "run.log")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    ctx = RunContext(
        lake_root=resolve_lake_root(manifest.lake),
        seed=manifest.seed,
        run_dir=run_dir,
        progress=request.progress,
        log=log,
    )
    state = RunState(request=request, ctx=ctx, record=record)
    reports: list[StageReport] = []

    def echo(line: str) -> None:
        log.info(line)
        request.echo(line)

    state.save_record()
    try:
        for name, stage in STAGES:
            started = time.perf_counter()
            try:
                detail = stage(state)
            except StageUnavailable as exc:
                reports.append(StageReport(name, "unavailable", time.perf_counter() - started, str(exc)))
                echo(f"[{name}] not available: {exc}")
                record["status"] = "incomplete"
                break
            except KeyboardInterrupt:
                reports.append(StageReport(name, "interrupted", time.perf_counter() - started))
                record["status"] = "interrupted"
                _interrupted(state, name, echo)
                raise
            except BaseException as exc:
                reports.append(StageReport(name, "failed", time.perf_counter() - started, str(exc)))
                record["status"] = "failed"
                record["error"] = f"{name}: {exc}"
                raise
            finally:
                record["stages"] = [r.as_dict() for r in reports]
                state.save_record()
            reports.append(StageReport(name, "done", time.perf_counter() - started, detail))
            record["stages"] = [r.as_dict() for r in reports]
            state.save_record()
            echo(f"[{name}] {detail}")
        else:
            record["status"] = "complete"
            state.save_record()
            _print_summary(state, echo)
    finally:
        log.removeHandler(handler)
        handler.close()
    return RunOutcome(stages=reports, run_dir=run_dir, metrics=state.outputs.get("metrics"))


def _mkdir(path: Path) -> bool:
    path.mkdir(parents=True, exist_ok=True)
    return True


def _interrupted(state: RunState, stage: str, echo: Callable[[str], None]) -> None:
    """Ctrl-C: leave a partial report and say how to continue (the trainer saved a checkpoint)."""
    from tradecore.runs.report import render_report

    note = f"interrupted during the {stage} stage"
    if stage == "train" and (state.run_dir / "checkpoints" / "latest.json").is_file():
        note += "; a checkpoint was saved"
    try:
        path = render_report(state.run_dir, partial_note=note + ".")
        echo(f"[{stage}] interrupted; partial report {path}")
    except Exception as exc:  # noqa: BLE001 - a failing partial report must not hide the interrupt
        echo(f"[{stage}] interrupted; partial report failed: {exc}")
    echo(f"resume with: tradecore run --resume {state.run_dir}")


def _print_summary(state: RunState, echo: Callable[[str], None]) -> None:
    from tradecore.runs.compare import SUMMARY_HEADERS, summary_notes, summary_rows
    from tradecore.tables import render_table

    metrics = state.outputs.get("metrics")
    if not metrics:
        return
    echo("")
    span = metrics["range"]
    echo(f"{metrics['split']} split: {metrics['bars']:,} bars, {span['first']} to {span['last']}")
    echo(render_table(SUMMARY_HEADERS, summary_rows(metrics)))
    for note in summary_notes(metrics):
        echo(note)
    if metrics.get("verdict"):
        echo(metrics["verdict"]["summary"])
    echo(f"report: {state.run_dir / rf.REPORT_FILE}")
