"""The columns that gap analysis reads, as numpy: open times, trade counts, row origins and the ranges each
origin's writes covered; from a candle frame, or straight from the lake's partition files.

From the lake, each year file is opened once and its footer and columns are read from that one handle, so
the origins always match the rows even while a writer replaces files. Only what the analysis uses is
decoded: ``trades`` only when no stored row lacks it (row-group statistics), ``origin`` only in a file
that mixes origins (as dictionary codes, never one string per row).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from tradecore.data.provenance import RowOrigins, WrittenRanges

if TYPE_CHECKING:
    import polars as pl

    from tradecore.data.lake import Lake


@dataclass
class SeriesColumns:
    """Sorted open times (epoch ms), trade counts (None when some are unknown), origins, covered ranges."""

    times: np.ndarray
    trades: np.ndarray | None
    origins: RowOrigins | None
    written: WrittenRanges | None = None


def frame_columns(
    frame: pl.DataFrame, origin: str | RowOrigins | None = None, written: WrittenRanges | None = None
) -> SeriesColumns:
    """A sorted candle frame (``time``, optional ``trades``, ``origin``) as columns; ``origin`` overrides
    the frame's ``origin`` column (one name for every row, or per row)."""
    times = epoch_ms(frame["time"])
    trades = None
    if "trades" in frame.columns and frame.height and frame["trades"].null_count() == 0:
        trades = frame["trades"].to_numpy()
    if isinstance(origin, str):
        origin = RowOrigins.constant(origin, frame.height)
    elif origin is None and "origin" in frame.columns and frame.height:
        origin = RowOrigins.of_column(frame["origin"])
    return SeriesColumns(times, trades, origin, written)


def epoch_ms(column: pl.Series) -> np.ndarray:
    """Open times as epoch-ms int64 numpy (a view when stored as ms and in one chunk)."""
    import polars as pl

    if isinstance(column.dtype, pl.Datetime):
        column = column.to_physical() if column.dtype.time_unit == "ms" else column.dt.epoch("ms")
    return column.to_numpy()


def lake_columns(
    lake: Lake, exchange: str, pair: str, timeframe: str, start_ms: int | None = None, end_ms: int | None = None
) -> SeriesColumns:
    """The columns of the stored rows in [start_ms, end_ms), read per year file."""
    import pyarrow.parquet as pq

    from tradecore.data.lake import year_bounds_ms
    from tradecore.data.partition import info_of_metadata, int64_column

    files = [
        (year, path)
        for year, path in lake.partition_files(exchange, pair, timeframe)
        if (start_ms is None or year_bounds_ms(year)[1] > start_ms)
        and (end_ms is None or year_bounds_ms(year)[0] < end_ms)
    ]
    opened = [(year, path, pq.ParquetFile(path, read_dictionary=["origin"])) for year, path in files]
    infos = [info_of_metadata(year, path, handle.metadata) for year, path, handle in opened]
    with_trades = all(info.trades_known for info in infos)
    names: list[str] = []
    times, trades, codes = [], [], []
    for (_, _, handle), info in zip(opened, infos, strict=True):
        mixed = len(info.origins) != 1
        columns = ["time", *(["trades"] if with_trades else []), *(["origin"] if mixed else [])]
        table = handle.read(columns=columns, use_threads=False)
        part_times = int64_column(table.column("time"))
        a = 0 if start_ms is None else int(np.searchsorted(part_times, start_ms))
        b = len(part_times) if end_ms is None else int(np.searchsorted(part_times, end_ms))
        times.append(part_times[a:b])
        if with_trades:
            trades.append(int64_column(table.column("trades"))[a:b])
        codes.append(_codes(table, info, names, mixed)[a:b])
    times_all = np.concatenate(times) if times else np.empty(0, np.int64)
    origins = None
    if names:
        origins = RowOrigins(np.concatenate(codes), names)
    return SeriesColumns(
        times_all,
        np.concatenate(trades) if with_trades and trades else None,
        origins,
        WrittenRanges.of_partitions(infos),
    )


def _codes(table: Any, info: Any, names: list[str], mixed: bool) -> np.ndarray:
    """Per-row origin codes into ``names`` (extended as new names appear)."""
    if not mixed:
        name = next(iter(info.origins), None)
        if name is None:
            return np.zeros(table.num_rows, np.uint16)
        if name not in names:
            names.append(name)
        return np.full(table.num_rows, names.index(name), np.uint16)
    column = table.column("origin").unify_dictionaries()
    if not column.num_chunks:
        return np.zeros(0, np.uint16)
    local = column.chunk(0).dictionary.to_pylist()
    for name in local:
        if name not in names:
            names.append(name)
    remap = np.array([names.index(name) for name in local], np.uint16)
    return remap[np.concatenate([chunk.indices.to_numpy(zero_copy_only=False) for chunk in column.chunks])]
