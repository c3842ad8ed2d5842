"""What the lake holds, as the service answers it many times a second without reading it each time.

- Footer summaries are cached per partition file, keyed by its modification time and size: a rewritten
  partition is read again, an unchanged one never is.
- The coverage of every series is recomputed only when the lake's change stamp (:meth:`Lake.changed_ns`, set by
  every partition write) moved, or after ``RECHECK_S`` for writers that do not stamp it (older versions).
- The newest job per series (coverage's ``last_job_id`` and ``validated_at``) is merged from the jobs updated
  since the job store's stamp last moved, not regrouped over the whole store.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tradecore.data.coverage import Coverage, series_coverage
from tradecore.data.partition import DATA_FILE, PartitionInfo, read_partition_info

if TYPE_CHECKING:
    from tradecore.data.jobs import JobStore
    from tradecore.data.lake import Lake

#: seconds after which coverage is recomputed even though the change stamp did not move
RECHECK_S = 10.0
_YEAR_DIR = re.compile(r"^year=(\d{4})$")


class LakeCache:
    def __init__(self, lake: Lake, jobs: JobStore) -> None:
        self.lake, self.jobs = lake, jobs
        self._footers: dict[str, tuple[tuple[int, int], PartitionInfo]] = {}
        self._pairs: dict[str, str] = {}  # series folder -> the pair its _series.json names
        self._coverage: list[Coverage] = []
        self._series: dict[str, tuple[tuple, Coverage]] = {}  # series folder -> (its footers' keys, coverage)
        self._stamp: int | None = None
        self._walked: float | None = None
        self._latest: dict[tuple[str, str, str, str], tuple[int, float]] = {}
        self._jobs_stamp: tuple[int, float] | None = None
        self._view: tuple[tuple[int, tuple[int, float] | None], Any] | None = None
        self._lock = threading.Lock()

    # ---------------------------------------------------------------- footers

    def partitions(self, exchange: str, pair: str, timeframe: str) -> list[PartitionInfo]:
        """:meth:`Lake.partitions`, from the cache where the files did not change."""
        out = []
        for year, path in self.lake.partition_files(exchange, pair, timeframe):
            info = self._footer(year, str(path))
            if info is not None:
                out.append(info)
        return out

    def _footer(self, year: int, path: str) -> PartitionInfo | None:
        try:
            stat = os.stat(path)
        except FileNotFoundError:  # removed since the folder was listed
            return None
        key = (stat.st_mtime_ns, stat.st_size)
        cached = self._footers.get(path)
        if cached is not None and cached[0] == key:
            return cached[1]
        from pathlib import Path

        info = read_partition_info(year, Path(path))
        self._footers[path] = (key, info)
        return info

    # ---------------------------------------------------------------- coverage

    def coverage(self) -> list[Coverage]:
        """Every stored series' coverage (as :func:`lake_coverage` answers it), sorted like :meth:`Lake.series`."""
        stamp = self.lake.changed_ns()  # read before the walk: a write during it moves the stamp again
        now = time.monotonic()
        with self._lock:
            if self._walked is None or stamp != self._stamp or now - self._walked > RECHECK_S:
                self._coverage = self._walk()
                self._stamp, self._walked = stamp, now
            return self._coverage

    def _walk(self) -> list[Coverage]:
        """The lake's layout (``<exchange>/<pair dir>/<timeframe>/year=YYYY/data.parquet``) by ``os.scandir``,
        pair names from ``_series.json`` read once per folder; what :meth:`Lake.series` lists."""
        out, seen = [], set()
        for exchange in _dirs(str(self.lake.root)):
            for pair_folder in _dirs(exchange.path):
                for timeframe in _dirs(pair_folder.path):
                    years = []
                    for entry in _dirs(timeframe.path):
                        match = _YEAR_DIR.match(entry.name)
                        if match:
                            years.append((int(match.group(1)), os.path.join(entry.path, DATA_FILE)))
                    if not years:
                        continue
                    parts = [info for year, path in years if (info := self._footer(year, path)) is not None]
                    seen.update(str(p.path) for p in parts)
                    key = tuple((p.path, self._footers[str(p.path)][0]) for p in parts)
                    cached = self._series.get(timeframe.path)
                    if cached is None or cached[0] != key:
                        pair = self._pair(timeframe.path, pair_folder.name)
                        cached = (key, series_coverage(exchange.name, pair, timeframe.name, parts))
                        self._series[timeframe.path] = cached
                    out.append(cached[1])
        for gone in set(self._footers) - seen:  # partitions removed since: forget them
            del self._footers[gone]
        return out

    def _pair(self, folder: str, default: str) -> str:
        pair = self._pairs.get(folder)
        if pair is None:
            try:
                with open(os.path.join(folder, "_series.json")) as fh:
                    pair = json.load(fh)["pair"]
            except (OSError, ValueError, KeyError):
                return default  # not written yet: ask again next time
            self._pairs[folder] = pair
        return pair

    # ---------------------------------------------------------------- jobs per series

    def latest_jobs(self) -> dict[tuple[str, str, str, str], tuple[int, float]]:
        """:meth:`JobStore.latest_per_series`, merged from the jobs updated since the store's stamp last moved."""
        stamp = self.jobs.stamp()
        with self._lock:
            if stamp != self._jobs_stamp:
                since = None if self._jobs_stamp is None else self._jobs_stamp[1]
                for key, (job_id, updated) in self.jobs.latest_per_series(since).items():
                    old = self._latest.get(key, (job_id, updated))
                    self._latest[key] = (max(old[0], job_id), max(old[1], updated))
                self._jobs_stamp = stamp
            return self._latest

    def coverage_view(self, render: Callable[[list[Coverage], dict], Any]) -> Any:
        """``render(coverage, latest jobs)``, computed again only when either changed."""
        coverage, latest = self.coverage(), self.latest_jobs()
        key = (id(coverage), self._jobs_stamp)
        view = self._view
        if view is None or view[0] != key:
            view = self._view = (key, render(coverage, latest))
        return view[1]


def _dirs(path: str) -> list[os.DirEntry]:
    """Sub-folders that hold data (not ``.hidden`` or ``_internal``), sorted by name."""
    try:
        entries = [e for e in os.scandir(path) if e.is_dir() and not e.name.startswith((".", "_"))]
    except FileNotFoundError:
        return []
    return sorted(entries, key=lambda e: e.name)
