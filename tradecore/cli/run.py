"""``tradecore run``: resolve a manifest and hand it to its backend; ``--resume RUN`` continues a stopped run;
``--seeds 5`` runs it once per seed and summarises across the seeds (:mod:`tradecore.runs.seeds`)."""

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
    help="Where run folders go (default ./runs or TRADECORE_RUNS).",
)
@click.option(
    "--resume",
    "resume",
    metavar="RUN",
    default=None,
    help="Continue a stopped run (folder path or name) from its latest checkpoint.",
)
@click.option("--archive", is_flag=True, help="Also pack the finished run folder into RUN.tar.gz.")
@click.option(
    "--seeds",
    metavar="N|S1,S2,...",
    default=None,
    help="Run once per seed: N seeds from the manifest's seed up, or the listed seeds; then report mean, IQM "
    "and bootstrap 95%% CIs across them.",
)
@click.option("--workers", type=click.IntRange(1, 1024), default=None, help="With --seeds: runs at once (default 1).")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome (with --seeds: the seeds summary) as JSON.")
@click.pass_context
def run(
    ctx: click.Context,
    manifest: str | None,
    runs_dir: str | None,
    resume: str | None,
    archive: bool,
    seeds: str | None,
    workers: int | None,
    as_json: bool,
) -> None:
    """Run the experiment in MANIFEST on its backend (or resume one with --resume RUN)."""
    from tradecore.runs import folder as rf

    runtime = get_runtime(ctx)
    if seeds is not None or workers is not None:
        if seeds is None:
            raise click.UsageError("--workers goes with --seeds (runs at once); for a sweep use tradecore sweep")
        if resume or archive or not manifest:
            raise click.UsageError(
                "--seeds runs a MANIFEST several times; it does not combine with --resume or --archive"
            )
        run_seeds(runtime, manifest, seeds, workers, runs_dir, as_json)
        return
    echo = (lambda line: click.echo(line, err=True)) if as_json else click.echo
    runs_root = Path(runs_dir) if runs_dir else None
    resume_dir = None
    if resume:
        if manifest:
            raise click.UsageError("give either MANIFEST or --resume RUN, not both")
        resume_dir = rf.resolve_run_dir(resume, runs_root)
        rf.require_files(resume_dir, rf.INPUT_MANIFEST_FILE)
        data = rf.read_json(resume_dir / rf.INPUT_MANIFEST_FILE)
        target: object = data
    elif manifest:
        target = manifest
    else:
        raise click.UsageError("missing MANIFEST (or --resume RUN)")
    outcome = runtime.run(target, runs_root=runs_root, resume=resume_dir, progress=sys.stderr.isatty(), echo=echo)
    archived = None
    if archive and outcome.run_dir is not None:
        archived = rf.archive_run(outcome.run_dir)
        echo(f"archive: {archived}")
    if as_json:
        data = outcome.as_dict()
        data["archive"] = str(archived) if archived else None
        click.echo(json.dumps(data, indent=2, default=str))
    elif not outcome.complete:
        missing = [s.name for s in outcome.stages if s.status != "done"]
        click.echo(f"run stopped early: stage(s) {', '.join(missing)} did not complete")


def run_seeds(
    runtime, manifest: str, seeds_text: str, workers: int | None, runs_dir: str | None, as_json: bool
) -> None:
    """The manifest once per seed on its backend's sweep machinery, then the summary across seeds."""
    from tradecore.compute.sweeping import SweepingBackend, SweepOptions
    from tradecore.manifest import read_manifest_file
    from tradecore.paths import default_runs_root
    from tradecore.runs.seeds import plan_seeds, render_seeds, seeds_summary, write_seeds_summary
    from tradecore.runs.seeds_report import render_seeds_report

    plan, seeds, chosen = plan_seeds(read_manifest_file(manifest), runtime.registry, seeds_text, workers=workers)
    backend = plan.base.backend.build()
    if not isinstance(backend, SweepingBackend):
        raise click.ClickException(
            f"backend {plan.base.backend.spec.name!r} cannot run several seeds; use backend 'local' or 'ray'"
        )
    echo = (lambda line: click.echo(line, err=True)) if as_json else click.echo
    echo(f"seeds {', '.join(map(str, seeds))} ({chosen})")
    options = SweepOptions(
        runs_root=Path(runs_dir) if runs_dir else default_runs_root(),
        workers=workers,
        progress=sys.stderr.isatty(),
        controls=runtime.controls,
        echo=echo,
    )
    interrupted = False
    try:
        sweep = backend.sweep(plan, options)
    except KeyboardInterrupt:
        interrupted = True
        from tradecore.compute.summary import SUMMARY_FILE

        folders = sorted((options.runs_root / "sweeps").glob(f"{plan.name}-*/{SUMMARY_FILE}"))
        if not folders:
            raise
        sweep = json.loads(folders[-1].read_text(encoding="utf-8"))
    summary = seeds_summary(sweep, seeds, chosen)
    if summary["folder"]:
        folder = Path(summary["folder"])
        summary["report"] = str(render_seeds_report(folder, summary))
        write_seeds_summary(folder, summary)
    click.echo(json.dumps(summary, indent=2, default=str) if as_json else render_seeds(summary))
    if interrupted:
        click.echo("seeds interrupted: running runs stopped; the finished ones are summarised", err=True)
        sys.exit(130)
