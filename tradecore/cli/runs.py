"""``tradecore runs list|show|compare``, ``tradecore eval RUN --data ...`` and ``tradecore report RUN``."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from tradecore.cli import get_runtime

RUNS_DIR_OPTION = click.option(
    "--runs-dir", type=click.Path(file_okay=False), default=None, help="Runs root (default ./runs or TRADECORE_RUNS)."
)
JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="Print JSON.")
LIST_COLUMNS = [
    "run",
    "status",
    "algo",
    "timesteps",
    "data",
    "timeframe",
    "test_return",
    "test_sharpe",
    "beat_all_baselines",
]


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:+.4f}"
    if value is None:
        return "-"
    return str(value)


def _root(runs_dir: str | None) -> Path | None:
    return Path(runs_dir) if runs_dir else None


@click.group()
def runs() -> None:
    """Inspect and compare run folders."""


@runs.command("list")
@RUNS_DIR_OPTION
@JSON_OPTION
def list_command(runs_dir: str | None, as_json: bool) -> None:
    """List every run under the runs root, oldest first."""
    from tradecore.runs.folder import list_runs
    from tradecore.tables import render_table

    rows = list_runs(_root(runs_dir))
    if as_json:
        click.echo(json.dumps(rows, indent=2, default=str))
        return
    if not rows:
        click.echo("no runs yet; start one with `tradecore run MANIFEST`")
        return
    click.echo(render_table(LIST_COLUMNS, [[_cell(r.get(c)) for c in LIST_COLUMNS] for r in rows]))


@runs.command("show")
@click.argument("run")
@RUNS_DIR_OPTION
@JSON_OPTION
def show(run: str, runs_dir: str | None, as_json: bool) -> None:
    """Show one run: record, data, trainer result and test metrics."""
    from tradecore.runs import folder as rf
    from tradecore.runs.compare import SUMMARY_HEADERS, summary_notes, summary_rows
    from tradecore.tables import render_table

    run_dir = rf.resolve_run_dir(run, _root(runs_dir))
    rf.require_files(run_dir)
    record = rf.read_json(run_dir / rf.RUN_FILE)
    metrics = rf.read_json(run_dir / rf.METRICS_FILE) if (run_dir / rf.METRICS_FILE).is_file() else None
    if as_json:
        click.echo(json.dumps({"path": str(run_dir), "run": record, "metrics": metrics}, indent=2, default=str))
        return
    data = record.get("data") or {}
    click.echo(f"run       {run_dir}")
    status = rf.run_status(record)
    if status != record.get("status"):
        status += f" (its process {record['owner']['pid']} is gone; resume with: tradecore run --resume {run_dir})"
    click.echo(f"status    {status}   created {record.get('created')}   seed {record.get('seed')}")
    click.echo(
        f"data      {json.dumps(data.get('source'), default=str)}  {data.get('rows', 0):,} rows "
        f"{data.get('first')} .. {data.get('last')}  sha256 {str(data.get('sha256'))[:16]}"
    )
    click.echo(f"trainer   {json.dumps(record.get('trainer'), default=str)}")
    click.echo(f"plugins   {', '.join(f'{k} {v}' for k, v in (record.get('plugins') or {}).items())}")
    for stage in record.get("stages", []):
        click.echo(f"  [{stage['stage']}] {stage['status']} {stage['seconds']:.1f}s {stage.get('detail', '')}")
    if metrics:
        click.echo(render_table(SUMMARY_HEADERS, summary_rows(metrics)))
        for line in summary_notes(metrics):
            click.echo(line)
        if metrics.get("verdict"):
            click.echo(metrics["verdict"]["summary"])
    if (run_dir / rf.REPORT_FILE).is_file():
        click.echo(f"report    {run_dir / rf.REPORT_FILE}")


COMPARE_METRICS = ["total_return", "annualised_return", "sharpe", "sortino", "max_drawdown", "trades", "fees_paid"]


@runs.command("compare")
@click.argument("run_refs", nargs=-1, required=True, metavar="RUN...")
@RUNS_DIR_OPTION
@JSON_OPTION
def compare(run_refs: tuple[str, ...], runs_dir: str | None, as_json: bool) -> None:
    """Compare the test metrics of several runs side by side."""
    from tradecore.runs import folder as rf
    from tradecore.tables import render_table

    rows = []
    for ref in run_refs:
        run_dir = rf.resolve_run_dir(ref, _root(runs_dir))
        rf.require_files(run_dir, rf.METRICS_FILE)
        record = rf.read_json(run_dir / rf.RUN_FILE)
        metrics = rf.read_json(run_dir / rf.METRICS_FILE)
        agent = metrics.get("agent") or {}
        row = {
            "run": run_dir.name,
            "algo": (record.get("trainer") or {}).get("algo"),
            "timesteps": (record.get("trainer") or {}).get("timesteps"),
            "seed": record.get("seed"),
            **{k: agent.get(k) for k in COMPARE_METRICS},
            "buy_and_hold_return": ((metrics.get("baselines") or {}).get("buy_and_hold") or {}).get("total_return"),
            "beat_all_baselines": (metrics.get("verdict") or {}).get("beat_all"),
        }
        rows.append(row)
    if as_json:
        click.echo(json.dumps(rows, indent=2, default=str))
        return
    headers = list(rows[0])
    click.echo(render_table(headers, [[_cell(r[h]) for h in headers] for r in rows]))


@click.command("eval")
@click.argument("run")
@click.option(
    "--data",
    "data",
    default=None,
    metavar="MANIFEST|JSON",
    help="Other data: a manifest file whose source is used, or a source as inline JSON "
    '(\'{"type": "synthetic", "params": {...}}\'). Default: the run\'s own data.',
)
@click.option(
    "--split",
    type=click.Choice(["test", "validation", "train", "all"]),
    default=None,
    help="Bars to evaluate on (default: test for the run's own data, all for --data).",
)
@click.option(
    "--model",
    "model_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="A model file to evaluate instead of the run's best model.",
)
@click.option(
    "--trust-model",
    is_flag=True,
    help="Allow loading a model from outside your run folders (SB3 models are pickles: loading runs code).",
)
@click.option("--segments", type=int, default=None, help="Evaluate in N segments side by side (1 = exact).")
@RUNS_DIR_OPTION
@JSON_OPTION
@click.pass_context
def evaluate(
    ctx: click.Context,
    run: str,
    data: str | None,
    split: str | None,
    model_path: str | None,
    trust_model: bool,
    segments: int | None,
    runs_dir: str | None,
    as_json: bool,
) -> None:
    """Evaluate RUN's policy deterministically against the baselines, on its test split or other data."""
    from tradecore.runs.evaluation_cli import evaluate_run

    runtime = get_runtime(ctx)
    result = evaluate_run(
        runtime,
        run,
        data=data,
        split=split,
        model_path=model_path,
        trust_model=trust_model,
        segments=segments,
        runs_root=_root(runs_dir),
        echo=(lambda s: click.echo(s, err=True)) if as_json else click.echo,
    )
    if as_json:
        click.echo(json.dumps(result, indent=2, default=str))


@click.command("report")
@click.argument("run")
@RUNS_DIR_OPTION
def report(run: str, runs_dir: str | None) -> None:
    """Regenerate RUN's report.html and plots from what the run folder recorded."""
    from tradecore.runs import folder as rf
    from tradecore.runs.report import render_report

    run_dir = rf.resolve_run_dir(run, _root(runs_dir))
    rf.require_files(run_dir)
    metrics = rf.read_json(run_dir / rf.METRICS_FILE) if (run_dir / rf.METRICS_FILE).is_file() else {}
    started = datetime.now(UTC)
    path = render_report(run_dir, metrics.get("split", "test"))
    seconds = (datetime.now(UTC) - started).total_seconds()
    click.echo(f"report {path} ({seconds:.1f}s)")
