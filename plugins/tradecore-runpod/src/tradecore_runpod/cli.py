"""``tradecore runpod gpus|status|cleanup``: the GPU catalog, tradecore's pods, and terminating leftovers."""

from __future__ import annotations

import json

import click

PREFIX_HELP = "Name prefix of pods tradecore started (the backend's name_prefix)."


def _api():
    from tradecore_runpod.api import RunpodApi
    from tradecore_runpod.credentials import api_key

    return RunpodApi(api_key())


def _pod_row(pod: dict) -> dict:
    gpu = pod.get("gpu") or {}
    return {
        "id": pod.get("id"),
        "name": pod.get("name"),
        "status": pod.get("status"),
        "gpu": f"{gpu.get('id', '-')} x {gpu.get('count', 0)}" if gpu else "-",
        "cost_per_hr": pod.get("cost"),
        "data_center": pod.get("dataCenterId"),
    }


@click.group()
def runpod() -> None:
    """RunPod GPU pods: catalog, status of tradecore's pods, cleanup."""


@runpod.command()
@click.option("--cloud", type=click.Choice(["SECURE", "COMMUNITY"]), default="SECURE", show_default=True)
@click.option("--count", type=click.IntRange(1, 16), default=1, show_default=True, help="GPUs per pod.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def gpus(cloud: str, count: int, as_json: bool) -> None:
    """GPU types: memory, price per GPU-hour, availability by data center."""
    from tradecore.api import render_table

    types = _api().gpu_types(cloud=cloud, count=count)
    rows = [
        {
            "id": g.id,
            "name": g.display_name,
            "memory_gb": g.memory_gb,
            "price_per_gpu_hr": g.price(cloud),
            "stock": g.stock,
        }
        for g in types
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    click.echo(
        render_table(
            ["id", "memory GB", f"{cloud.lower()} $/GPU-h", "stock"],
            [
                [r["id"], r["memory_gb"], r["price_per_gpu_hr"], ", ".join(f"{dc}:{s}" for dc, s in r["stock"].items())]
                for r in rows
            ],
        )
    )


@runpod.command()
@click.option("--prefix", default="tradecore-", show_default=True, help=PREFIX_HELP)
@click.option("--all", "show_all", is_flag=True, help="Show every pod of the account, not only tradecore's.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def status(prefix: str, show_all: bool, as_json: bool) -> None:
    """Pods tradecore started (by name prefix), with status and cost per hour."""
    from tradecore.api import render_table

    pods = [_pod_row(p) for p in _api().list_pods() if show_all or str(p.get("name", "")).startswith(prefix)]
    if as_json:
        click.echo(json.dumps(pods, indent=2))
        return
    if not pods:
        click.echo(f"no pods named {prefix}*")
        return
    click.echo(
        render_table(
            ["id", "name", "status", "gpu", "$/h", "data center"],
            [[p["id"], p["name"], p["status"], p["gpu"], p["cost_per_hr"], p["data_center"]] for p in pods],
        )
    )
    burn = sum(float(p["cost_per_hr"] or 0) for p in pods)
    click.echo(f"{len(pods)} pod(s), burning ${burn:.2f}/h")


@runpod.command()
@click.option("--prefix", default="tradecore-", show_default=True, help=PREFIX_HELP)
@click.option("--dry-run", is_flag=True, help="List what would be terminated.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def cleanup(prefix: str, dry_run: bool, as_json: bool) -> None:
    """Terminate every pod tradecore started (e.g. after the local process was killed)."""
    from tradecore_runpod.errors import RunpodError

    if not prefix.strip("-"):
        raise click.BadParameter("the prefix must name tradecore's pods, e.g. 'tradecore-'", param_hint="--prefix")
    api = _api()
    pods = [p for p in api.list_pods() if str(p.get("name", "")).startswith(prefix) and p.get("status") != "TERMINATED"]
    done, failed = [], []
    for pod in pods:
        if dry_run:
            continue
        try:
            api.terminate_pod(pod["id"])
            done.append(pod["id"])
        except RunpodError as exc:
            failed.append({"id": pod["id"], "error": str(exc)})
    if as_json:
        click.echo(json.dumps({"found": [_pod_row(p) for p in pods], "terminated": done, "failed": failed}, indent=2))
    else:
        verb = "would terminate" if dry_run else "terminated"
        click.echo(
            f"{verb} {len(pods) if dry_run else len(done)} pod(s) named {prefix}*"
            + (": " + ", ".join(p["id"] for p in pods) if pods else "")
        )
        for f in failed:
            click.echo(f"failed: {f['id']}: {f['error']}", err=True)
    if failed:
        raise SystemExit(1)
