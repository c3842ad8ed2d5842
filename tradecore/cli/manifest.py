"""``tradecore validate`` and ``tradecore schema``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from tradecore.cli import get_runtime

DEFAULT_SCHEMA_PATH = Path("configs/schema/manifest.schema.json")


@click.command()
@click.argument("manifest", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_context
def validate(ctx: click.Context, manifest: str, as_json: bool) -> None:
    """Check MANIFEST: the envelope, then every component's params. Exit 0 when valid."""
    from tradecore.errors import ManifestError
    from tradecore.manifest import read_manifest_file, resolve

    runtime = get_runtime(ctx)
    sweep_runs = None
    try:
        data = read_manifest_file(manifest)
        resolved = resolve(data, runtime.registry)
        if resolved.manifest.sweep is not None:  # sweep paths and every trial's values, too
            from tradecore.compute.sweep import plan_sweep

            sweep_runs = len(plan_sweep(data, runtime.registry).trials)
    except ManifestError as exc:
        if as_json:
            click.echo(json.dumps({"valid": False, "errors": [i.as_dict() for i in exc.issues]}, indent=2, default=str))
        else:
            for issue in exc.issues:
                click.echo(f"error: {issue.render()}", err=True)
            click.echo(f"{manifest}: {len(exc.issues)} error(s)", err=True)
        sys.exit(1)
    if as_json:
        click.echo(
            json.dumps({"valid": True, "sweep_runs": sweep_runs, "resolved": resolved.as_dict()}, indent=2, default=str)
        )
        return
    parts = [
        f"source {resolved.source.spec.name}",
        f"{len(resolved.indicators)} indicator(s)",
        f"{len(resolved.reward)} reward term(s)",
        f"trainer {resolved.trainer.spec.name if resolved.trainer else '-'}",
        f"backend {resolved.backend.spec.name}",
    ]
    if sweep_runs is not None:
        parts.append(f"sweep of {sweep_runs} runs")
    embargo, reason = _run_checks(manifest, resolved)
    parts.append(f"embargo {embargo:,} bars ({reason})")
    click.echo(f"ok: {manifest} is valid ({', '.join(parts)})")


def _run_checks(manifest: str, resolved) -> tuple[int, str]:
    """What a run would check before loading data (the slices file it names, the indicators it builds), and
    the embargo it would use."""
    from tradecore.env.experiment import manifest_embargo
    from tradecore.errors import TradecoreError

    try:
        if resolved.manifest.data.slice is not None:
            from tradecore.data.quality import load_slice

            load_slice(resolved.manifest.data.slice)
        return manifest_embargo(resolved)
    except TradecoreError as exc:
        click.echo(f"error: {exc}", err=True)
        click.echo(f"{manifest}: 1 error(s)", err=True)
        sys.exit(1)


@click.command()
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    default=None,
    help=f"Write the schema here (editors: {DEFAULT_SCHEMA_PATH}); default stdout.",
)
@click.option(
    "--check",
    is_flag=True,
    help=f"Exit 1 when --output (default {DEFAULT_SCHEMA_PATH}) differs from a fresh schema; writes nothing.",
)
@click.pass_context
def schema(ctx: click.Context, output: str | None, check: bool) -> None:
    """JSON Schema of the manifest with every installed component's params."""
    from tradecore.schema import dumps, manifest_schema

    text = dumps(manifest_schema(get_runtime(ctx).registry))
    if output is None and not check:
        click.echo(text, nl=False)
        return
    path = Path(output or DEFAULT_SCHEMA_PATH)
    if check:
        if not path.exists() or path.read_text() != text:
            state = "is out of date" if path.exists() else "does not exist"
            click.echo(f"{path} {state}; regenerate with: tradecore schema -o {path}", err=True)
            sys.exit(1)
        click.echo(f"{path} is up to date")
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    click.echo(f"wrote {path}")
