"""Kraken's downloadable CSVs: readers for OHLCVT candles and time-and-sales trades, and the dump names.

OHLCVT files are headerless ``time,open,high,low,close,volume,trades`` (UNIX seconds of the interval
open; volumes sometimes in scientific notation such as ``5.5E+2``), named ``<ALTNAME>_<minutes>.csv``.
Trades files are headerless ``time,price,volume`` (UNIX seconds), named ``<ALTNAME>.csv``; identical
rows are separate real trades and are kept. Bad files raise :class:`KrakenCsvError` naming the file
and the first bad line.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import IO, TYPE_CHECKING, Union

from tradecore.api import TradecoreError, timeframe_ms

if TYPE_CHECKING:
    import polars as pl

Source = Union[str, Path, bytes, IO[bytes]]  # noqa: UP007 (runtime alias)

OHLCVT_COLUMNS = ("time", "open", "high", "low", "close", "volume", "trades")
TRADES_COLUMNS = ("time", "price", "volume")
#: Kraken interval minutes -> ccxt timeframe
MINUTES_TO_TIMEFRAME = {
    1: "1m",
    5: "5m",
    15: "15m",
    30: "30m",
    60: "1h",
    240: "4h",
    720: "12h",
    1440: "1d",
    10080: "1w",
    21600: "2w",
}
#: candle intervals (minutes) in Kraken's OHLCVT dump archives
DUMP_MINUTES = (1, 5, 15, 30, 60, 240, 720, 1440)
#: Kraken's complete-history OHLCVT archive (quarterly ones: :func:`quarterly_archive`)
FULL_ARCHIVE = "Kraken_OHLCVT.zip"
_OHLCVT_NAME = re.compile(r"^(?P<altname>[A-Z0-9.]+)_(?P<minutes>\d+)\.csv$", re.IGNORECASE)


class KrakenCsvError(TradecoreError):
    """A corrupt, truncated or misnamed Kraken CSV."""


def quarterly_archive(year: int, quarter: int) -> str:
    """Kraken's quarterly OHLCVT archive, e.g. ``Kraken_OHLCVT_Q3_2023.zip``."""
    return f"Kraken_OHLCVT_Q{quarter}_{year}.zip"


def parse_ohlcvt_name(name: str) -> tuple[str, str]:
    """``XBTUSD_60.csv`` -> ``("XBTUSD", "1h")``."""
    base = Path(name).name
    match = _OHLCVT_NAME.match(base)
    if not match:
        raise KrakenCsvError(
            f"{name}: not a Kraken OHLCVT file name; expected <ALTNAME>_<minutes>.csv, e.g. XBTUSD_60.csv"
        )
    minutes = int(match["minutes"])
    if minutes not in MINUTES_TO_TIMEFRAME:
        raise KrakenCsvError(
            f"{name}: {minutes}-minute candles are not a Kraken interval ({', '.join(map(str, MINUTES_TO_TIMEFRAME))})"
        )
    return match["altname"].upper(), MINUTES_TO_TIMEFRAME[minutes]


def _label(source: Source, name: str | None) -> str:
    if name:
        return name
    if isinstance(source, (str, Path)):
        return str(source)
    return getattr(source, "name", "<bytes>")


def _read(source: Source, columns: tuple[str, ...], dtypes: list, label: str) -> pl.DataFrame:
    import polars as pl

    schema = dict(zip(columns, dtypes, strict=True))
    data = source
    if isinstance(source, (str, Path)):
        if not Path(source).is_file():
            raise KrakenCsvError(f"{label}: no such file")
    elif not isinstance(source, bytes):
        data = source.read()
    try:
        frame = pl.read_csv(data, has_header=False, schema=schema, truncate_ragged_lines=False, raise_if_empty=False)
    except (pl.exceptions.ComputeError, pl.exceptions.PolarsError, OSError) as exc:
        raise _locate_error(data, columns, label, exc) from None
    nulls = frame.select(pl.any_horizontal(pl.all().is_null()).arg_true().first()).item()
    if nulls is not None:
        raise _locate_error(data, columns, label, None, hint_line=int(nulls) + 1)
    return frame


def _locate_error(
    data: Source, columns: tuple[str, ...], label: str, exc: Exception | None, hint_line: int | None = None
) -> KrakenCsvError:
    """Find the first line that does not parse, by a slow line-by-line pass (only on failure)."""
    raw = Path(data).read_bytes() if isinstance(data, (str, Path)) else data
    text = io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8", errors="replace", newline="")
    for number, line in enumerate(text, start=1):
        stripped = line.rstrip("\r\n")
        if not stripped:
            if number == 1 or hint_line == number:
                return KrakenCsvError(
                    f"{label}, line {number}: empty line; expected {len(columns)} "
                    f"comma-separated fields ({','.join(columns)})"
                )
            continue
        fields = stripped.split(",")
        if len(fields) != len(columns):
            what = "truncated" if len(fields) < len(columns) else "too many fields"
            return KrakenCsvError(
                f"{label}, line {number}: {what} ({len(fields)} fields, expected "
                f"{len(columns)}: {','.join(columns)}): {stripped[:80]!r}"
            )
        for column, value in zip(columns, fields, strict=True):
            try:
                int(value) if column in ("trades",) else float(value)
            except ValueError:
                return KrakenCsvError(f"{label}, line {number}: {column} {value!r} is not a number")
    where = f", line {hint_line}" if hint_line else ""
    detail = f": {str(exc).splitlines()[0]}" if exc else ": empty field"
    return KrakenCsvError(f"{label}{where}: cannot parse as Kraken CSV{detail}")


def read_ohlcvt(source: Source, *, name: str | None = None, timeframe: str | None = None) -> pl.DataFrame:
    """A Kraken OHLCVT CSV as candles: ``time`` Datetime(ms, UTC), open..volume Float64, trades Int64.

    ``timeframe`` (or the file name) is used to refuse rows that are off the interval grid.
    """
    import polars as pl

    label = _label(source, name)
    frame = _read(source, OHLCVT_COLUMNS, [pl.Int64] + [pl.Float64] * 5 + [pl.Int64], label)
    if timeframe is None:
        try:
            timeframe = parse_ohlcvt_name(label)[1]
        except KrakenCsvError:
            timeframe = None
    if timeframe is not None and frame.height:
        step_s = timeframe_ms(timeframe) // 1000
        off = frame.select((pl.col("time") % step_s != 0).arg_true().first()).item()
        if off is not None:
            raise KrakenCsvError(
                f"{label}, line {off + 1}: time {frame['time'][off]} is not on the "
                f"{timeframe} grid (not a multiple of {step_s} s)"
            )
    return frame.with_columns((pl.col("time") * 1000).cast(pl.Datetime("ms", "UTC")))


def read_trades(source: Source, *, name: str | None = None) -> pl.DataFrame:
    """A Kraken time-and-sales CSV: ``time`` Int64 epoch ms, price, volume Float64, in file order."""
    import polars as pl

    label = _label(source, name)
    frame = _read(source, TRADES_COLUMNS, [pl.Float64, pl.Float64, pl.Float64], label)
    # seconds may carry decimals in some exports; keep ms resolution
    return frame.with_columns((pl.col("time") * 1000).round(0).cast(pl.Int64))
