"""``tradecore data resample|export``: derived timeframes and files for a range."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from tradecore.cli import UserError
from tradecore.cli.data.group import data
from tradecore.cli.data.options import (
    check_name,
    check_timeframe,
    emit,
    json_option,
    lake_options,
    open_lake,
    parse_range,
    pick_series,
    range_options,
    series_options,
)


@data.command()
@click.option("-e", "--exchange", default=None, callback=check_name("exchange"))
@click.option("-p", "--pair", default=None, callback=check_name("pair"))
@click.option("--from", "source_tf", required=True, callback=check_timeframe, help="Stored timeframe (e.g. 1m).")
@click.option("--to", "target_tf", required=True, callback=check_timeframe, help="Coarser timeframe (e.g. 1h, 1d).")
@range_options
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write CSV/Parquet here (by suffix) instead of storing the result in the lake.",
)
@lake_options
@json_option
def resample(
    exchange: str | None,
    pair: str | None,
    source_tf: str,
    target_tf: str,
    start: str | None,
    end: str | None,
    output: str | None,
    lake_dir: str | None,
    manifest_path: str | None,
    as_json: bool,
) -> None:
    """Aggregate stored candles into a coarser timeframe (Kraken's conventions) and store them."""
    from tradecore.data.resample import resample as do_resample
    from tradecore.timeframes import is_multiple

    if not is_multiple(target_tf, source_tf) or target_tf == source_tf:
        raise click.BadParameter(f"{target_tf} is not a coarser whole multiple of {source_tf}", param_hint="--to")
    parse_range(start, end)
    if output:
        _file_format(output)
    lake = open_lake(lake_dir, manifest_path)
    key = pick_series(lake, exchange, pair, source_tf)
    out = do_resample(lake.scan(*key, start, end), source_tf, target_tf)
    result: dict[str, Any] = {"rows": out.height, "timeframe": target_tf}
    if output:
        _write_file(out, output, _file_format(output))
        result["output"] = output
    else:
        written = []
        for origin, part in out.partition_by("origin", as_dict=True).items() if out.height else []:
            written.append(lake.write(key[0], key[1], target_tf, part, origin[0]).as_dict())
        result["writes"] = written
    emit(result) if as_json else click.echo(
        f"{out.height:,} {target_tf} candles from {key[0]} {key[1]} {source_tf} "
        + (f"written to {output}" if output else "stored in the lake")
    )


def _file_format(output: str) -> str:
    """ "csv" or "parquet" from the output's suffix; any other suffix is a command-line error."""
    suffix = Path(output).suffix.lower()
    if suffix in (".parquet", ".pq"):
        return "parquet"
    if suffix == ".csv":
        return "csv"
    raise click.BadParameter(f"{output}: use a .csv or .parquet file name, or give --format", param_hint="--output")


def _write_file(frame: Any, output: str, fmt: str) -> None:
    try:
        frame.write_parquet(output) if fmt == "parquet" else frame.write_csv(output)
    except OSError as exc:
        raise UserError(f"cannot write {output}: {exc.strerror or exc}") from None


@data.command()
@series_options
@range_options
@click.option(
    "-f",
    "--format",
    "fmt",
    type=click.Choice(["csv", "parquet"]),
    default=None,
    help="Default: from the output suffix.",
)
@click.option("-o", "--output", type=click.Path(dir_okay=False), required=True)
@lake_options
@json_option
def export(
    exchange: str | None,
    pair: str | None,
    timeframe: str | None,
    start: str | None,
    end: str | None,
    fmt: str | None,
    output: str,
    lake_dir: str | None,
    manifest_path: str | None,
    as_json: bool,
) -> None:
    """Write the candles of a range to a CSV or Parquet file."""
    fmt = fmt or _file_format(output)
    parse_range(start, end)
    lake = open_lake(lake_dir, manifest_path)
    key = pick_series(lake, exchange, pair, timeframe)
    frame = lake.read(*key, start, end)
    _write_file(frame, output, fmt)
    summary = {"rows": frame.height, "output": output, "series": list(key)}
    emit(summary) if as_json else click.echo(f"{frame.height:,} candles of {' '.join(key)} written to {output}")


# ---------------------------------------------------------------- jobs, groups
