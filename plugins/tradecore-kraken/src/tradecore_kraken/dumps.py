"""Kraken OHLCVT dump import: CSV files or Kraken's ZIPs, recorded by content hash, into the lake.

Kraken's archives (``Kraken_OHLCVT.zip`` complete history, ``Kraken_OHLCVT_Q3_2023.zip`` quarterlies)
hold one headerless CSV per pair and interval named ``<ALTNAME>_<minutes>.csv``, nested at varying
depths, so members are matched by base name anywhere. Members are streamed, never extracted nor held
whole: parsed in blocks and written year by year, under caps on the uncompressed size and the
compression ratio (:mod:`tradecore_kraken.limits`). An archive with a member path that would escape a
target folder is refused outright. Each imported CSV's sha256 and size go into a small table beside the
jobs (``kraken_dumps`` in ``_jobs.sqlite3``), so importing the same dump twice is a no-op; content of a
size never recorded is new for certain, so it is read once (hashed on the way) instead of twice.

A file is authoritative over the range it spans: its rows replace that range in the lake, in windows
that tile it from its first row to its last (one write per year or few years), so an empty interval
between two of its rows reads as "nobody traded" and no candle of another origin is left inside.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import time
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import IO, TYPE_CHECKING, Any

from tradecore.api import JobStore, TradecoreError, timeframe_ms
from tradecore_kraken.errors import DumpError
from tradecore_kraken.kraken_csv import MINUTES_TO_TIMEFRAME, iter_ohlcvt
from tradecore_kraken.limits import ImportLimits
from tradecore_kraken.pairs import DUMP_FILE, altname_to_symbol

if TYPE_CHECKING:
    import polars as pl

    from tradecore.api import Lake

EXCHANGE = "kraken"
_TABLE = """CREATE TABLE IF NOT EXISTS kraken_dumps (
    sha256 TEXT PRIMARY KEY, label TEXT NOT NULL, pair TEXT NOT NULL, timeframe TEXT NOT NULL,
    rows INTEGER NOT NULL, first_ms INTEGER, last_ms INTEGER, imported REAL NOT NULL)"""
#: columns added later (NULL in rows recorded before them)
_LATER_COLUMNS = ("size INTEGER",)
#: CSV bytes parsed at once (cut at a line end); larger blocks parse no faster but hold more memory
BLOCK_BYTES = 4 << 20
#: candles held before every whole year among them is written (memory: this, one year and one block)
FLUSH_ROWS = 500_000
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, zlib.error)


@dataclass(frozen=True)
class DumpMember:
    """One OHLCVT CSV found in the given paths (a file, or a member of a ZIP)."""

    label: str  # path, or "archive.zip!inner/path.csv"
    altname: str
    minutes: int
    archive: Path | None
    member: str | None
    path: Path | None
    #: bytes (a ZIP member's from the archive's directory) and, in a ZIP, compressed bytes
    size: int | None = None
    compressed: int | None = None

    @property
    def symbol(self) -> str:
        return altname_to_symbol(self.altname)

    @property
    def timeframe(self) -> str:
        if self.minutes not in MINUTES_TO_TIMEFRAME:
            raise DumpError(f"{self.label}: {self.minutes}-minute candles are not a Kraken interval")
        return MINUTES_TO_TIMEFRAME[self.minutes]

    @contextmanager
    def open(self, limits: ImportLimits) -> Iterator[IO[bytes]]:
        """The member's bytes as a stream, after checking its size (and ratio) against ``limits``."""
        if self.path is not None:
            try:
                handle = open(self.path, "rb")  # noqa: SIM115 (closed below)
            except OSError as exc:
                raise DumpError(f"{self.label}: cannot read ({exc.strerror or exc})") from None
            with handle:
                limits.check(self.label, os.fstat(handle.fileno()).st_size)
                yield _Capped(handle, self.label, limits.max_bytes)
            return
        limits.check(self.label, self.size or 0, self.compressed)
        try:
            archive = zipfile.ZipFile(self.archive)
            stream = archive.open(self.member)
        except _ZIP_ERRORS as exc:
            raise _corrupt(self.label, exc) from None
        with archive, stream:
            yield _Capped(stream, self.label, limits.max_bytes)


class _Capped:
    """A read-only stream that refuses to deliver more than ``max_bytes`` (sizes in a ZIP's directory can
    lie) and names the member when the ZIP data is corrupt."""

    def __init__(self, stream: IO[bytes], label: str, max_bytes: int) -> None:
        self.stream, self.label, self.left = stream, label, max_bytes

    def read(self, size: int = -1) -> bytes:
        return self._take(self.stream.read, size)

    def readline(self, size: int = -1) -> bytes:
        return self._take(self.stream.readline, size)

    def _take(self, read: Any, size: int) -> bytes:
        want = self.left + 1 if size < 0 else min(size, self.left + 1)
        try:
            data = read(want)
        except _ZIP_ERRORS as exc:
            raise _corrupt(self.label, exc) from None
        self.left -= len(data)
        if self.left < 0:
            raise DumpError(
                f"{self.label}: more bytes than the member size cap; raise it with --max-member-size or "
                "TRADECORE_KRAKEN_MAX_MEMBER_SIZE if the file is genuine"
            )
        return data


def _corrupt(label: str, exc: BaseException) -> DumpError:
    return DumpError(f"{label}: the ZIP member is corrupt or truncated ({exc}); download the archive again")


def _unsafe_member(name: str) -> bool:
    path = PurePosixPath(name.replace("\\", "/"))
    return path.is_absolute() or ".." in path.parts or (len(name) > 1 and name[1] == ":")


def find_members(paths: list[str | Path]) -> Iterator[DumpMember]:
    """Every ``<ALTNAME>_<minutes>.csv`` in ``paths`` (CSV files, folders, ZIPs)."""
    for raw in paths:
        path = Path(raw).expanduser()
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in (".csv", ".zip"))
            yield from find_members(files)
        elif not path.exists():
            raise DumpError(f"{path}: no such file; pass Kraken OHLCVT CSVs or ZIPs")
        elif path.suffix.lower() == ".zip":
            yield from _zip_members(path)
        else:
            match = DUMP_FILE.match(path.name)
            if not match:
                raise DumpError(
                    f"{path}: not a Kraken OHLCVT file name; expected <ALTNAME>_<minutes>.csv, e.g. XBTUSD_60.csv"
                )
            yield DumpMember(str(path), match[1].upper(), int(match[2]), None, None, path, path.stat().st_size)


def _zip_members(path: Path) -> Iterator[DumpMember]:
    try:
        with zipfile.ZipFile(path) as archive:
            infos = {info.filename: info for info in archive.infolist()}
            names = list(infos)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise DumpError(f"{path}: not a readable ZIP ({exc}); the download may be truncated") from None
    unsafe = [n for n in names if _unsafe_member(n)]
    if unsafe:
        raise DumpError(f"{path}: refused, member {unsafe[0]!r} has a path that escapes the archive folder")
    for name in names:
        base = PurePosixPath(name).name
        match = DUMP_FILE.match(base)
        if match and not name.endswith("/") and not base.startswith("._"):
            info = infos[name]
            yield DumpMember(
                f"{path}!{name}",
                match[1].upper(),
                int(match[2]),
                path,
                name,
                None,
                info.file_size,
                info.compress_size,
            )


class DumpLedger:
    """The table of imported dump contents, keyed by sha256, in the lake's job database."""

    def __init__(self, lake_root: str | Path) -> None:
        self.path = JobStore(lake_root).path  # the lake's job database

    def _connect(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            conn.execute(_TABLE)
            have = {row[1] for row in conn.execute("PRAGMA table_info(kraken_dumps)")}
            for column in _LATER_COLUMNS:
                if column.split()[0] not in have:
                    conn.execute(f"ALTER TABLE kraken_dumps ADD COLUMN {column}")
            return conn
        except (OSError, sqlite3.Error) as exc:
            raise DumpError(f"cannot open {self.path}: {exc} (is the lake read-only?)") from None

    def seen(self, sha256: str) -> dict[str, Any] | None:
        conn = self._connect()
        try:
            row = conn.execute(
                "SELECT label, pair, timeframe, rows, imported FROM kraken_dumps WHERE sha256 = ?", (sha256,)
            ).fetchone()
        finally:
            conn.close()
        if row is None:
            return None
        return dict(zip(("label", "pair", "timeframe", "rows", "imported"), row, strict=True))

    def may_hold(self, size: int | None) -> bool:
        """Whether content of ``size`` bytes may have been imported (always, when a size is unknown)."""
        if size is None:
            return True
        conn = self._connect()
        try:
            row = conn.execute("SELECT 1 FROM kraken_dumps WHERE size = ? OR size IS NULL LIMIT 1", (size,)).fetchone()
        finally:
            conn.close()
        return row is not None

    def record(self, digest: ContentDigest, label: str, pair: str, timeframe: str, span: Span) -> None:
        conn = self._connect()
        try:
            conn.execute(
                "INSERT OR REPLACE INTO kraken_dumps (sha256, label, pair, timeframe, rows, first_ms, last_ms, "
                "imported, size) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    digest.sha256,
                    label,
                    pair,
                    timeframe,
                    span.rows,
                    span.first_ms,
                    span.last_ms,
                    time.time(),
                    digest.size,
                ),
            )
        finally:
            conn.close()


class ContentDigest:
    """sha256 and size of bytes fed in order."""

    def __init__(self) -> None:
        self._sha = hashlib.sha256()
        self.size = 0

    def feed(self, data: bytes) -> None:
        self._sha.update(data)
        self.size += len(data)

    @property
    def sha256(self) -> str:
        return self._sha.hexdigest()

    @classmethod
    def of(cls, member: DumpMember, limits: ImportLimits) -> ContentDigest:
        digest = cls()
        with member.open(limits) as stream:
            while chunk := stream.read(BLOCK_BYTES):
                digest.feed(chunk)
        return digest


@dataclass
class Span:
    """Rows read so far and their first and last open time (ms)."""

    rows: int = 0
    first_ms: int | None = None
    last_ms: int | None = None

    def add(self, times_ms: Any) -> None:
        if len(times_ms):
            self.rows += len(times_ms)
            self.first_ms = int(times_ms[0]) if self.first_ms is None else self.first_ms
            self.last_ms = int(times_ms[-1])


@dataclass
class ImportOutcome:
    label: str
    pair: str
    timeframe: str
    status: str  # imported | skipped (same content already imported) | planned
    rows: int
    first_ms: int | None = None
    last_ms: int | None = None
    sha256: str = ""

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _year_start_ms(ms: int) -> int:
    year = datetime.fromtimestamp(ms / 1000, tz=UTC).year
    return int(datetime(year, 1, 1, tzinfo=UTC).timestamp() * 1000)


class WindowWriter:
    """Writes a file's candles, arriving oldest first, as lake windows that tile [first row, last row + step):
    every whole year held once :data:`FLUSH_ROWS` are buffered, the rest at the end. Each window replaces
    its range (the file is authoritative over it) and each partition is rewritten atomically by the lake."""

    def __init__(self, lake: Lake, symbol: str, timeframe: str, label: str) -> None:
        self.lake, self.symbol, self.timeframe, self.label = lake, symbol, timeframe, label
        self.step = timeframe_ms(timeframe)
        self.held: list[pl.DataFrame] = []
        self.held_rows = 0
        self.cursor: int | None = None  # where the next window starts
        self.last_ms: int | None = None

    def add(self, frame: pl.DataFrame, times_ms: Any) -> None:
        if not frame.height:
            return
        if self.cursor is None:
            self.cursor = int(times_ms[0])
        self.last_ms = int(times_ms[-1])
        self.held.append(frame)
        self.held_rows += frame.height
        if self.held_rows >= FLUSH_ROWS:
            self._flush(_year_start_ms(self.last_ms))

    def finish(self) -> None:
        if self.last_ms is not None:
            self._flush(self.last_ms + self.step)

    def _flush(self, end_ms: int) -> None:
        import polars as pl

        if self.cursor is None or end_ms <= self.cursor:
            return
        held = pl.concat(self.held, rechunk=False)  # chunks side by side: no copy
        self.held = []
        cut = int(held["time"].to_physical().search_sorted(end_ms))
        try:
            self.lake.replace_window(
                EXCHANGE, self.symbol, self.timeframe, self.cursor, end_ms, held.slice(0, cut), "dump"
            )
        except TradecoreError as exc:
            raise DumpError(f"{self.label}: {exc}") from None
        rest = held.slice(cut)
        self.held, self.held_rows, self.cursor = [rest] if rest.height else [], rest.height, end_ms


def import_member(
    member: DumpMember,
    lake: Lake,
    ledger: DumpLedger,
    *,
    dry_run: bool = False,
    force: bool = False,
    limits: ImportLimits | None = None,
) -> ImportOutcome:
    """Import one CSV into ``lake`` unless its content was imported before, streaming it in bounded memory."""
    symbol, timeframe = member.symbol, member.timeframe
    limits = limits or ImportLimits.from_env()
    known: ContentDigest | None = None
    if not force and ledger.may_hold(member.size):
        known = ContentDigest.of(member, limits)
        previous = ledger.seen(known.sha256)
        if previous is not None:
            return ImportOutcome(member.label, symbol, timeframe, "skipped", int(previous["rows"]), sha256=known.sha256)
    digest = known or ContentDigest()
    writer = None if dry_run else WindowWriter(lake, symbol, timeframe, member.label)
    span = Span()
    with member.open(limits) as stream:
        frames = iter_ohlcvt(
            stream,
            name=member.label,
            timeframe=timeframe,
            block_bytes=BLOCK_BYTES,
            on_bytes=None if known else digest.feed,
        )
        for frame in frames:
            times = frame["time"].to_physical().to_numpy()
            span.add(times)
            if writer is not None:
                writer.add(frame, times)
    if writer is None:
        return ImportOutcome(
            member.label, symbol, timeframe, "planned", span.rows, span.first_ms, span.last_ms, digest.sha256
        )
    writer.finish()
    ledger.record(digest, member.label, symbol, timeframe, span)
    return ImportOutcome(
        member.label, symbol, timeframe, "imported", span.rows, span.first_ms, span.last_ms, digest.sha256
    )


def coverage_of(member: DumpMember, limits: ImportLimits | None = None) -> tuple[int, int]:
    """(first, last) bar open time in ms, from the first and last lines: a plain file's tail is read by
    seeking, a ZIP member is streamed through (bounded memory)."""
    try:
        if member.path is not None:
            with open(member.path, "rb") as fh:
                first_line = fh.readline()
                fh.seek(max(0, os.fstat(fh.fileno()).st_size - 4096))
                tail = fh.read()
        else:
            first_line = tail = b""
            with member.open(limits or ImportLimits.from_env()) as stream:
                while chunk := stream.read(BLOCK_BYTES):
                    if not first_line:
                        first_line = chunk.split(b"\n", 1)[0]
                    tail = (tail + chunk)[-4096:]
        last_line = next(line for line in reversed(tail.splitlines()) if line.strip())
        return int(first_line.split(b",")[0]) * 1000, int(last_line.split(b",")[0]) * 1000
    except (OSError, ValueError, StopIteration):
        raise DumpError(f"{member.label}: cannot read its first and last rows; is it a Kraken OHLCVT CSV?") from None
