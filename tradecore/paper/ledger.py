"""The paper ledger: one folder per session, append-only JSON-lines files and an atomically replaced state file.

    session.json     what the session trades: run, lake series, mode and range, anchor, model, costs
    orders.jsonl     one line per order that changes the target exposure (decided at a bar's close)
    fills.jsonl      one line per fill: the order's at the next open, stop-loss / take-profit exits
    positions.jsonl  one line per bar from the first decision: units, entry, stop/take levels, exposure
    equity.jsonl     one line per bar: equity, cash, the bar's fees and slippage, the action and the
                     blake2b hash of the float32 observation it was chosen on
    state.json       the commit point: candles consumed, the broker's account and pending order, and the
                     byte length of every ledger file when the last candle was committed
    events.log       start, stop, restart and catch-up lines with wall-clock times (not part of the ledger)

Each candle's lines are appended, then ``state.json`` is replaced (written beside, then renamed). A process
killed at any moment leaves either the old or the new state; on restart every ledger file is cut back to the
length the state names (dropping the lines of a candle that was not committed) and that candle is processed
again, giving the same lines: no fill is lost or written twice. Appends are flushed, not fsynced: a killed
process loses nothing the kernel holds, a power cut may lose the last candles (then replayed the same way).
"""

from __future__ import annotations

import fcntl
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from tradecore.errors import TradecoreError
from tradecore.runs.folder import read_json, write_json

SESSION_FILE = "session.json"
STATE_FILE = "state.json"
EVENTS_FILE = "events.log"
LOCK_FILE = ".lock"
#: the ledger's append-only files, in the order a candle writes them
LEDGER_FILES = ("orders", "fills", "positions", "equity")


class LedgerError(TradecoreError):
    """A ledger folder that cannot be opened, is in use, or does not belong to this session."""


class Ledger:
    """An open ledger folder: append lines per candle, then :meth:`commit` them with the new state."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._lock = _lock(self.folder / LOCK_FILE)
        self.state: dict[str, Any] | None = None
        if (self.folder / STATE_FILE).is_file():
            self.state = read_json(self.folder / STATE_FILE)
        lengths = (self.state or {}).get("files", {})
        self._files: dict[str, IO[bytes]] = {}
        for name in LEDGER_FILES:
            path = self.folder / f"{name}.jsonl"
            fh = open(path, "ab")  # noqa: SIM115 - held open for the session, closed in close()
            fh.truncate(int(lengths.get(name, 0)))  # drop the lines of a candle that was never committed
            fh.seek(0, os.SEEK_END)  # truncate() leaves the position past the end
            self._files[name] = fh
        self._events = open(self.folder / EVENTS_FILE, "a", encoding="utf-8")  # noqa: SIM115 - as above

    @property
    def session(self) -> dict[str, Any] | None:
        path = self.folder / SESSION_FILE
        return read_json(path) if path.is_file() else None

    def start(self, session: dict[str, Any]) -> None:
        """Record what this new session trades (once, before its first candle)."""
        write_json(self.folder / SESSION_FILE, session)

    def append(self, name: str, record: dict[str, Any]) -> None:
        line = json.dumps(record, separators=(",", ":"), allow_nan=False) + "\n"
        self._files[name].write(line.encode("utf-8"))

    def commit(self, state: dict[str, Any]) -> None:
        """Make the candle's appended lines part of the ledger: flush them, then replace the state atomically."""
        for fh in self._files.values():
            fh.flush()
        files = {name: fh.tell() for name, fh in self._files.items()}
        self.state = {**state, "files": files}
        write_json(self.folder / STATE_FILE, self.state)

    def event(self, line: str) -> None:
        self._events.write(f"{datetime.now(UTC).isoformat(timespec='milliseconds')} {line}\n")
        self._events.flush()

    def close(self) -> None:
        for fh in self._files.values():
            fh.close()
        self._events.close()
        os.close(self._lock)


def read_lines(folder: Path, name: str) -> list[dict[str, Any]]:
    """The committed records of ledger file ``name`` (lines past the committed length are ignored)."""
    path = Path(folder) / f"{name}.jsonl"
    state_path = Path(folder) / STATE_FILE
    if not path.is_file() or not state_path.is_file():
        return []
    length = int(read_json(state_path).get("files", {}).get(name, 0))
    with path.open("rb") as fh:
        data = fh.read(length)
    return [json.loads(line) for line in data.splitlines() if line]


def _lock(path: Path) -> int:
    """An exclusive lock on the ledger for this process's lifetime (released by the kernel if it dies)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise LedgerError(
            f"paper ledger {path.parent} is in use by another process; stop it first (Ctrl-C or kill)"
        ) from None
    return fd
