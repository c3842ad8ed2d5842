"""Re-evaluating a finished run on its own test split or on other data (``tradecore eval``).

Results go to ``RUN/evals/<UTC timestamp>-<split>/`` (metrics.json, rollouts, report.html, eval.json
with the data fingerprint), never over the run's own metrics. Model files are pickles: a model from
outside the user's runs root is refused unless ``trust_model`` is set.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tradecore.errors import TradecoreError
from tradecore.interfaces import Candles, Policy, RunContext, Trainer
from tradecore.paths import default_runs_root, resolve_lake_root
from tradecore.runs import folder as rf

if TYPE_CHECKING:
    from tradecore.runtime import Runtime

PICKLE_WARNING = (
    "SB3 model files are pickles and loading one runs code from it; pass --trust-model only for files you trust"
)


def _source_override(data: str) -> dict[str, Any]:
    path = Path(data)
    if path.is_file():
        from tradecore.manifest import read_manifest_file

        parsed = read_manifest_file(path)
        source = parsed.get("source") if isinstance(parsed, dict) else None
        if not isinstance(source, dict):
            raise TradecoreError(f"--data {data}: the manifest has no source object")
        return source
    try:
        source = json.loads(data)
    except ValueError:
        raise TradecoreError(
            f'--data: {data!r} is neither a manifest file nor JSON like \'{{"type": "synthetic", "params": {{...}}}}\''
        ) from None
    if not isinstance(source, dict) or "type" not in source:
        raise TradecoreError('--data: a source needs a "type", e.g. \'{"type": "kraken", "params": {...}}\'')
    return source


def _check_long_enough(resolved: Any, candles: int, option: str) -> None:
    """Evaluating on a whole range needs the features' warm-up and one step of the env, nothing more."""
    from tradecore.env.experiment import feature_lookback, minimum_candles

    need = minimum_candles(resolved)
    if candles < need:
        window = resolved.manifest.env.window
        raise TradecoreError(
            f"{option}: {candles:,} candles are too few to evaluate on; this run needs at least {need:,} "
            f"({feature_lookback(resolved):,} of feature warm-up, then env.window={window} and one bar to fill at): "
            "give a longer range"
        )


def _experiment(
    resolved: Any, ctx: RunContext, whole: bool, option: str, echo: Callable[[str], None]
) -> tuple[Any, dict[str, Any]]:
    """The single-pair experiment on the manifest's source, and the fingerprint of its candles."""
    from tradecore.data.quality import assess, source_facts
    from tradecore.env.experiment import build_experiment

    source = resolved.source.build()
    frame = source.load(ctx)
    if frame.height == 0:
        raise TradecoreError("--data: the source returned no candles for its range")
    describe = source.describe()
    assessed = assess(frame, describe, resolved.manifest.data, source_facts(source, describe))
    for line in assessed.warnings:
        echo(line)
    candles = Candles.from_frame(assessed.frame, describe.get("timeframe", "1m"))
    if whole:
        _check_long_enough(resolved, len(candles), option)
    experiment = build_experiment(resolved, candles, ctx, whole=whole)
    return experiment, rf.data_fingerprint(describe, candles, {**assessed.record, **assessed.quality.as_dict()})


def _portfolio_experiment(resolved: Any, ctx: RunContext, whole: bool, option: str) -> tuple[Any, dict[str, Any]]:
    """The portfolio experiment on the manifest's symbols (aligned), and the fingerprint of the aligned data."""
    from tradecore.env.portfolio_experiment import build_portfolio_experiment, load_aligned
    from tradecore.runs.portfolio_pipeline import aligned_fingerprint

    aligned = load_aligned(resolved, ctx)
    if whole:
        _check_long_enough(resolved, len(aligned), option)
    experiment = build_portfolio_experiment(resolved, aligned, whole=whole)
    return experiment, aligned_fingerprint(aligned, resolved.source.spec.name)


def check_trusted(path: Path, runs_root: Path) -> None:
    if not rf.is_inside(path, runs_root):
        raise rf.RunFolderError(f"{path} is outside your run folders ({runs_root.resolve()}); {PICKLE_WARNING}")


def evaluate_run(
    runtime: Runtime,
    run: str,
    *,
    data: str | None = None,
    split: str | None = None,
    model_path: str | None = None,
    trust_model: bool = False,
    segments: int | None = None,
    runs_root: Path | None = None,
    echo: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Evaluate the policy of the finished ``run`` (a folder name, path or ``latest``) on its own ``split``, or
    on ``data`` (a manifest file or a source as JSON), as ``tradecore eval`` does; returns ``{"path": the
    evaluation folder, "metrics": its metrics}``. ``model_path`` evaluates another model file instead."""
    from tradecore.runs.compare import SUMMARY_HEADERS, judge, run_policies, save_rollouts, summary_notes, summary_rows
    from tradecore.runs.report import render_report
    from tradecore.tables import render_table

    root = runs_root or default_runs_root()
    run_dir = rf.resolve_run_dir(run, root)
    rf.require_files(run_dir, rf.INPUT_MANIFEST_FILE)
    if model_path is None:
        rf.require_files(run_dir, "model")
        if not trust_model:
            check_trusted(run_dir, root)
    elif not trust_model:
        check_trusted(Path(model_path), root)
    manifest = rf.read_json(run_dir / rf.INPUT_MANIFEST_FILE)
    if data is not None:
        manifest["source"] = _source_override(data)
        (manifest.get("data") or {}).pop("slice", None)  # the run's slice cuts the run's own series
    split = split or ("all" if data is not None else "test")
    resolved = runtime.resolve(manifest)
    if resolved.trainer is None:
        raise TradecoreError(f"run {run_dir.name} has no trainer: there is no policy to evaluate")
    ctx = RunContext(lake_root=resolve_lake_root(resolved.manifest.lake), seed=resolved.manifest.seed)
    whole = split == "all"
    option = "--data" if data is not None else "--split all"
    if resolved.manifest.env.type == "portfolio":
        experiment, fingerprint = _portfolio_experiment(resolved, ctx, whole, option)
    else:
        experiment, fingerprint = _experiment(resolved, ctx, whole, option, echo)
    if split not in experiment.splits:
        raise TradecoreError(f"--split {split}: this data has only {', '.join(experiment.splits)}")
    trainer: Trainer = resolved.trainer.build()
    if model_path is not None:
        policy: Policy = trainer.load_policy_file(Path(model_path), experiment)
    else:
        policy = trainer.load_policy(run_dir, experiment)
    rollouts = run_policies(experiment, split, policy, segments=segments, seed=resolved.manifest.seed)
    metrics = judge(rollouts, experiment.timeframe, split=split, seed=resolved.manifest.seed)
    out_dir = run_dir / "evals" / f"{rf.utc_stamp()}-{split}"
    out_dir.mkdir(parents=True, exist_ok=True)
    save_rollouts(rollouts, out_dir / "evaluation" / f"{split}.npz")
    rf.write_json(out_dir / rf.METRICS_FILE, metrics)
    rf.write_json(
        out_dir / "eval.json",
        {
            "run": run_dir.name,
            "split": split,
            "model": model_path or "run",
            "data": fingerprint,
        },
    )
    report = render_report(run_dir, split, output=out_dir)
    span = metrics["range"]
    echo(f"{split}: {metrics['bars']:,} bars, {span['first']} to {span['last']}")
    echo(render_table(SUMMARY_HEADERS, summary_rows(metrics)))
    for note in summary_notes(metrics):
        echo(note)
    echo(metrics["verdict"]["summary"])
    echo(f"report: {report}")
    return {"path": str(out_dir), "metrics": metrics}
