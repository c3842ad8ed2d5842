"""``tradecore run``: resolve a manifest and hand it to its backend."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from tradecore.cli import get_runtime


@click.command()
@click.argument("manifest", type=click.Path(dir_okay=False))
@click.option("--runs-dir", type=click.Path(file_okay=False), default=None,
              help="Where run folders go (default ./runs or TRADECORE_RUNS).")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
@click.pass_context
def run(ctx: click.Context, manifest: str, runs_dir: str | None, as_json: bool) -> None:
    """Run the experiment in MANIFEST on its backend."""
    runtime = get_runtime(ctx)
    echo = (lambda line: click.echo(line, err=True)) if as_json else click.echo
    outcome = runtime.run(manifest, runs_root=Path(runs_dir) if runs_dir else None,
                          progress=sys.stderr.isatty(), echo=echo)
    if as_json:
        click.echo(json.dumps(outcome.as_dict(), indent=2, default=str))
    elif not outcome.complete:
        missing = [s.name for s in outcome.stages if s.status != "done"]
        click.echo(f"run stopped early: stage(s) {', '.join(missing)} not available yet; nothing was trained")
