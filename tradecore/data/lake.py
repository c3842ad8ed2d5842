"""The Parquet candle lake: partitioned, idempotent, atomic, lock-serialised writes and lazy scans.

Layout: ``<root>/<exchange>/<pair dir>/<timeframe>/year=YYYY/data.parquet``, one file per year.
Each file carries a small JSON summary in its Parquet key-value metadata (rows, first/last open
time, origin mix, coarse stored spans), written in the same atomic rename as the data, so coverage
and listings read footers only and can never disagree with the data.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tradecore.data.partition import (
    DATA_FILE,
    META_KEY,
    ORIGINS,
    PRICE_COLUMNS,
    PartitionInfo,
    empty_frame,
    frame_schema,
    read_partition_info,
    to_arrow,
    write_table,
)
from tradecore.errors import LakeError
from tradecore.timeframes import TimeframeError, timeframe_ms

if TYPE_CHECKING:
    import polars as pl

#: a file at the lake's root whose modification time (ns) every partition write or removal sets: one stat tells a
#: reader that caches what the lake holds (the web service's coverage) whether anything changed
CHANGES_FILE = "_changed"
_SAFE_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_YEAR_DIR = re.compile(r"^year=(\d{4})$")


@dataclass(frozen=True)
class WriteResult:
    """What one write changed."""

    exchange: str
    pair: str
    timeframe: str
    rows_written: int  # rows of the incoming frame stored
    rows_replaced: int  # stored rows overwritten (same open time) or deleted (replace_window)
    partitions: tuple[str, ...] = ()  # relative paths of the partition files rewritten
    first_ms: int | None = None
    last_ms: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "exchange": self.exchange,
            "pair": self.pair,
            "timeframe": self.timeframe,
            "rows_written": self.rows_written,
            "rows_replaced": self.rows_replaced,
            "partitions": list(self.partitions),
            "first_ms": self.first_ms,
            "last_ms": self.last_ms,
        }


@dataclass(frozen=True)
class SeriesKey:
    """One stored series: exchange, pair (ccxt symbol) and timeframe."""

    exchange: str
    pair: str
    timeframe: str


def pair_dir(pair: str) -> str:
    """The folder name for a ccxt symbol: ``BTC/USD`` -> ``BTC-USD``; refuses anything path-like."""
    if not isinstance(pair, str) or not pair.strip():
        raise LakeError("pair is empty: give a ccxt symbol such as BTC/USD")
    if pair.count("/") > 1 or "\\" in pair or pair.startswith(("/", ".")) or ".." in pair:
        raise LakeError(f"pair {pair!r} would form a path outside the lake: use a ccxt symbol such as BTC/USD")
    name = pair.replace("/", "-").replace(":", "_")
    if not _SAFE_PART.match(name):
        raise LakeError(
            f"pair {pair!r} has characters a lake folder cannot hold: use letters, digits, '/', "
            "'-', '.', ':' (e.g. BTC/USD)"
        )
    return name


def _check_part(label: str, value: str, example: str) -> str:
    if not isinstance(value, str) or not _SAFE_PART.match(value) or ".." in value:
        raise LakeError(
            f"{label} {value!r} would form a path outside the lake or is not a plain name: "
            f"use letters, digits, '.', '-', '_' (e.g. {example})"
        )
    return value


def exchange_dir(exchange: str) -> str:
    """The folder name of an exchange; refuses anything path-like."""
    return _check_part("exchange", exchange, "kraken")


def _check_timeframe(timeframe: str) -> int:
    try:
        return timeframe_ms(timeframe)
    except TimeframeError as exc:
        raise LakeError(str(exc)) from None


def year_bounds_ms(year: int) -> tuple[int, int]:
    from datetime import datetime

    lo = int(datetime(year, 1, 1, tzinfo=UTC).timestamp() * 1000)
    hi = int(datetime(year + 1, 1, 1, tzinfo=UTC).timestamp() * 1000)
    return lo, hi


def _years_of(start_ms: int, end_ms: int) -> range:
    """Years touched by the half-open range [start_ms, end_ms)."""
    from datetime import datetime

    y0 = datetime.fromtimestamp(start_ms / 1000, tz=UTC).year
    y1 = datetime.fromtimestamp((end_ms - 1) / 1000, tz=UTC).year
    return range(y0, y1 + 1)


def _year_of(ms: int) -> int:
    from datetime import datetime

    return datetime.fromtimestamp(ms / 1000, tz=UTC).year


def to_ms(value: Any) -> int | None:
    """Epoch ms from an int (ms), a datetime, a date or an ISO string (UTC when naive)."""
    from datetime import date, datetime

    if value is None:
        return None
    if isinstance(value, bool):
        raise LakeError(f"invalid time {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise LakeError(f"invalid time {value!r}: use ISO dates such as 2024-01-01 or 2024-01-01T12:00") from None
    if isinstance(value, datetime):
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value
        return int(value.timestamp() * 1000)
    if isinstance(value, date):
        return int(datetime(value.year, value.month, value.day, tzinfo=UTC).timestamp() * 1000)
    raise LakeError(f"invalid time {value!r}: use epoch ms, a datetime or an ISO date")


#: year partitions written at once (Parquet encoding and compression release the GIL)
WRITE_THREADS = max(1, min(4, os.cpu_count() or 1))


class Lake:
    """A candle lake under ``root``; cheap to create, safe to share between processes."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).expanduser()

    def __repr__(self) -> str:
        return f"Lake({str(self.root)!r})"

    # ---------------------------------------------------------------- paths

    def series_dir(self, exchange: str, pair: str, timeframe: str) -> Path:
        """The folder of one series (validated so no symbol can escape the lake)."""
        exchange_dir(exchange)
        _check_timeframe(timeframe)
        path = self.root / exchange / pair_dir(pair) / timeframe
        root = self.root.resolve()
        if root not in path.resolve().parents:
            raise LakeError(f"{exchange}/{pair}/{timeframe} would be stored outside the lake {self.root}")
        return path

    def partition_files(
        self, exchange: str, pair: str, timeframe: str, years: range | None = None
    ) -> list[tuple[int, Path]]:
        """Existing year files of a series, oldest first (optionally only ``years``)."""
        base = self.series_dir(exchange, pair, timeframe)
        if not base.is_dir():
            return []
        found = []
        for entry in os.scandir(base):
            match = _YEAR_DIR.match(entry.name)
            if match and (years is None or int(match.group(1)) in years):
                file = Path(entry.path) / DATA_FILE
                if file.is_file():
                    found.append((int(match.group(1)), file))
        return sorted(found)

    def _lock(self, exchange: str, pair: str, timeframe: str, year: int) -> Any:
        from filelock import FileLock

        lock_dir = self.series_dir(exchange, pair, timeframe) / ".locks"
        self._mkdir(lock_dir)
        return FileLock(str(lock_dir / f"year={year}.lock"), timeout=600)

    def _mkdir(self, path: Path) -> None:
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LakeError(
                f"cannot create {path}: {exc.strerror or exc} (is the lake read-only? "
                "point --lake or TRADECORE_LAKE at a writable folder)"
            ) from None

    # ---------------------------------------------------------------- writing

    def normalise(self, frame: pl.DataFrame, timeframe: str, origin: str) -> pl.DataFrame:
        """Check and convert an incoming frame to the stored schema, sorted by time."""
        import polars as pl

        prepared, _ = self._prepare(frame, timeframe, origin)
        return prepared.with_columns(pl.lit(origin, dtype=pl.String).alias("origin"))

    def _prepare(self, frame: pl.DataFrame, timeframe: str, origin: str) -> tuple[pl.DataFrame, Any]:
        """``normalise`` without the origin column (added per partition, or written as a constant), and the
        sorted open times as epoch-ms numpy."""
        import numpy as np
        import polars as pl

        if origin not in ORIGINS:
            raise LakeError(f"origin {origin!r} is not one of {', '.join(ORIGINS)}")
        step = _check_timeframe(timeframe)
        missing = [c for c in ("time", *PRICE_COLUMNS) if c not in frame.columns]
        if missing:
            raise LakeError(
                f"candle frame lacks column(s) {', '.join(missing)}: need time, open, high, low, "
                "close, volume and optionally trades"
            )
        time_dtype = frame.schema["time"]
        if time_dtype.is_integer():
            time_expr = pl.col("time").cast(pl.Int64)
        elif isinstance(time_dtype, pl.Datetime):
            time_expr = (
                pl.col("time").dt.epoch("ms")
                if time_dtype.time_zone in (None, "UTC")
                else (pl.col("time").dt.convert_time_zone("UTC").dt.epoch("ms"))
            )
        else:
            raise LakeError(f"column 'time' has type {time_dtype}: use Datetime('ms', 'UTC') or Int64 epoch ms")
        trades = (
            pl.col("trades").cast(pl.Int64, strict=False) if "trades" in frame.columns else pl.lit(None, dtype=pl.Int64)
        )
        # casts to the type a column already has are free in Polars (no copy)
        out = frame.select(
            time_expr.alias("_ms"), *[pl.col(c).cast(pl.Float64) for c in PRICE_COLUMNS], trades.alias("trades")
        )
        if out["_ms"].null_count():
            raise LakeError("column 'time' has null values: every candle needs its open time")
        ms = out["_ms"].to_numpy()
        off = np.flatnonzero(ms % step)
        if off.size:
            bad = int(ms[off[0]])
            raise LakeError(
                f"{off.size} row(s) are not aligned to the {timeframe} grid (first: {_iso(bad)}, "
                f"{bad} ms): candle open times must be multiples of {step} ms since the epoch"
            )
        # dumps and exchange pages arrive sorted and unique: one cheap pass proves it, skipping sort + hashing
        if ms.size > 1 and not bool(np.all(ms[1:] > ms[:-1])):
            out = out.sort("_ms")
            if out["_ms"].is_duplicated().any():
                dup = out.filter(pl.col("_ms").is_duplicated())["_ms"][0]
                raise LakeError(f"the frame holds several candles for {_iso(dup)}: give one row per open time")
            ms = out["_ms"].to_numpy()
        out = out.select(pl.col("_ms").cast(pl.Datetime("ms", "UTC")).alias("time"), *PRICE_COLUMNS, "trades")
        return out, ms

    def write(self, exchange: str, pair: str, timeframe: str, frame: pl.DataFrame, origin: str) -> WriteResult:
        """Upsert candles by open time; rewrites only the year partitions the frame touches."""
        return self._write(exchange, pair, timeframe, frame, origin, window=None)

    def replace_window(
        self, exchange: str, pair: str, timeframe: str, start_ms: int, end_ms: int, frame: pl.DataFrame, origin: str
    ) -> WriteResult:
        """Delete every stored candle in [start_ms, end_ms), then insert ``frame`` (which must lie inside)."""
        start_ms, end_ms = to_ms(start_ms), to_ms(end_ms)
        if start_ms >= end_ms:
            raise LakeError(f"window start {_iso(start_ms)} is not before its end {_iso(end_ms)}")
        return self._write(exchange, pair, timeframe, frame, origin, window=(start_ms, end_ms))

    def _write(
        self, exchange: str, pair: str, timeframe: str, frame: pl.DataFrame, origin: str, window: tuple[int, int] | None
    ) -> WriteResult:
        import numpy as np

        base = self.series_dir(exchange, pair, timeframe)
        step = timeframe_ms(timeframe)
        new, ms = self._prepare(frame, timeframe, origin)
        first = int(ms[0]) if new.height else None
        last = int(ms[-1]) if new.height else None
        if window is not None and new.height and (first < window[0] or last >= window[1]):
            raise LakeError(
                f"replace_window: frame rows run {_iso(first)} .. {_iso(last)}, outside the window "
                f"[{_iso(window[0])}, {_iso(window[1])})"
            )
        years = set(_years_of(window[0], window[1])) if window else set()
        by_year: dict[int, pl.DataFrame] = {}
        times_by_year: dict[int, Any] = {}
        if new.height:
            # sorted: each year is a contiguous slice (zero-copy), found by binary search
            for year in _years_of(first, last + 1):
                lo, hi = year_bounds_ms(year)
                a, b = np.searchsorted(ms, [lo, hi])
                if b > a:
                    by_year[year] = new.slice(int(a), int(b - a))
                    times_by_year[year] = ms[a:b]
            years |= set(by_year)
        if not years:
            return WriteResult(exchange, pair, timeframe, 0, 0)
        self._mkdir(base)
        self._write_series_meta(base, exchange, pair, timeframe)
        # the range this write speaks for: a window it replaced, or its first to last row
        covered = window if window is not None else (first, last + step)

        def rewrite(year: int) -> int:
            lo, hi = year_bounds_ms(year)
            with self._lock(exchange, pair, timeframe, year):
                return self._rewrite_partition(
                    base,
                    year,
                    step,
                    by_year.get(year),
                    times_by_year.get(year),
                    origin,
                    window,
                    (max(covered[0], lo), min(covered[1], hi)),
                )

        ordered = sorted(years)
        if len(ordered) > 1 and WRITE_THREADS > 1:
            # one partition per thread: Parquet encoding and compression release the GIL
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(min(WRITE_THREADS, len(ordered))) as pool:
                futures = [pool.submit(rewrite, year) for year in ordered]
            replaced = sum(f.result() for f in futures)  # re-raises the first failure, after all have finished
        else:
            replaced = sum(rewrite(year) for year in ordered)
        touched = tuple(f"{exchange}/{pair_dir(pair)}/{timeframe}/year={year}/{DATA_FILE}" for year in ordered)
        return WriteResult(exchange, pair, timeframe, new.height, replaced, touched, first, last)

    def _rewrite_partition(
        self,
        base: Path,
        year: int,
        step: int,
        part_new: pl.DataFrame | None,
        times: Any,
        origin: str,
        window: tuple[int, int] | None,
        covered: tuple[int, int],
    ) -> int:
        import numpy as np

        from tradecore.data.merge import merge_partition

        path = base / f"year={year}" / DATA_FILE
        # we hold the partition lock: any temp file here was left by a writer that was killed
        for stale in path.parent.glob(".data-*.tmp") if path.parent.is_dir() else ():
            _unlink_quiet(str(stale))
        if part_new is None:
            part_new, times = empty_frame().drop("origin"), np.empty(0, np.int64)
        new, summary = to_arrow(part_new, origin, times, step, {origin: [covered]})
        if not path.is_file():
            if new.num_rows:
                self._atomic_write(path, new, summary)  # a fresh partition: nothing to merge
            return 0
        merged = merge_partition(path, year, new, times, origin, window, covered, step)
        if merged.table.num_rows == 0:
            self._remove(path)
        else:
            self._atomic_write(path, merged.table, merged.summary)
        return merged.replaced

    def _atomic_write(self, path: Path, table: Any, summary: dict[str, Any]) -> None:
        """Write ``table`` (sorted, in the stored schema) and its footer ``summary`` beside ``path``, fsync it,
        then rename it over ``path``."""
        self._mkdir(path.parent)
        fd, tmp = tempfile.mkstemp(prefix=".data-", suffix=".tmp", dir=path.parent)
        os.close(fd)
        try:
            write_table(table, tmp, {META_KEY: json.dumps(summary, separators=(",", ":"))})
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, path)
            _fsync_dir(path.parent)
        except OSError as exc:
            _unlink_quiet(tmp)
            raise LakeError(
                f"cannot write {path}: {exc.strerror or str(exc).strip().splitlines()[-1]} "
                "(disk full or read-only? the stored data is unchanged)"
            ) from None
        except BaseException:
            _unlink_quiet(tmp)
            raise
        self._note_change()

    def _remove(self, path: Path) -> None:
        try:
            os.unlink(path)
            _fsync_dir(path.parent)
        except OSError as exc:
            raise LakeError(f"cannot remove {path}: {exc.strerror or exc}") from None
        self._note_change()

    def _note_change(self) -> None:
        """Stamp ``CHANGES_FILE`` with the time in ns, given explicitly: file systems keep ns, while the kernel's
        own "now" for file times is coarse (ms) and two quick writes could leave the same stamp."""
        marker = self.root / CHANGES_FILE
        now = time.time_ns()
        try:
            os.utime(marker, ns=(now, now))
        except FileNotFoundError:
            marker.touch()
            os.utime(marker, ns=(now, now))

    def changed_ns(self) -> int | None:
        """When a partition was last written or removed (ns since the epoch); None for a lake that never was."""
        try:
            return (self.root / CHANGES_FILE).stat().st_mtime_ns
        except OSError:
            return None

    def _write_series_meta(self, base: Path, exchange: str, pair: str, timeframe: str) -> None:
        """``_series.json`` keeps the original ccxt symbol (folder names lose ``/`` and ``:``)."""
        meta_path = base / "_series.json"
        if meta_path.is_file():
            return
        payload = json.dumps({"exchange": exchange, "pair": pair, "timeframe": timeframe})
        fd, tmp = tempfile.mkstemp(prefix=".series-", suffix=".tmp", dir=base)
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(payload)
            os.replace(tmp, meta_path)
        except OSError as exc:
            _unlink_quiet(tmp)
            raise LakeError(f"cannot write {meta_path}: {exc.strerror or exc}") from None

    # ---------------------------------------------------------------- reading

    def scan(self, exchange: str, pair: str, timeframe: str, start: Any = None, end: Any = None) -> pl.LazyFrame:
        """Candles in [start, end) as a LazyFrame; only year files in range are opened and row groups
        outside the range are skipped through Parquet statistics."""
        import polars as pl

        start_ms, end_ms = to_ms(start), to_ms(end)
        if start_ms is not None and end_ms is not None and start_ms >= end_ms:
            raise LakeError(f"start {_iso(start_ms)} is not before end {_iso(end_ms)}")
        years = None
        if start_ms is not None or end_ms is not None:
            first_year = _year_of(start_ms) if start_ms is not None else 0
            last_year = _year_of(end_ms - 1) if end_ms is not None else 9999
            years = range(first_year, last_year + 1)
        files = [str(p) for _, p in self.partition_files(exchange, pair, timeframe, years)]
        if not files:
            return empty_frame().lazy()
        lazy = pl.scan_parquet(files, schema=frame_schema(), hive_partitioning=False)
        if start_ms is not None:
            lazy = lazy.filter(pl.col("time") >= pl.lit(start_ms).cast(pl.Datetime("ms", "UTC")))
        if end_ms is not None:
            lazy = lazy.filter(pl.col("time") < pl.lit(end_ms).cast(pl.Datetime("ms", "UTC")))
        return lazy

    def read(self, exchange: str, pair: str, timeframe: str, start: Any = None, end: Any = None) -> pl.DataFrame:
        return self.scan(exchange, pair, timeframe, start, end).collect()

    def partitions(self, exchange: str, pair: str, timeframe: str) -> list[PartitionInfo]:
        """Footer summaries of every year file (no data pages are read)."""
        return [read_partition_info(year, path) for year, path in self.partition_files(exchange, pair, timeframe)]

    def last_time(self, exchange: str, pair: str, timeframe: str) -> int | None:
        """Newest stored open time (epoch ms), from the newest partition's footer."""
        files = self.partition_files(exchange, pair, timeframe)
        for year, path in reversed(files):
            info = read_partition_info(year, path)
            if info.last_ms is not None:
                return info.last_ms
        return None

    def first_time(self, exchange: str, pair: str, timeframe: str) -> int | None:
        for year, path in self.partition_files(exchange, pair, timeframe):
            info = read_partition_info(year, path)
            if info.first_ms is not None:
                return info.first_ms
        return None

    def series(self) -> Iterator[SeriesKey]:
        """Every stored series, sorted by exchange, pair folder, timeframe."""
        try:
            yield from self._series()
        except OSError as exc:
            inside = f" ({exc.filename})" if exc.filename and str(exc.filename) != str(self.root) else ""
            raise LakeError(
                f"cannot read the lake {self.root}{inside}: {exc.strerror or exc}; point --lake or TRADECORE_LAKE "
                "at a lake folder you can read, or fix its permissions"
            ) from None

    def _series(self) -> Iterator[SeriesKey]:
        if not self.root.is_dir():
            return
        for ex in sorted(p for p in self.root.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))):
            for pd in sorted(p for p in ex.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))):
                for tf in sorted(p for p in pd.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))):
                    if not any(_YEAR_DIR.match(c.name) for c in tf.iterdir()):
                        continue
                    pair = pd.name
                    meta = tf / "_series.json"
                    if meta.is_file():
                        try:
                            pair = json.loads(meta.read_text())["pair"]
                        except (OSError, ValueError, KeyError):
                            pass
                    yield SeriesKey(ex.name, pair, tf.name)


def _iso(ms: int | None) -> str:
    from datetime import datetime

    if ms is None:
        return "-"
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M")


iso_ms = _iso


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _unlink_quiet(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
