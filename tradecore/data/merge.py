"""Upsert new rows into one stored partition, as Arrow: rows before and after the changed stretch are kept
as zero-copy slices, and only the stretch the new rows (or a replaced window) touch is filtered and sorted.

The stored ``origin`` column is read as dictionary codes and written back as such (no string per row),
and the footer summary is built from the merged open times, the origin counts and the covered ranges.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tradecore.data.partition import arrow_schema, footer_summary, info_of_metadata, int64_column, origin_counts
from tradecore.data.provenance import add_written


@dataclass
class Merged:
    table: Any  # pyarrow.Table, sorted by time
    summary: dict[str, Any]
    replaced: int  # stored rows overwritten (same open time) or deleted (window)


def merge_partition(
    path: Path,
    year: int,
    new: Any,
    new_times: np.ndarray,
    origin: str,
    window: tuple[int, int] | None,
    covered: tuple[int, int],
    step_ms: int,
) -> Merged:
    """The partition at ``path`` with the rows of ``new`` (an Arrow table, sorted, open times ``new_times``)
    upserted by open time, after deleting stored rows in ``window``; ``covered`` joins ``origin``'s ranges."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    handle = pq.ParquetFile(path, read_dictionary=["origin"])
    info = info_of_metadata(year, path, handle.metadata)
    schema = arrow_schema()
    old = handle.read().select(schema.names).cast(schema)
    old_times = int64_column(old.column("time"))
    lo, hi = _changed_stretch(new_times, window)
    a, b = (int(i) for i in np.searchsorted(old_times, [lo, hi]))
    stretch = old_times[a:b]
    keep = np.ones(len(stretch), bool)
    if window is not None:
        keep &= (stretch < window[0]) | (stretch >= window[1])
    if len(new_times) and len(stretch):
        at = np.minimum(np.searchsorted(new_times, stretch), len(new_times) - 1)
        keep &= new_times[at] != stretch  # a stored row with a new row's open time is replaced
    middle = old.slice(a, b - a).filter(pa.array(keep))
    middle_times = stretch[keep]
    if len(new_times):
        middle = pa.concat_tables([middle, new.cast(schema)]).unify_dictionaries().combine_chunks()
        middle_times = np.concatenate([middle_times, new_times])
        if len(middle_times) > 1 and not bool(np.all(middle_times[1:] > middle_times[:-1])):
            order = np.argsort(middle_times, kind="stable")
            middle, middle_times = middle.take(order), middle_times[order]
    table = pa.concat_tables([old.slice(0, a), middle, old.slice(b)]).unify_dictionaries()
    times = np.concatenate([old_times[:a], middle_times, old_times[b:]])
    written = info.written
    if written is None:  # a footer from before covered ranges were kept: each origin's rows as one write
        last = info.last_ms + step_ms if info.last_ms is not None else None
        written = {name: [(info.first_ms, last)] for name in info.origins if last is not None}
    written = add_written(written, origin, *covered)
    summary = footer_summary(times, origin_counts(table.column("origin")), step_ms, written)
    return Merged(table, summary, len(stretch) - int(keep.sum()))


def _changed_stretch(new_times: np.ndarray, window: tuple[int, int] | None) -> tuple[int, int]:
    """The half-open open-time range where stored rows may be replaced or deleted."""
    bounds = [(int(new_times[0]), int(new_times[-1]) + 1)] if len(new_times) else []
    if window is not None:
        bounds.append(window)
    return min(lo for lo, _ in bounds), max(hi for _, hi in bounds)
