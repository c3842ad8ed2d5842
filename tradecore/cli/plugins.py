"""``tradecore plugins`` and ``tradecore components``: what is installed and what it provides."""

from __future__ import annotations

import json
import sys

import click

from tradecore.cli import get_runtime
from tradecore.kinds import KINDS
from tradecore.tables import render_table


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.option("--check", is_flag=True, help="Exit 1 when any plugin failed or two plugins clash.")
@click.option("--requirements", is_flag=True, help="Print name==version lines of the plugin distributions.")
@click.option("--tracebacks", is_flag=True, help="Show the traceback of every failed plugin.")
@click.pass_context
def plugins(ctx: click.Context, as_json: bool, check: bool, requirements: bool, tracebacks: bool) -> None:
    """List every discovered plugin: version, status and what it provides."""
    runtime = get_runtime(ctx)
    ctx.find_root().command._plugin_commands(ctx.find_root())  # a failing commands hook shows up too
    registry = runtime.registry  # collecting specs sets each plugin's status and provides
    records = runtime.manager.listing()
    clashes = registry.clashes()
    if requirements:
        dists = sorted({(r.distribution, r.version) for r in records if r.distribution and r.status == "active"})
        for dist, version in dists:
            click.echo(f"{dist}=={version}")
    elif as_json:
        click.echo(
            json.dumps(
                {
                    "plugins": [r.as_dict() for r in records],
                    "clashes": [{"kind": k, "name": n, "plugins": p} for k, n, p in clashes],
                },
                indent=2,
            )
        )
    else:
        rows = []
        for r in records:
            provides = "; ".join(f"{kind}: {', '.join(names)}" for kind, names in r.provides.items())
            status = r.status if r.status == "active" else f"{r.status} ({r.reason})"
            rows.append([r.name, r.version or "-", status, provides or "-"])
        click.echo(render_table(["NAME", "VERSION", "STATUS", "PROVIDES"], rows))
        for kind, name, owners in clashes:
            click.echo(
                f"clash: {kind} {name!r} is provided by {', '.join(owners)}; use {owners[0]}/{name} in manifests",
                err=True,
            )
        if tracebacks:
            for r in records:
                if r.traceback:
                    click.echo(f"\n--- {r.name} ({r.stage}) ---\n{r.traceback}", err=True)
    if check:
        for r in records:
            if r.legacy_groups:  # only here: a notice on every command would bury the user in noise
                click.echo(
                    f"deprecated: plugin {r.name!r} ({r.distribution}) uses the per-kind entry-point group(s) "
                    f"{', '.join(r.legacy_groups)}; declare one entry point instead: "
                    f'[project.entry-points.tradecore] {r.name} = "{r.module}"',
                    err=True,
                )
        if any(r.status == "failed" for r in records) or clashes:
            sys.exit(1)


@click.command()
@click.argument("kind", required=False, type=click.Choice([k.key for k in KINDS]))
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_context
def components(ctx: click.Context, kind: str | None, name: str | None, as_json: bool) -> None:
    """List components of every KIND, or show one component's params as JSON Schema.

    \b
    tradecore components                  every kind
    tradecore components indicators       one kind
    tradecore components sources synthetic   params schema of one component
    """
    from tradecore.registry import LookupFailure

    registry = get_runtime(ctx).registry
    if name:
        try:
            provided = registry.lookup(kind, name)
        except LookupFailure as exc:
            message = f"{exc.message}; {exc.hint}" if exc.hint else exc.message
            raise click.BadParameter(message, param_hint="NAME") from None
        schema = provided.spec.params_model.model_json_schema()
        if as_json:
            click.echo(
                json.dumps(
                    {
                        "kind": kind,
                        "name": provided.spec.name,
                        "plugin": provided.plugin,
                        "description": provided.spec.description,
                        "params": schema,
                    },
                    indent=2,
                )
            )
        else:
            click.echo(f"{kind[:-1]} {provided.spec.name} (plugin {provided.plugin}): {provided.spec.description}")
            click.echo(json.dumps(schema, indent=2))
        return
    kinds = [kind] if kind else [k.key for k in KINDS]
    items = [(k, p) for k in kinds for p in registry.all(k)]
    if as_json:
        click.echo(
            json.dumps(
                [
                    {"kind": k, "name": p.spec.name, "plugin": p.plugin, "description": p.spec.description}
                    for k, p in items
                ],
                indent=2,
            )
        )
        return
    rows = [[k, p.spec.name, p.plugin, p.spec.description] for k, p in items]
    click.echo(render_table(["KIND", "NAME", "PLUGIN", "DESCRIPTION"], rows))
