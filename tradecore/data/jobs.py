"""Persistent data jobs: a small SQLite store beside the lake (``<root>/_jobs.sqlite3``, WAL mode).

A job records what was asked (``request``), how far it got (``progress``, ``cursor``: an opaque
string such as Kraken's ``last``), what it wrote (``counts``), what it said (``messages``) and why it
stopped (``error``). Every update commits at once, so a process killed at any instant leaves the
last committed cursor for ``--resume``.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tradecore.errors import TradecoreError

STATUSES = ("pending", "running", "interrupted", "failed", "done")
JOBS_FILE = "_jobs.sqlite3"
_JSON_FIELDS = ("request", "counts", "messages", "owner")
_FIELDS = ("kind", "request", "status", "progress", "cursor", "counts", "messages", "error", "owner")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    request TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    progress REAL NOT NULL DEFAULT 0,
    cursor TEXT,
    counts TEXT NOT NULL DEFAULT '{}',
    messages TEXT NOT NULL DEFAULT '[]',
    error TEXT,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    owner TEXT
);
CREATE INDEX IF NOT EXISTS jobs_status ON jobs(status);
CREATE INDEX IF NOT EXISTS jobs_updated ON jobs(updated);
CREATE INDEX IF NOT EXISTS jobs_kind ON jobs(kind, id);
CREATE INDEX IF NOT EXISTS jobs_kind_status ON jobs(kind, status, id);
"""


class JobError(TradecoreError):
    """An unknown job or a bad job update."""


@dataclass
class Job:
    """One row of the job store."""

    id: int
    kind: str
    request: dict[str, Any]
    status: str = "pending"
    progress: float = 0.0
    cursor: str | None = None
    counts: dict[str, Any] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)
    error: str | None = None
    created: float = 0.0
    updated: float = 0.0
    owner: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "request": self.request,
            "status": self.status,
            "progress": self.progress,
            "cursor": self.cursor,
            "counts": self.counts,
            "messages": self.messages,
            "error": self.error,
            "created": self.created,
            "updated": self.updated,
            "owner": self.owner,
        }


class JobStore:
    """Jobs of one lake. Connections are opened per call, so the store is safe across processes."""

    def __init__(self, lake_root: str | Path) -> None:
        self.root = Path(lake_root).expanduser()
        self.path = self.root / JOBS_FILE
        self._ready = False

    def _connect(self) -> sqlite3.Connection:
        try:
            if not self._ready:
                self.root.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            if not self._ready:
                conn.execute("PRAGMA journal_mode=WAL")
                columns = {row[1] for row in conn.execute("PRAGMA table_info(jobs)")}
                if columns and "owner" not in columns:  # a store written before jobs recorded their owner
                    conn.execute("ALTER TABLE jobs ADD COLUMN owner TEXT")
                conn.executescript(_SCHEMA)
                self._ready = True
            conn.execute("PRAGMA synchronous=NORMAL")
            return conn
        except (OSError, sqlite3.Error) as exc:
            raise JobError(f"cannot open the job store {self.path}: {exc} (is the lake read-only?)") from None

    def create(self, kind: str, request: dict[str, Any]) -> Job:
        """Record a new pending job and return it."""
        now = time.time()
        conn = self._connect()
        try:
            cur = conn.execute(
                "INSERT INTO jobs (kind, request, created, updated) VALUES (?, ?, ?, ?)",
                (kind, json.dumps(request, default=str, sort_keys=True), now, now),
            )
            job_id = int(cur.lastrowid)
        finally:
            conn.close()
        return self.get(job_id)

    def update(self, job_id: int, **fields: Any) -> Job:
        """Set any of status, progress, cursor, counts, messages, error (and request, kind); commits at once.

        ``message="..."`` appends one message instead of replacing the list.
        """
        note = fields.pop("message", None)
        unknown = set(fields) - set(_FIELDS)
        if unknown:
            raise JobError(f"unknown job field(s) {', '.join(sorted(unknown))}: use {', '.join(_FIELDS)}")
        if "status" in fields and fields["status"] not in STATUSES:
            raise JobError(f"job status {fields['status']!r} is not one of {', '.join(STATUSES)}")
        if "cursor" in fields and fields["cursor"] is not None:
            fields["cursor"] = str(fields["cursor"])  # opaque: never a float that could lose digits
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
            row = conn.execute("SELECT messages FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None:
                conn.execute("ROLLBACK")
                raise JobError(f"no job {job_id} in {self.path}: see `tradecore data jobs`")
            if note is not None:
                fields["messages"] = [*json.loads(row[0]), str(note)]
            values = {k: json.dumps(v, default=str) if k in _JSON_FIELDS else v for k, v in fields.items()}
            values["updated"] = time.time()
            sets = ", ".join(f"{k} = ?" for k in values)
            conn.execute(f"UPDATE jobs SET {sets} WHERE id = ?", (*values.values(), job_id))
            conn.execute("COMMIT")
        finally:
            conn.close()
        return self.get(job_id)

    def claim(self, job_id: int, owner: dict[str, Any]) -> bool:
        """Make a pending job running under ``owner``; False when another process claimed it first."""
        conn = self._connect()
        try:
            cur = conn.execute(
                "UPDATE jobs SET status = 'running', owner = ?, updated = ? WHERE id = ? AND status = 'pending'",
                (json.dumps(owner), time.time(), int(job_id)),
            )
            return cur.rowcount == 1
        finally:
            conn.close()

    def mark_orphans(self) -> list[int]:
        """Running jobs whose process is gone (killed, its machine restarted) become interrupted, so they can
        be resumed; returns their ids."""
        from tradecore.owner import owner_gone

        orphans = [j.id for j in self.list(status="running") if owner_gone(j.owner)]
        for job_id in orphans:
            self.update(job_id, status="interrupted", message="its process is gone (killed); resume it")
        return orphans

    def changed_since(self, updated: float) -> list[Job]:
        """Jobs updated after ``updated`` (a time from an earlier answer), oldest change first."""
        if not self.path.exists():
            return []
        conn = self._connect()
        try:
            conn.row_factory = sqlite3.Row
            rows = conn.execute("SELECT * FROM jobs WHERE updated > ? ORDER BY updated", (updated,)).fetchall()
        finally:
            conn.close()
        return [_job(r) for r in rows]

    def latest_per_series(
        self, updated_after: float | None = None
    ) -> dict[tuple[str, str, str, str], tuple[int, float]]:
        """(kind, exchange, symbol, timeframe) -> (id, updated) of the newest job of each kind per series; the
        exchange is the request's ``exchange``, its params' ``exchange``, or its source's name. With
        ``updated_after``, only jobs updated since (ids and update times only grow: merge by max)."""
        if not self.path.exists():
            return {}
        since = "" if updated_after is None else "WHERE updated > ?"
        sql = f"""
            SELECT kind,
                   coalesce(json_extract(request, '$.exchange'), json_extract(request, '$.params.exchange'),
                            json_extract(request, '$.source')) AS exchange,
                   json_extract(request, '$.params.symbol') AS symbol,
                   json_extract(request, '$.params.timeframe') AS timeframe,
                   max(id), max(updated)
            FROM jobs {since} GROUP BY 1, 2, 3, 4"""
        conn = self._connect()
        try:
            rows = conn.execute(sql, () if updated_after is None else (updated_after,)).fetchall()
        finally:
            conn.close()
        return {(r[0], r[1], r[2], r[3]): (r[4], r[5]) for r in rows if r[1] and r[2] and r[3]}

    def stamp(self) -> tuple[int, float]:
        """(newest id, newest update time): changes whenever a job is created or updated. Two sub-queries: each
        max() alone is one index look-up, the two in one SELECT would scan the table."""
        if not self.path.exists():
            return (0, 0.0)
        conn = self._connect()
        try:
            row = conn.execute("SELECT (SELECT max(id) FROM jobs), (SELECT max(updated) FROM jobs)").fetchone()
        finally:
            conn.close()
        return (row[0] or 0, row[1] or 0.0)

    def get(self, job_id: int) -> Job:
        conn = self._connect()
        try:
            conn.row_factory = sqlite3.Row
            row = conn.execute("SELECT * FROM jobs WHERE id = ?", (int(job_id),)).fetchone()
        finally:
            conn.close()
        if row is None:
            raise JobError(f"no job {job_id} in {self.path}: see `tradecore data jobs`")
        return _job(row)

    def list(
        self, status: str | None = None, kind: str | None = None, limit: int | None = None, offset: int = 0
    ) -> list[Job]:
        """Jobs, newest first, optionally only one status or kind."""
        where, args = _filters(status, kind)
        if not self.path.exists():
            return []
        sql = "SELECT * FROM jobs" + where + " ORDER BY id DESC"
        if limit:
            sql += f" LIMIT {int(limit)} OFFSET {int(offset)}"
        conn = self._connect()
        try:
            conn.row_factory = sqlite3.Row
            rows = conn.execute(sql, args).fetchall()
        finally:
            conn.close()
        return [_job(r) for r in rows]


def _filters(status: str | None, kind: str | None) -> tuple[str, list[str]]:
    """The WHERE clause (with its leading space) and arguments of a status and kind filter."""
    if status is not None and status not in STATUSES:
        raise JobError(f"job status {status!r} is not one of {', '.join(STATUSES)}")
    where, args = [], []
    if kind:
        where.append("kind = ?")
        args.append(kind)
    if status:
        where.append("status = ?")
        args.append(status)
    return (" WHERE " + " AND ".join(where) if where else ""), args


def _job(row: sqlite3.Row) -> Job:
    return Job(
        id=row["id"],
        kind=row["kind"],
        request=json.loads(row["request"]),
        status=row["status"],
        progress=row["progress"],
        cursor=row["cursor"],
        counts=json.loads(row["counts"]),
        messages=json.loads(row["messages"]),
        error=row["error"],
        created=row["created"],
        updated=row["updated"],
        owner=json.loads(row["owner"]) if row["owner"] else None,
    )
