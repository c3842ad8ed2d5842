"""What repairs learned about holes, kept so no one asks the exchange again: spans proven empty (a query of
the exchange's complete history for that span found no trade) and spans a repair could not reach (why).

Stored as a table (``hole_verdicts``) in the lake's job database (``_jobs.sqlite3``), beside the repair jobs
that produced them: one transactional, cross-process-safe file already there, which the lake's readers
find without a second place to look. Partition footers were the other candidate, but their covered ranges
are capped per origin and drop the shortest first: exactly the short empty spans would be lost.

"Nobody traded in [start, end)" is a fact about the pair, not the timeframe: a span proven empty at 1m
answers for the 5m and 1h slots inside it too. An unfillable verdict is about one timeframe and the method
that tried (a later repair with another method may still fill it).
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tradecore.data.jobs import JobStore

_TABLE = """CREATE TABLE IF NOT EXISTS hole_verdicts (
    exchange TEXT NOT NULL, pair TEXT NOT NULL, timeframe TEXT NOT NULL,
    start_ms INTEGER NOT NULL, end_ms INTEGER NOT NULL,
    verdict TEXT NOT NULL, reason TEXT NOT NULL, job_id INTEGER, recorded REAL NOT NULL)"""
_INDEX = "CREATE INDEX IF NOT EXISTS hole_verdicts_series ON hole_verdicts(exchange, pair)"
EMPTY = "no-trades"
UNFILLABLE = "unfillable"


@dataclass
class Verdicts:
    """The verdicts of one series: proven-empty spans (merged, sorted) and unfillable spans with reasons."""

    empty: np.ndarray = field(default_factory=lambda: np.empty((0, 2), np.int64))
    empty_reasons: list[str] = field(default_factory=list)  # per merged span: the first reason recorded
    unfillable: list[tuple[int, int, str]] = field(default_factory=list)

    def empty_reason(self, start_ms: int, end_ms: int) -> str | None:
        """Why [start_ms, end_ms) is proven empty (one merged span holds it whole), or None."""
        if not len(self.empty):
            return None
        i = int(np.searchsorted(self.empty[:, 0], start_ms, side="right")) - 1
        if i >= 0 and self.empty[i, 1] >= end_ms:
            return self.empty_reasons[i]
        return None

    def unfillable_reason(self, start_ms: int, end_ms: int) -> str | None:
        """The newest recorded reason a span holding [start_ms, end_ms) could not be filled, or None."""
        for lo, hi, reason in reversed(self.unfillable):
            if lo <= start_ms and end_ms <= hi:
                return reason
        return None


class HoleVerdicts:
    """The verdict table of one lake (created on first write; reading a lake without one finds nothing)."""

    def __init__(self, lake_root: str | Path) -> None:
        self.path = JobStore(lake_root).path

    def _connect(self) -> sqlite3.Connection:
        from tradecore.data.jobs import JobError

        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            conn.execute(_TABLE)
            conn.execute(_INDEX)
            return conn
        except (OSError, sqlite3.Error) as exc:
            raise JobError(f"cannot open {self.path}: {exc} (is the lake read-only?)") from None

    def record(
        self,
        exchange: str,
        pair: str,
        timeframe: str,
        spans: list[tuple[int, int]],
        verdict: str,
        reason: str,
        job_id: int | None,
    ) -> None:
        """Record ``verdict`` (:data:`EMPTY` or :data:`UNFILLABLE`) for each span, in one transaction."""
        if not spans:
            return
        now = time.time()
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(
                "INSERT INTO hole_verdicts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(exchange, pair, timeframe, int(a), int(b), verdict, reason, job_id, now) for a, b in spans],
            )
            conn.execute("COMMIT")
        finally:
            conn.close()

    def load(self, exchange: str, pair: str, timeframe: str) -> Verdicts:
        """The verdicts for a series: every timeframe's empty spans of the pair, this timeframe's unfillable."""
        if not self.path.is_file():
            return Verdicts()
        try:
            conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=30)
            try:
                rows = conn.execute(
                    "SELECT start_ms, end_ms, verdict, reason, timeframe FROM hole_verdicts "
                    "WHERE exchange = ? AND pair = ? ORDER BY recorded, rowid",
                    (exchange, pair),
                ).fetchall()
            finally:
                conn.close()
        except sqlite3.Error:  # no table yet (no repair ran), or a lake we may not even read-lock: no verdicts
            return Verdicts()
        empty = sorted((a, b, reason) for a, b, verdict, reason, _ in rows if verdict == EMPTY)
        unfillable = [(a, b, reason) for a, b, verdict, reason, tf in rows if verdict == UNFILLABLE and tf == timeframe]
        merged: list[list[int]] = []
        reasons: list[str] = []
        for a, b, reason in empty:
            if merged and a <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
                reasons.append(reason)
        spans = np.array(merged, np.int64).reshape(-1, 2)
        return Verdicts(spans, reasons, unfillable)
