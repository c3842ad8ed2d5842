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
from collections.abc import Callable, Iterator
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


def _read(source: Source, columns: tuple[str, ...], dtypes: list, label: str, first_line: int = 1) -> pl.DataFrame:
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
        raise _locate_error(data, columns, label, exc, first_line=first_line) from None
    nulls = frame.select(pl.any_horizontal(pl.all().is_null()).arg_true().first()).item()
    if nulls is not None:
        raise _locate_error(data, columns, label, None, hint_line=first_line + int(nulls), first_line=first_line)
    return frame


def _locate_error(
    data: Source,
    columns: tuple[str, ...],
    label: str,
    exc: Exception | None,
    hint_line: int | None = None,
    first_line: int = 1,
) -> KrakenCsvError:
    """Find the first line that does not parse, by a slow line-by-line pass (only on failure); ``first_line``
    numbers the first line of ``data`` (a block of a larger file)."""
    raw = Path(data).read_bytes() if isinstance(data, (str, Path)) else data
    text = io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8", errors="replace", newline="")
    for number, line in enumerate(text, start=first_line):
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
    label = _label(source, name)
    if timeframe is None:
        try:
            timeframe = parse_ohlcvt_name(label)[1]
        except KrakenCsvError:
            timeframe = None
    return _candles(_read(source, OHLCVT_COLUMNS, _ohlcvt_dtypes(), label), label, timeframe, 1)


def _ohlcvt_dtypes() -> list:
    import polars as pl

    return [pl.Int64] + [pl.Float64] * 5 + [pl.Int64]


def _candles(frame: pl.DataFrame, label: str, timeframe: str | None, first_line: int) -> pl.DataFrame:
    """Rows read with open times in seconds -> candles, refusing rows off the ``timeframe`` grid."""
    import polars as pl

    if timeframe is not None and frame.height:
        step_s = timeframe_ms(timeframe) // 1000
        off = frame.select((pl.col("time") % step_s != 0).arg_true().first()).item()
        if off is not None:
            raise KrakenCsvError(
                f"{label}, line {first_line + off}: time {frame['time'][off]} is not on the "
                f"{timeframe} grid (not a multiple of {step_s} s)"
            )
    return frame.with_columns((pl.col("time") * 1000).cast(pl.Datetime("ms", "UTC")))


def iter_ohlcvt(
    stream: IO[bytes],
    *,
    name: str,
    timeframe: str,
    block_bytes: int,
    on_bytes: Callable[[bytes], None] | None = None,
) -> Iterator[pl.DataFrame]:
    """A Kraken OHLCVT CSV read from ``stream`` in blocks of about ``block_bytes`` (cut at line ends), each
    as candles (see :func:`read_ohlcvt`): memory stays bounded by the block, whatever the file's size.

    Rows must run oldest first, one per interval (as in Kraken's dumps); ``on_bytes`` sees every raw byte
    read, in order (to hash the file on the way)."""
    import numpy as np

    line = 1
    previous: int | None = None  # open time (s) of the last row read
    while True:
        data = stream.read(block_bytes)
        if data and not data.endswith(b"\n"):  # complete the last line (one copy of the block)
            rest = stream.readline(block_bytes)
            if len(rest) == block_bytes and not rest.endswith(b"\n"):
                at = line + data.count(b"\n")
                raise KrakenCsvError(
                    f"{name}, line {at}: over {block_bytes:,} bytes without a line end; not a Kraken OHLCVT CSV"
                )
            data += rest
        if on_bytes is not None and data:
            on_bytes(data)
        if data and not data.isspace():
            frame = _read(data, OHLCVT_COLUMNS, _ohlcvt_dtypes(), name, first_line=line)
            seconds = frame["time"].to_numpy()
            if seconds.size:
                steps = np.diff(seconds, prepend=seconds[0] - 1 if previous is None else previous)
                bad = np.flatnonzero(steps <= 0)
                if bad.size:
                    at = int(bad[0])
                    before = previous if at == 0 else int(seconds[at - 1])
                    what = "repeats the previous row" if steps[at] == 0 else f"comes before the previous row ({before})"
                    raise KrakenCsvError(
                        f"{name}, line {line + at}: time {int(seconds[at])} {what}; a Kraken OHLCVT file holds one "
                        "row per interval, oldest first"
                    )
                previous = int(seconds[-1])
            yield _candles(frame, name, timeframe, line)
            line += frame.height  # every line is a row (an empty line is an error)
        if not data:
            return


def read_trades(source: Source, *, name: str | None = None) -> pl.DataFrame:
    """A Kraken time-and-sales CSV: ``time`` Int64 epoch ms, price, volume Float64, in file order."""
    import polars as pl

    label = _label(source, name)
    frame = _read(source, TRADES_COLUMNS, [pl.Float64, pl.Float64, pl.Float64], label)
    # seconds may carry decimals in some exports; keep ms resolution
    return frame.with_columns((pl.col("time") * 1000).round(0).cast(pl.Int64))
