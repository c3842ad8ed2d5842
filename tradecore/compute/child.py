"""One run in a child process: ``python -m tradecore run manifest.json --json`` in its own process group.

The child is isolated (its crash, memory and GPU state end with it), cannot outlive a parent that dies
(Linux ``PR_SET_PDEATHSIG``), and is stopped politely: SIGINT first so the run can write checkpoints
and partial reports, then SIGTERM, then SIGKILL for the whole group.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tradecore.manifest import ResolvedManifest
    from tradecore.plugins import PluginControls

MANIFEST_FILE = "manifest.json"
OUTCOME_FILE = "outcome.json"  # the child's stdout: the run outcome as JSON
LOG_FILE = "run.log"  # the child's stderr: stage lines and errors


def child_manifest(resolved: ResolvedManifest) -> dict[str, Any]:
    """The resolved manifest (defaults filled) as a child runs it: in-process, no sweep."""
    data = resolved.as_dict()
    manifest = resolved.manifest
    refs = {"source": manifest.source, "trainer": manifest.trainer, "backend": manifest.backend}
    for key, ref in refs.items():
        if data.get(key) is not None and ref is not None:
            data[key].pop("plugin", None)
            data[key]["type"] = ref.type  # the name as the user wrote it resolves the same way in the child
    for key, refs_list in (("indicators", manifest.indicators), ("reward", manifest.reward)):
        for item, ref in zip(data.get(key) or [], refs_list, strict=True):
            item.pop("plugin", None)
            item["type"] = ref.type
    data.pop("sweep", None)
    data["backend"] = {"type": "local", "params": {"mode": "inprocess"}}
    return data


def unique_folder(parent: Path, name: str) -> Path:
    """Create and return ``<parent>/<name>-<UTC time>``, never reusing a folder (a child run's, a trial's)."""
    base = parent / f"{name}-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}"
    folder, n = base, 1
    while True:
        try:
            folder.mkdir(parents=True, exist_ok=False)
            return folder
        except FileExistsError:
            n += 1
            folder = base.with_name(f"{base.name}-{n}")


def child_environment(controls: PluginControls | None) -> dict[str, str]:
    """The parent's environment plus its plugin controls, so the child sees the same plugins."""
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    if controls is not None:
        if controls.disable:
            env["TRADECORE_DISABLE_PLUGINS"] = ",".join(controls.disable)
        if controls.allow is not None:
            env["TRADECORE_LOAD_PLUGINS"] = ",".join(controls.allow)
        if controls.plugin_dirs:
            env["TRADECORE_PLUGINS_DIR"] = os.pathsep.join(str(Path(p).resolve()) for p in controls.plugin_dirs)
    return env


def _die_with_parent() -> None:  # pragma: no cover - runs in the forked child
    """Ask Linux to SIGTERM this child when the process that started it dies (even by SIGKILL).

    Also give SIGINT back its default: a parent started in the background ignores it, and the child
    would inherit that and never see the polite Ctrl-C that lets it write what it can.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _exited_unreaped(pid: int) -> bool:
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return False


@dataclass
class ChildRun:
    """A started child run and the files it writes into its folder."""

    key: str
    folder: Path
    process: subprocess.Popen[bytes]
    started: float = field(default_factory=time.monotonic)
    ended: float | None = None
    stop_reason: str | None = None  # interrupted | timeout, when we stopped it

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def seconds(self) -> float:
        return (self.ended or time.monotonic()) - self.started

    def poll(self) -> int | None:
        if self.process.returncode is None and _exited_unreaped(self.process.pid):
            # the leader is dead but not reaped, so its pid (the group id) cannot be reused yet:
            # kill grandchildren the run left behind, then reap
            self._kill_group(signal.SIGKILL)
        code = self.process.poll()
        if code is not None and self.ended is None:
            self.ended = time.monotonic()
        return code

    def signal(self, sig: int) -> None:
        if self.process.poll() is None:
            self._kill_group(sig)

    def _kill_group(self, sig: int) -> None:
        try:
            os.killpg(self.process.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def outcome(self) -> dict[str, Any] | None:
        """The run outcome the child printed, or None when it printed none (crash, kill)."""
        try:
            text = (self.folder / OUTCOME_FILE).read_text(encoding="utf-8")
            data = json.loads(text)
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def error_line(self) -> str:
        """The child's own one-line error (``error: ...``), else its last log line."""
        try:
            lines = [ln.strip() for ln in (self.folder / LOG_FILE).read_text(errors="replace").splitlines()]
        except OSError:
            return ""
        lines = [ln for ln in lines if ln]
        errors = [ln for ln in lines if ln.startswith("error:")]
        return (errors[-1] if errors else lines[-1] if lines else "")[:400]


def start_child(
    key: str,
    manifest: dict[str, Any],
    folder: Path,
    *,
    controls: PluginControls | None = None,
    python: str | None = None,
    runs_dir: Path | None = None,
    resume: Path | None = None,
) -> ChildRun:
    """Write ``manifest`` into ``folder`` and start ``tradecore run`` on it in a new process group.

    The run folder goes under ``runs_dir`` (default: ``folder`` itself). With ``resume`` (a run folder),
    the child continues that run from its checkpoint instead of starting one from ``manifest``.
    """
    folder.mkdir(parents=True, exist_ok=True)
    manifest_path = folder / MANIFEST_FILE
    tmp = manifest_path.with_suffix(".tmp")
    tmp.write_text(json.dumps(manifest, indent=2, default=str), encoding="utf-8")
    os.replace(tmp, manifest_path)
    command = [
        python or sys.executable,
        "-m",
        "tradecore",
        "run",
        *(["--resume", str(resume)] if resume is not None else [str(manifest_path)]),
        "--runs-dir",
        str(runs_dir or folder),
        "--json",
    ]
    with open(folder / OUTCOME_FILE, "wb") as out, open(folder / LOG_FILE, "wb") as log:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=log,
            env=child_environment(controls),
            start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
    return ChildRun(key=key, folder=folder, process=process)


def stop_children(
    children: list[ChildRun], *, grace_s: float = 10.0, term_s: float = 3.0, reason: str = "interrupted"
) -> None:
    """Stop every running child: SIGINT (let it write what it can), then SIGTERM, then SIGKILL.

    A second Ctrl-C while waiting skips straight to SIGKILL; no child is left behind either way.
    """
    live = [c for c in children if c.poll() is None]
    for child in live:
        child.stop_reason = child.stop_reason or reason
    try:
        for sig, wait_s in ((signal.SIGINT, grace_s), (signal.SIGTERM, term_s)):
            live = [c for c in live if c.poll() is None]
            for child in live:
                child.signal(sig)
            deadline = time.monotonic() + wait_s
            while time.monotonic() < deadline and any(c.poll() is None for c in live):
                time.sleep(0.02)
    finally:
        for child in children:
            child.signal(signal.SIGKILL)
            try:
                child.process.wait(timeout=5)
            except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL'd processes always exit
                pass
            child.poll()
