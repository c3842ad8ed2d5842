"""Candles of a range as a byte stream: Arrow record batches scanned from the year files (row groups outside
the range are skipped by their statistics), each encoded and handed on before the next is read. The scan reads
ahead at most ``READ_AHEAD`` batches, so memory stays a few batches whatever the range."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

BATCH_ROWS = 65_536
#: batches the scan may read ahead of the encoder (Arrow's default, 16 of them and 4 files, costs ~100 MB)
READ_AHEAD = 2


class _Sink:
    """A write-only file that keeps what was written until drained (the writers' output, batch by batch)."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.closed = False
        self.position = 0

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self.chunks.append(chunk)
        self.position += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self.position

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True

    def drain(self) -> bytes:
        out = b"".join(self.chunks)
        self.chunks.clear()
        return out


def scan_batches(files: list[Path], start_ms: int | None, end_ms: int | None) -> tuple[Any, Iterator[Any]]:
    """The stored schema and the batches of [start_ms, end_ms)."""
    import pyarrow as pa
    import pyarrow.dataset as ds

    dataset = ds.dataset([str(f) for f in files], format="parquet")
    condition = None
    for op, ms in (("ge", start_ms), ("lt", end_ms)):
        if ms is None:
            continue
        bound = pa.scalar(ms, type=pa.timestamp("ms", tz="UTC"))
        term = ds.field("time") >= bound if op == "ge" else ds.field("time") < bound
        condition = term if condition is None else condition & term
    batches = dataset.to_batches(
        filter=condition, batch_size=BATCH_ROWS, batch_readahead=READ_AHEAD, fragment_readahead=1
    )
    return dataset.schema, iter(batches)


def batches_parquet(schema: Any, batches: Iterator[Any]) -> Iterator[bytes]:
    import pyarrow.parquet as pq

    sink = _Sink()
    writer = pq.ParquetWriter(pa_file(sink), schema.remove_metadata(), compression="zstd")
    for batch in batches:
        writer.write_batch(batch, row_group_size=BATCH_ROWS)
        if data := sink.drain():
            yield data
    writer.close()
    yield sink.drain()


def batches_csv(schema: Any, batches: Iterator[Any]) -> Iterator[bytes]:
    """CSV with one header line; Polars' writer (several times Arrow's speed at formatting floats)."""
    import io

    import polars as pl

    header = True
    for batch in batches:
        out = io.BytesIO()
        pl.from_arrow(batch).write_csv(out, include_header=header)
        header = False
        yield out.getvalue()
    if header:  # nothing in the range: the header alone
        out = io.BytesIO()
        pl.from_arrow(schema.empty_table()).write_csv(out)
        yield out.getvalue()


def pa_file(sink: _Sink) -> Any:
    import pyarrow as pa

    return pa.PythonFile(sink, mode="w")
