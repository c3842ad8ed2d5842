"""Kraken OHLCVT dump import: CSV files or Kraken's ZIPs, recorded by content hash, into the lake.

Kraken's archives (``Kraken_OHLCVT.zip`` complete history, ``Kraken_OHLCVT_Q3_2023.zip`` quarterlies)
hold one headerless CSV per pair and interval named ``<ALTNAME>_<minutes>.csv``, nested at varying
depths, so members are matched by base name anywhere. ZIPs are read in memory, never extracted, and
an archive with a member path that would escape a target folder is refused outright. Each imported
CSV's sha256 goes into a small table beside the jobs (``kraken_dumps`` in ``_jobs.sqlite3``), so
importing the same dump twice is a no-op.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from tradecore.api import JobStore
from tradecore_kraken.errors import DumpError
from tradecore_kraken.kraken_csv import MINUTES_TO_TIMEFRAME, read_ohlcvt
from tradecore_kraken.pairs import DUMP_FILE, altname_to_symbol

if TYPE_CHECKING:
    import polars as pl

    from tradecore.api import Lake

EXCHANGE = "kraken"
_TABLE = """CREATE TABLE IF NOT EXISTS kraken_dumps (
    sha256 TEXT PRIMARY KEY, label TEXT NOT NULL, pair TEXT NOT NULL, timeframe TEXT NOT NULL,
    rows INTEGER NOT NULL, first_ms INTEGER, last_ms INTEGER, imported REAL NOT NULL)"""


@dataclass(frozen=True)
class DumpMember:
    """One OHLCVT CSV found in the given paths (a file, or a member of a ZIP)."""

    label: str  # path, or "archive.zip!inner/path.csv"
    altname: str
    minutes: int
    archive: Path | None
    member: str | None
    path: Path | None

    @property
    def symbol(self) -> str:
        return altname_to_symbol(self.altname)

    @property
    def timeframe(self) -> str:
        if self.minutes not in MINUTES_TO_TIMEFRAME:
            raise DumpError(f"{self.label}: {self.minutes}-minute candles are not a Kraken interval")
        return MINUTES_TO_TIMEFRAME[self.minutes]

    def read_bytes(self) -> bytes:
        if self.path is not None:
            try:
                return self.path.read_bytes()
            except OSError as exc:
                raise DumpError(f"{self.label}: cannot read ({exc.strerror or exc})") from None
        try:
            with zipfile.ZipFile(self.archive) as archive:
                return archive.read(self.member)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, zlib.error) as exc:
            raise DumpError(
                f"{self.label}: the ZIP member is corrupt or truncated ({exc}); download the archive again"
            ) from None

    def read(self, data: bytes | None = None) -> pl.DataFrame:
        return read_ohlcvt(self.read_bytes() if data is None else data, name=self.label, timeframe=self.timeframe)


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
            yield DumpMember(str(path), match[1].upper(), int(match[2]), None, None, path)


def _zip_members(path: Path) -> Iterator[DumpMember]:
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise DumpError(f"{path}: not a readable ZIP ({exc}); the download may be truncated") from None
    unsafe = [n for n in names if _unsafe_member(n)]
    if unsafe:
        raise DumpError(f"{path}: refused, member {unsafe[0]!r} has a path that escapes the archive folder")
    for name in names:
        base = PurePosixPath(name).name
        match = DUMP_FILE.match(base)
        if match and not name.endswith("/") and not base.startswith("._"):
            yield DumpMember(f"{path}!{name}", match[1].upper(), int(match[2]), path, name, None)


class DumpLedger:
    """The table of imported dump contents, keyed by sha256, in the lake's job database."""

    def __init__(self, lake_root: str | Path) -> None:
        self.path = JobStore(lake_root).path  # the lake's job database

    def _connect(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            conn.execute(_TABLE)
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

    def record(
        self, sha256: str, label: str, pair: str, timeframe: str, rows: int, first_ms: int | None, last_ms: int | None
    ) -> None:
        conn = self._connect()
        try:
            conn.execute(
                "INSERT OR REPLACE INTO kraken_dumps VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (sha256, label, pair, timeframe, rows, first_ms, last_ms, time.time()),
            )
        finally:
            conn.close()


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


def import_member(
    member: DumpMember, lake: Lake, ledger: DumpLedger, *, dry_run: bool = False, force: bool = False
) -> ImportOutcome:
    """Import one CSV into ``lake`` unless its content was imported before."""
    symbol, timeframe = member.symbol, member.timeframe
    data = member.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    previous = None if force else ledger.seen(digest)
    if previous is not None:
        return ImportOutcome(member.label, symbol, timeframe, "skipped", int(previous["rows"]), sha256=digest)
    frame = member.read(data)
    first = int(frame["time"].dt.epoch("ms")[0]) if frame.height else None
    last = int(frame["time"].dt.epoch("ms")[-1]) if frame.height else None
    if dry_run:
        return ImportOutcome(member.label, symbol, timeframe, "planned", frame.height, first, last, digest)
    lake.write(EXCHANGE, symbol, timeframe, frame, "dump")
    ledger.record(digest, member.label, symbol, timeframe, frame.height, first, last)
    return ImportOutcome(member.label, symbol, timeframe, "imported", frame.height, first, last, digest)


def coverage_of(member: DumpMember) -> tuple[int, int]:
    """(first, last) bar open time in ms, read cheaply from a plain file's first and last lines."""
    if member.path is not None:
        try:
            with open(member.path, "rb") as fh:
                first_line = fh.readline()
                fh.seek(0, 2)
                size = fh.tell()
                fh.seek(max(0, size - 4096))
                tail = fh.read().splitlines()
            last_line = next(line for line in reversed(tail) if line.strip())
            return int(first_line.split(b",")[0]) * 1000, int(last_line.split(b",")[0]) * 1000
        except (OSError, ValueError, StopIteration):
            raise DumpError(
                f"{member.label}: cannot read its first and last rows; is it a Kraken OHLCVT CSV?"
            ) from None
    frame = member.read()
    if not frame.height:
        raise DumpError(f"{member.label}: the file holds no rows")
    ms = frame["time"].dt.epoch("ms")
    return int(ms[0]), int(ms[-1])
