"""``tradecore kraken ...``: Kraken-only commands (the generic ones live under ``tradecore data``)."""

from __future__ import annotations

import json

import click


@click.group(name="kraken")
def kraken() -> None:
    """Kraken data: import OHLCVT dumps (CSV or Kraken's ZIPs) into the lake."""


@kraken.command(name="import-dump")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=True))
@click.option(
    "--lake",
    "lake_root",
    type=click.Path(file_okay=False),
    default=None,
    help="Lake root (default TRADECORE_LAKE or the user data folder).",
)
@click.option(
    "--pair",
    "pairs",
    multiple=True,
    metavar="SYMBOL",
    help="Only these pairs (ccxt BTC/USD or Kraken XBTUSD); repeatable.",
)
@click.option("--timeframe", "timeframes", multiple=True, metavar="TF", help="Only these timeframes (1m, 1h ...).")
@click.option("--dry-run", is_flag=True, help="Read and check the files, write nothing.")
@click.option("--force", is_flag=True, help="Import even content that was imported before.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per file.")
@click.option(
    "--max-member-size",
    metavar="SIZE",
    default=None,
    help="Largest file (uncompressed) to import, e.g. 8GiB (default; env TRADECORE_KRAKEN_MAX_MEMBER_SIZE).",
)
@click.option(
    "--max-ratio",
    type=click.FloatRange(min=1, min_open=True),
    default=None,
    help="Highest ZIP compression ratio accepted, against ZIP bombs (default 200; env TRADECORE_KRAKEN_MAX_RATIO).",
)
def import_dump(
    paths: tuple[str, ...],
    lake_root: str | None,
    pairs: tuple[str, ...],
    timeframes: tuple[str, ...],
    dry_run: bool,
    force: bool,
    as_json: bool,
    max_member_size: str | None,
    max_ratio: float | None,
) -> None:
    """Import Kraken OHLCVT dumps: <ALTNAME>_<minutes>.csv files, folders or ZIPs (nested members found).

    The same content imported twice is a no-op (sha256 recorded beside the jobs).
    """
    import sys

    from tradecore.api import Lake, render_table, resolve_lake_root
    from tradecore_kraken.dumps import DumpLedger, find_members, import_member
    from tradecore_kraken.limits import ImportLimits
    from tradecore_kraken.pairs import altname_to_symbol

    limits = ImportLimits.from_env(max_member_size, max_ratio)

    pairs = tuple(p.strip() for item in pairs for p in item.split(",") if p.strip())
    timeframes = tuple(t.strip() for item in timeframes for t in item.split(",") if t.strip())
    wanted = {altname_to_symbol(p) if "/" not in p else p for p in pairs}
    lake = Lake(resolve_lake_root(lake_root))
    ledger = DumpLedger(lake.root)
    members = [
        m
        for m in find_members(list(paths))
        if (not wanted or m.symbol in wanted) and (not timeframes or m.timeframe in timeframes)
    ]
    if not members:
        raise click.ClickException("no Kraken OHLCVT files (<ALTNAME>_<minutes>.csv) match in the given paths")
    outcomes = []
    bar = None
    if sys.stderr.isatty() and len(members) > 1 and not as_json:
        from tqdm import tqdm

        bar = tqdm(total=len(members), unit="file", file=sys.stderr)
    for member in members:
        outcomes.append(import_member(member, lake, ledger, dry_run=dry_run, force=force, limits=limits))
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    if as_json:
        for outcome in outcomes:
            click.echo(json.dumps(outcome.as_dict()))
        return
    from tradecore_kraken.planner import iso

    rows = [
        [
            o.status,
            o.pair,
            o.timeframe,
            f"{o.rows:,}",
            iso(o.first_ms) if o.first_ms is not None else "",
            iso(o.last_ms) if o.last_ms is not None else "",
            o.label,
        ]
        for o in outcomes
    ]
    click.echo(render_table(["status", "pair", "tf", "rows", "first", "last", "file"], rows))
