"""Who owns a long-running record (a run folder, a job): this host's process, identified so that a
recycled pid is not mistaken for it. A record whose owner is gone was killed (SIGKILL, power loss):
listings show it as interrupted, and it can be resumed."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any


def _start_ticks(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (Linux); None where /proc cannot say, and -1 for a
    zombie (dead, not yet reaped: a killed process whose parent died too may stay one for good)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command name (field 2) may hold spaces and parentheses: fields after the last ')' are fixed
    fields = stat.rsplit(")", 1)[1].split()
    return -1 if fields[0] in ("Z", "X") else int(fields[19])


def current_owner() -> dict[str, Any]:
    """This process, as a record's ``owner``."""
    pid = os.getpid()
    return {"host": socket.gethostname(), "pid": pid, "start_ticks": _start_ticks(pid)}


def owner_gone(owner: dict[str, Any] | None) -> bool:
    """True only when ``owner`` ran on this host and that process no longer exists. Owners on other
    hosts (a pod, a cluster node) and records without an owner are given the benefit of the doubt."""
    if not owner or owner.get("host") != socket.gethostname() or not isinstance(owner.get("pid"), int):
        return False
    ticks = _start_ticks(owner["pid"])
    if ticks is None:
        try:
            os.kill(owner["pid"], 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False
    recorded = owner.get("start_ticks")
    return recorded is not None and ticks != recorded  # the pid now belongs to another process
