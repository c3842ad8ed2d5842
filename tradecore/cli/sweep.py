"""``tradecore sweep``: run a manifest's grid or random search and summarise it, naming the best run."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from tradecore.cli import get_runtime


@click.command()
@click.argument("manifest", type=click.Path(exists=True, dir_okay=False), required=False)
@click.option(
    "--runs-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Where the sweep folder goes (default ./runs or TRADECORE_RUNS); it lands in <runs>/sweeps/.",
)
@click.option("--workers", type=click.IntRange(1, 1024), default=None, help="Runs at once (overrides sweep.workers).")
@click.option(
    "--max-runs",
    type=click.IntRange(1, 100_000),
    default=None,
    help="Refuse sweeps larger than this (overrides sweep.max_runs).",
)
@click.option("--metric", default=None, help="Metric naming the best run, e.g. test.sharpe (overrides sweep.metric).")
@click.option("--mode", type=click.Choice(["max", "min"]), default=None, help="Best = largest or smallest metric.")
@click.option("--dry-run", is_flag=True, help="Show the runs the sweep would start, and start none.")
@click.option(
    "--show",
    "show_dir",
    type=click.Path(exists=True, file_okay=False),
    default=None,
    help="Print the summary of an earlier sweep folder instead (no MANIFEST needed).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the plan or summary as JSON.")
@click.pass_context
def sweep(
    ctx: click.Context,
    manifest: str | None,
    runs_dir: str | None,
    workers: int | None,
    max_runs: int | None,
    metric: str | None,
    mode: str | None,
    dry_run: bool,
    show_dir: str | None,
    as_json: bool,
) -> None:
    """Run every variant of MANIFEST that its "sweep" section names, in parallel, and summarise them."""
    from tradecore.compute.summary import SUMMARY_FILE, render_summary

    if show_dir:
        path = Path(show_dir) / SUMMARY_FILE
        try:
            summary = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise click.ClickException(f"cannot read {path}: {exc}; is {show_dir} a sweep folder?") from None
        click.echo(json.dumps(summary, indent=2) if as_json else render_summary(summary))
        return

    if manifest is None:
        raise click.UsageError("give a MANIFEST with a sweep section, or --show SWEEP_FOLDER")
    from tradecore.compute.sweep import plan_sweep
    from tradecore.manifest import read_manifest_file
    from tradecore.paths import default_runs_root

    runtime = get_runtime(ctx)
    plan = plan_sweep(read_manifest_file(manifest), runtime.registry, max_runs=max_runs, workers=workers)
    if dry_run:
        _print_plan(plan, as_json)
        return
    from tradecore.compute.sweeping import SweepingBackend, SweepOptions

    backend = plan.base.backend.build()
    if not isinstance(backend, SweepingBackend):
        raise click.ClickException(
            f"backend {plan.base.backend.spec.name!r} cannot run sweeps; use backend 'local' or 'ray'"
        )
    echo = (lambda line: click.echo(line, err=True)) if as_json else click.echo
    options = SweepOptions(
        runs_root=Path(runs_dir) if runs_dir else default_runs_root(),
        workers=workers,
        metric=metric,
        mode=mode,
        progress=sys.stderr.isatty(),
        controls=runtime.controls,
        echo=echo,
    )
    try:
        summary = backend.sweep(plan, options)
    except KeyboardInterrupt:
        click.echo("sweep interrupted: running children stopped; summary written", err=True)
        sys.exit(130)
    click.echo(json.dumps(summary, indent=2, default=str) if as_json else render_summary(summary))


def _print_plan(plan, as_json: bool) -> None:
    from tradecore.tables import render_table

    rows = [{"trial": t.key, "name": t.resolved.manifest.name, "overrides": t.overrides} for t in plan.trials]
    if as_json:
        click.echo(
            json.dumps(
                {
                    "name": plan.name,
                    "method": plan.config.method,
                    "runs": len(rows),
                    "workers": plan.config.workers,
                    "trials": rows,
                },
                indent=2,
                default=str,
            )
        )
        return
    click.echo(
        render_table(
            ["trial", *plan.paths], [[r["trial"], *[json.dumps(r["overrides"][p]) for p in plan.paths]] for r in rows]
        )
    )
    click.echo(
        f"{len(rows)} run(s), {plan.config.workers} at a time ({plan.config.method}); nothing started (--dry-run)"
    )
