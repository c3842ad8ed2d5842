"""``tradecore data list|coverage|gaps|validate|slices``: what the lake holds and how good it is."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import click

from tradecore.cli import UserError
from tradecore.cli.data.group import data
from tradecore.cli.data.options import (
    check_time,
    emit,
    json_option,
    lake_options,
    open_lake,
    parse_range,
    pick_series,
    range_options,
    series_options,
)
from tradecore.cli.data.sources import exchange_facts


@data.command("list")
@lake_options
@json_option
def list_(lake_dir: str | None, manifest_path: str | None, as_json: bool) -> None:
    """Every stored series: exchange, pair, timeframe, first and last candle, rows."""
    from tradecore.data.coverage import lake_coverage

    cov = lake_coverage(open_lake(lake_dir, manifest_path))
    if as_json:
        emit([{k: c.as_dict()[k] for k in ("exchange", "pair", "timeframe", "first", "last", "rows")} for c in cov])
        return
    from tradecore.tables import render_table

    click.echo(
        render_table(
            ["exchange", "pair", "timeframe", "from", "to", "candles"],
            [(c.exchange, c.pair, c.timeframe, c.as_dict()["first"], c.as_dict()["last"], f"{c.rows:,}") for c in cov],
        )
        if cov
        else "the lake is empty"
    )


@data.command()
@series_options
@lake_options
@json_option
def coverage(
    exchange: str | None,
    pair: str | None,
    timeframe: str | None,
    lake_dir: str | None,
    manifest_path: str | None,
    as_json: bool,
) -> None:
    """Per series: stored ranges, rows, expected slots, percent, holes, last update and source mix
    (from Parquet footers; no data is read)."""
    from tradecore.data.coverage import lake_coverage

    cov = lake_coverage(open_lake(lake_dir, manifest_path), exchange, pair, timeframe)
    if as_json:
        emit([c.as_dict() for c in cov])
        return
    if not cov:
        click.echo("no stored series match")
        return
    from tradecore.tables import render_table

    rows = []
    for c in cov:
        d = c.as_dict()
        mix = ", ".join(f"{k} {v / max(c.rows, 1):.0%}" for k, v in sorted(c.origins.items(), key=lambda x: -x[1]))
        rows.append(
            (
                c.exchange,
                c.pair,
                c.timeframe,
                d["first"],
                d["last"],
                f"{c.rows:,}",
                f"{c.expected:,}",
                f"{c.percent:.1f}%",
                f"{c.holes:,}",
                len(c.ranges),
                d["updated"][:16].replace("T", " "),
                mix,
            )
        )
    click.echo(
        render_table(
            [
                "exchange",
                "pair",
                "tf",
                "from",
                "to",
                "rows",
                "expected",
                "cover",
                "holes",
                "ranges",
                "updated",
                "sources",
            ],
            rows,
        )
    )


# ---------------------------------------------------------------- gaps, validate, slices


@data.command()
@series_options
@click.option("--start", default=None, callback=check_time, help="Also report never-fetched slots from this time.")
@click.option("--end", default=None, callback=check_time, help="... up to this time (exclusive).")
@click.option(
    "--kind",
    type=click.Choice(["all", "missing", "no_trades", "fillable", "unfillable"]),
    default="all",
    show_default=True,
    help="Only holes of this kind (missing = fillable + unfillable).",
)
@click.option("--limit", type=int, default=30, show_default=True, help="Rows to print (table only).")
@lake_options
@json_option
@click.pass_context
def gaps(
    ctx: click.Context,
    exchange: str | None,
    pair: str | None,
    timeframe: str | None,
    start: str | None,
    end: str | None,
    kind: str,
    limit: int,
    lake_dir: str | None,
    manifest_path: str | None,
    as_json: bool,
) -> None:
    """Missing slots as ranges: "no_trades" (nobody traded) vs "missing" (a hole to fill, and how); the repair
    column says what `tradecore data repair` can do: no-trades, unfillable (and why) or fillable."""
    from tradecore.data.gaps import lake_gap_report, summary_line

    parse_range(start, end)
    lake = open_lake(lake_dir, manifest_path)
    key = pick_series(lake, exchange, pair, timeframe)
    report = lake_gap_report(lake, *key, start, end, facts=exchange_facts(ctx, key[0]))
    if kind in ("missing", "no_trades"):
        report.gaps = [g for g in report.gaps if g.kind == kind]
    elif kind != "all":
        report.gaps = [g for g in report.gaps if g.repair == kind]
    if as_json:
        emit(report.as_dict())
        return
    from tradecore.tables import render_table

    click.echo(summary_line(report))
    rows = []
    for g in report.gaps[:limit]:
        how = "-"
        if g.fill:
            choice = g.fill.get("recommended")
            how = f"{choice}: {g.fill[choice].get('detail')}" if choice else "cannot be filled from this exchange"
        rows.append(
            (
                g.as_dict()["start"],
                g.as_dict()["end"],
                g.slots,
                g.kind,
                f"{g.p_empty:.1e}" if g.p_empty is not None else "-",
                g.label,
                how,
            )
        )
    if rows:
        click.echo(render_table(["from", "to", "slots", "kind", "p_empty", "repair", "fill"], rows))
    if len(report.gaps) > limit:
        click.echo(f"... {len(report.gaps) - limit:,} more (use --limit or --json)")


#: a headerless OHLCVT candle CSV (the layout of Kraken's dumps): open time in UNIX seconds first
OHLCVT_COLUMNS = ["time", "open", "high", "low", "close", "volume", "trades"]
_MINUTES_SUFFIX = re.compile(r"_([0-9]{1,6})\.csv$", re.IGNORECASE)


def _timeframe_from_name(path: str) -> str:
    """``XBTUSD_60.csv`` -> ``1h``: the bar length in minutes that ends the file name."""
    match = _MINUTES_SUFFIX.search(Path(path).name)
    if not match or int(match[1]) == 0:
        raise click.BadParameter(
            f"{path}: cannot tell the timeframe from the name; give --timeframe, or name the file "
            "<NAME>_<minutes>.csv, e.g. XBTUSD_60.csv",
            param_hint="--file",
        )
    minutes = int(match[1])
    for unit, size in (("w", 10_080), ("d", 1_440), ("h", 60)):
        if minutes % size == 0:
            return f"{minutes // size}{unit}"
    return f"{minutes}m"


@data.command()
@series_options
@click.option(
    "--file",
    "file_path",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Check a Kraken OHLCVT CSV instead of the lake (timeframe from its name).",
)
@range_options
@lake_options
@json_option
@click.pass_context
def validate(
    ctx: click.Context,
    exchange: str | None,
    pair: str | None,
    timeframe: str | None,
    file_path: str | None,
    start: str | None,
    end: str | None,
    lake_dir: str | None,
    manifest_path: str | None,
    as_json: bool,
) -> None:
    """Quality checks: OHLC consistency, volume, duplicates, off-grid and non-monotonic times, outlier returns.
    Exits with status 1 when an error-level check fails."""
    from tradecore.data.qc import check_candles

    parse_range(start, end)
    if file_path:
        tf = timeframe or _timeframe_from_name(file_path)
        report = check_candles(_read_ohlcvt(file_path), tf, label=file_path)
    else:
        lake = open_lake(lake_dir, manifest_path)
        key = pick_series(lake, exchange, pair, timeframe)
        report = check_candles(lake.read(*key, start, end), key[2], label=" ".join(key))
    emit(report.as_dict()) if as_json else click.echo(report.render())
    if not report.ok:
        ctx.exit(1)


def _read_ohlcvt(path: str) -> Any:
    """A headerless OHLCVT CSV as candles (open time in ms); a file that is not one is a one-line error."""
    import polars as pl

    try:
        frame = pl.read_csv(path, has_header=False, new_columns=OHLCVT_COLUMNS, schema_overrides={"time": pl.Int64})
    except (pl.exceptions.PolarsError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(f"{path}: not a headerless OHLCVT CSV ({first})") from None
    return frame.with_columns(pl.col("time") * 1000)


@data.command()
@series_options
@range_options
@click.option("--min-bars", type=int, default=1000, show_default=True, help="Shortest slice, in candles.")
@click.option(
    "--max-gap",
    "max_gap",
    type=int,
    default=60,
    show_default=True,
    help="A hole longer than this many bars ends a slice.",
)
@click.option("--min-coverage", type=float, default=0.95, show_default=True, help="Fraction of slots filled.")
@click.option("--keep-missing", is_flag=True, help="Do not split at holes classified as missing data.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None, help="Write the manifest here.")
@lake_options
@json_option
@click.pass_context
def slices(
    ctx: click.Context,
    exchange: str | None,
    pair: str | None,
    timeframe: str | None,
    start: str | None,
    end: str | None,
    min_bars: int,
    max_gap: int,
    min_coverage: float,
    keep_missing: bool,
    output: str | None,
    lake_dir: str | None,
    manifest_path: str | None,
    as_json: bool,
) -> None:
    """Contiguous windows meeting quality thresholds, as a small slices manifest for the environment."""
    from tradecore.data.columns import lake_columns
    from tradecore.data.slices import SliceRules, slices_manifest

    if min_bars < 1 or max_gap < 0 or not 0 < min_coverage <= 1:
        raise click.BadParameter(
            "use --min-bars >= 1, --max-gap >= 0 and 0 < --min-coverage <= 1",
            param_hint="--min-bars/--max-gap/--min-coverage",
        )
    start_ms, end_ms = parse_range(start, end)
    lake = open_lake(lake_dir, manifest_path)
    key = pick_series(lake, exchange, pair, timeframe)
    columns = lake_columns(lake, *key, start_ms, end_ms)
    rules = SliceRules(min_bars, max_gap, min_coverage, not keep_missing)
    doc = slices_manifest(columns, *key, rules, str(lake.root), exchange_facts(ctx, key[0]))
    if output:
        Path(output).write_text(json.dumps(doc, indent=2) + "\n")
    if as_json:
        emit(doc)
        return
    from tradecore.tables import render_table

    click.echo(
        f"{len(doc['slices'])} slices, {doc['total_rows']:,} of {doc['rows']:,} candles"
        + (f"; written to {output}" if output else "")
    )
    if doc["slices"]:
        click.echo(
            render_table(
                ["from", "to", "rows", "coverage", "largest gap"],
                [
                    (s["start"], s["end"], f"{s['rows']:,}", f"{s['coverage']:.1%}", s["largest_gap_bars"])
                    for s in doc["slices"]
                ],
            )
        )


# ---------------------------------------------------------------- resample, export
