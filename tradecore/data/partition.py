"""One year partition file of the lake: its columns, Parquet encoding and footer summary.

The summary (rows, first/last open time, origin mix, coarse stored spans) travels in the file's Parquet
key-value metadata, written in the same atomic rename as the data, so coverage and listings read
footers only and can never disagree with the data.
"""

from __future__ import annotations

import json
import time as _time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tradecore.errors import LakeError

if TYPE_CHECKING:
    import polars as pl

ORIGINS = ("dump", "rest", "trades-rebuild", "synthetic", "ccxt", "stream")
PRICE_COLUMNS = ("open", "high", "low", "close", "volume")
COLUMNS = ("time", *PRICE_COLUMNS, "trades", "origin")
DATA_FILE = "data.parquet"
META_KEY = "tradecore"
#: a hole longer than this many bars (or one day) splits a stored span in the summary
SPAN_BREAK_BARS = 24
MS_PER_DAY = 86_400_000


@dataclass
class PartitionInfo:
    """The footer summary of one year file."""

    year: int
    path: Path
    rows: int
    first_ms: int | None
    last_ms: int | None
    origins: dict[str, int] = field(default_factory=dict)
    spans: list[tuple[int, int]] = field(default_factory=list)
    missing_slots: int = 0
    holes: int = 0
    updated: float = 0.0
    #: per origin, the half-open ranges its writes covered (None: a footer from before this was recorded)
    written: dict[str, list[tuple[int, int]]] | None = None
    #: every stored row has a trade count (row-group statistics)
    trades_known: bool = True


def empty_frame() -> pl.DataFrame:
    import polars as pl

    return pl.DataFrame(schema=frame_schema())


def frame_schema() -> dict[str, Any]:
    import polars as pl

    return {
        "time": pl.Datetime("ms", "UTC"),
        **{c: pl.Float64 for c in PRICE_COLUMNS},
        "trades": pl.Int64,
        "origin": pl.String,
    }


def footer_summary(
    times: Any, origins: dict[str, int], step_ms: int, written: dict[str, list[tuple[int, int]]]
) -> dict[str, Any]:
    """The footer summary from sorted open times (epoch ms), the origin counts and the ranges each origin's
    writes covered."""
    import numpy as np

    spans: list[list[int]] = []
    missing = holes = 0
    if len(times):
        diffs = np.diff(times)
        hole_idx = np.flatnonzero(diffs > step_ms)
        holes = int(hole_idx.size)
        missing = int(((diffs[hole_idx] // step_ms) - 1).sum()) if holes else 0
        brk = np.flatnonzero(diffs > max(SPAN_BREAK_BARS * step_ms, MS_PER_DAY))
        starts = np.concatenate([[0], brk + 1])
        ends = np.concatenate([brk, [len(times) - 1]])
        spans = [[int(times[a]), int(times[b])] for a, b in zip(starts[:200], ends[:200], strict=True)]
    return {
        "rows": len(times),
        "first_ms": int(times[0]) if len(times) else None,
        "last_ms": int(times[-1]) if len(times) else None,
        "origins": origins,
        "spans": spans,
        "missing_slots": missing,
        "holes": holes,
        "updated": _time.time(),
        "written": {name: [list(r) for r in ranges] for name, ranges in written.items() if name in origins},
    }


#: how partitions are encoded: delta-packed open times and trade counts (sorted, small steps: tiny and fast
#: to decode, which the gap report and time scans read), plain doubles, LZ4 (fast both ways)
PARQUET_OPTIONS: dict[str, Any] = {
    "compression": "lz4",
    "use_dictionary": ["origin"],
    "column_encoding": {"time": "DELTA_BINARY_PACKED", "trades": "DELTA_BINARY_PACKED"},
    "row_group_size": 65_536,
    # min/max of open times for scan pushdown, null counts of trades for the gap report; no other reader
    "write_statistics": ["time", "trades"],
    # no Arrow schema blob: readers take the Parquet types (origin reads back as plain strings)
    "store_schema": False,
}


def arrow_schema() -> Any:
    """The stored columns as Arrow types (``origin`` dictionary-encoded)."""
    import pyarrow as pa

    return pa.schema(
        [
            ("time", pa.timestamp("ms", tz="UTC")),
            *[(c, pa.float64()) for c in PRICE_COLUMNS],
            ("trades", pa.int64()),
            ("origin", pa.dictionary(pa.int32(), pa.string())),
        ]
    )


def int64_column(column: Any) -> Any:
    """A timestamp or integer Arrow column as int64 numpy (one copy at most)."""
    import numpy as np
    import pyarrow as pa

    chunks = [chunk.cast(pa.int64()).to_numpy(zero_copy_only=False) for chunk in column.chunks]
    if not chunks:
        return np.empty(0, np.int64)
    return chunks[0] if len(chunks) == 1 else np.concatenate(chunks)


def to_arrow(
    frame: pl.DataFrame, origin: str, times: Any, step_ms: int, written: dict[str, list[tuple[int, int]]]
) -> tuple[Any, dict[str, Any]]:
    """A sorted frame of new rows, all of ``origin``, as an Arrow table (``origin`` a one-entry dictionary,
    never n strings) and its footer summary as a partition of its own."""
    import pyarrow as pa

    n = frame.height
    table = pa.table(
        {
            **{c: frame[c].to_arrow() for c in ("time", *PRICE_COLUMNS, "trades")},
            "origin": constant_origin(origin, n),
        }
    ).cast(arrow_schema())
    return table, footer_summary(times, {origin: n} if n else {}, step_ms, written)


def constant_origin(origin: str, rows: int) -> Any:
    """An ``origin`` column of ``rows`` rows, all ``origin``, dictionary-encoded as the files store it."""
    import numpy as np
    import pyarrow as pa

    return pa.DictionaryArray.from_arrays(pa.array(np.zeros(rows, np.int32)), pa.array([origin]))


def origin_counts(column: Any) -> dict[str, int]:
    """Rows per origin of a dictionary-encoded ``origin`` column whose chunks share one dictionary."""
    import numpy as np

    if not column.num_chunks:
        return {}
    names = column.chunk(0).dictionary.to_pylist()
    counts = np.zeros(len(names), np.int64)
    for chunk in column.chunks:
        counts += np.bincount(chunk.indices.to_numpy(zero_copy_only=False), minlength=len(names))
    return {str(name): int(c) for name, c in zip(names, counts, strict=True) if c}


def write_table(table: Any, path: str, metadata: dict[str, str]) -> None:
    import pyarrow.parquet as pq

    options = dict(PARQUET_OPTIONS)
    row_group_size = options.pop("row_group_size")
    with pq.ParquetWriter(path, table.schema, **options) as writer:
        writer.write_table(table, row_group_size=row_group_size)
        writer.add_key_value_metadata(metadata)  # our footer summary (no Arrow schema blob to carry it)


def read_partition_info(year: int, path: Path) -> PartitionInfo:
    """Summary from the footer; files written by other tools fall back to row-group statistics."""
    import pyarrow.parquet as pq

    try:
        meta = pq.read_metadata(path)
    except OSError as exc:
        raise LakeError(f"cannot read {path}: {exc} (a partition not written by tradecore?)") from None
    return info_of_metadata(year, path, meta)


def info_of_metadata(year: int, path: Path, meta: Any) -> PartitionInfo:
    """The summary of a partition from its Parquet metadata (already read)."""
    names = meta.schema.names
    trades_at = names.index("trades") if "trades" in names else None
    trades_known = trades_at is not None
    for i in range(meta.num_row_groups if trades_known else 0):
        stats = meta.row_group(i).column(trades_at).statistics
        if stats is None or stats.null_count != 0:
            trades_known = False
            break
    raw = (meta.metadata or {}).get(META_KEY.encode())
    if raw:
        s = json.loads(raw)
        written = s.get("written")
        return PartitionInfo(
            year,
            path,
            s["rows"],
            s["first_ms"],
            s["last_ms"],
            s.get("origins", {}),
            [tuple(x) for x in s.get("spans", [])],
            s.get("missing_slots", 0),
            s.get("holes", 0),
            s["updated"] if "updated" in s else path.stat().st_mtime,
            None if written is None else {k: [(lo, hi) for lo, hi in v] for k, v in written.items()},
            trades_known,
        )
    first = last = None
    for i in range(meta.num_row_groups):
        stats = meta.row_group(i).column(0).statistics
        if stats is not None and stats.has_min_max:
            lo, hi = _stat_ms(stats.min), _stat_ms(stats.max)
            first = lo if first is None else min(first, lo)
            last = hi if last is None else max(last, hi)
    return PartitionInfo(year, path, meta.num_rows, first, last, {}, [], 0, 0, path.stat().st_mtime, None, trades_known)


def _stat_ms(value: Any) -> int:
    from datetime import datetime

    return int(value.timestamp() * 1000) if isinstance(value, datetime) else int(value)
