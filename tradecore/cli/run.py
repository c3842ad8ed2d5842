"""``tradecore run``: resolve a manifest and hand it to its backend; ``--resume RUN`` continues a stopped run."""

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
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
@click.pass_context
def run(
    ctx: click.Context, manifest: str | None, runs_dir: str | None, resume: str | None, archive: bool, as_json: bool
) -> None:
    """Run the experiment in MANIFEST on its backend (or resume one with --resume RUN)."""
    from tradecore.runs import folder as rf

    runtime = get_runtime(ctx)
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
