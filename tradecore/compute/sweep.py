"""Planning a sweep: check its params paths against the manifest, expand trials, resolve each one.

Every trial is a complete manifest (no ``sweep`` section, its own name) validated in both phases
before anything runs, so a bad value in trial 17 is reported up front and not after 16 runs.
"""

from __future__ import annotations

import copy
import difflib
import itertools
import math
import random
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tradecore.errors import ManifestError, ManifestIssue, TradecoreError
from tradecore.manifest import model_of

if TYPE_CHECKING:
    from pydantic import BaseModel

    from tradecore.config.sweep import SweepConfig
    from tradecore.manifest import ResolvedManifest
    from tradecore.registry import Registry

#: manifest keys a sweep may change; name/version/backend/lake identify the sweep itself
SWEEPABLE_ROOTS = ("seed", "env", "split", "source", "indicators", "reward", "trainer")
_TOKEN = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?:\[(\d+)\])?")


@dataclass(frozen=True)
class Trial:
    """One run of a sweep: its overrides and its complete, resolved manifest."""

    index: int
    overrides: dict[str, Any]
    data: dict[str, Any]
    resolved: ResolvedManifest

    @property
    def key(self) -> str:
        return f"t{self.index:03d}"


@dataclass(frozen=True)
class SweepPlan:
    name: str
    config: SweepConfig
    base: ResolvedManifest
    trials: list[Trial]

    @property
    def paths(self) -> list[str]:
        return list(self.config.parameters)


def parse_path(path: str) -> list[str | int]:
    """``indicators[0].params.period`` -> ``['indicators', 0, 'params', 'period']``."""
    parts: list[str | int] = []
    for token in path.split("."):
        match = _TOKEN.fullmatch(token)
        if not match:
            raise TradecoreError(f"sweep path {path!r}: {token!r} is not a key; write paths like 'env.fee_bps'")
        parts.append(match.group(1))
        if match.group(2) is not None:
            parts.append(int(match.group(2)))
    return parts


def set_path(data: dict[str, Any], path: str, value: Any) -> None:
    """Set ``value`` at ``path`` in manifest data, creating missing objects (e.g. absent ``params``)."""
    parts = parse_path(path)
    node: Any = data
    for part, following in zip(parts, parts[1:], strict=False):
        if isinstance(part, int):
            node = node[part]
        else:
            if node.get(part) is None:
                node[part] = [] if isinstance(following, int) else {}
            node = node[part]
    node[parts[-1]] = value


def check_path(path: str, data: dict[str, Any], resolved: ResolvedManifest) -> ManifestIssue | None:
    """An issue when ``path`` names nothing the manifest and its components accept."""
    from tradecore.config.env import EnvConfig, SplitConfig

    where = f"sweep.parameters.{path}"
    try:
        parts = parse_path(path)
    except TradecoreError as exc:
        return ManifestIssue(where, str(exc))
    root = parts[0]
    if root not in SWEEPABLE_ROOTS:
        return ManifestIssue(where, f"{root!r} cannot be swept", hint=f"sweep keys under {', '.join(SWEEPABLE_ROOTS)}")
    if root == "seed":
        return None if len(parts) == 1 else ManifestIssue(where, "seed is a number; sweep 'seed' itself")
    if root in ("env", "split"):
        return _check_model_path(where, EnvConfig if root == "env" else SplitConfig, parts[1:], root)
    if root in ("source", "trainer"):
        component = getattr(resolved, root)
        if component is None:
            return ManifestIssue(where, f"the manifest has no {root}", hint=f"add a {root} before sweeping its params")
        return _check_component_path(where, component.spec.params_model, parts[1:], root)
    # indicators / reward: a list of components
    items = getattr(resolved, root)
    if len(parts) < 2 or not isinstance(parts[1], int):
        return ManifestIssue(where, f"{root} is a list; name an item, e.g. '{root}[0].params.<name>'")
    index = parts[1]
    if index >= len(items):
        return ManifestIssue(where, f"{root}[{index}] does not exist (the manifest has {len(items)})")
    rest = parts[2:]
    if root == "reward" and rest == ["weight"]:
        return None
    return _check_component_path(where, items[index].spec.params_model, rest, f"{root}[{index}]")


def _check_component_path(
    where: str, params: type[BaseModel], rest: list[str | int], label: str
) -> ManifestIssue | None:
    if not rest or rest[0] != "params":
        return ManifestIssue(where, f"sweep {label}'s params: write '{label}.params.<name>'")
    if len(rest) == 1:
        return ManifestIssue(where, "name one param, not the whole params object")
    return _check_model_path(where, params, rest[1:], f"{label}.params")


def _check_model_path(where: str, model: Any, rest: list[str | int], label: str) -> ManifestIssue | None:
    if not rest:
        return ManifestIssue(where, f"name a key inside {label}")
    for part in rest:
        if isinstance(part, int) or model is None:
            return None  # lists and free-form values: the trial's own validation decides
        fields = {(info.alias or name): info for name, info in model.model_fields.items()}
        if part not in fields:
            close = difflib.get_close_matches(str(part), list(fields), n=1, cutoff=0.6)
            hint = f"did you mean {label}.{close[0]}?" if close else f"{label} has: {', '.join(fields)}"
            return ManifestIssue(where, f"{label} has no key {part!r}", hint=hint)
        model = model_of(fields[part].annotation)
        label = f"{label}.{part}"
    return None


def expand(config: SweepConfig, seed: int) -> list[dict[str, Any]]:
    """The overrides of every trial: the grid's product in declared order, or seeded random samples."""
    paths = list(config.parameters)
    if config.method == "grid":
        axes = [config.parameters[p].values or [] for p in paths]
        return [dict(zip(paths, combo, strict=True)) for combo in itertools.product(*axes)]
    rng = random.Random(config.seed if config.seed is not None else seed)
    out = []
    for _ in range(config.samples or 0):
        trial: dict[str, Any] = {}
        for path in paths:
            axis = config.parameters[path]
            if axis.values is not None:
                trial[path] = copy.deepcopy(rng.choice(axis.values))
                continue
            low, high = float(axis.low), float(axis.high)  # type: ignore[arg-type]
            value = math.exp(rng.uniform(math.log(low), math.log(high))) if axis.log else rng.uniform(low, high)
            trial[path] = int(round(value)) if axis.integer else float(f"{value:.6g}")
        out.append(trial)
    return out


def trial_name(base: str, index: int) -> str:
    suffix = f"-t{index:03d}"
    return base[: 80 - len(suffix)] + suffix


def plan_sweep(
    data: dict[str, Any], registry: Registry, *, max_runs: int | None = None, workers: int | None = None
) -> SweepPlan:
    """Validate the manifest and its sweep, then expand and resolve every trial (all errors at once)."""
    from tradecore.manifest import resolve

    if isinstance(data, dict) and isinstance(data.get("sweep"), dict) and (max_runs or workers):
        data = copy.deepcopy(data)
        if max_runs:
            data["sweep"]["max_runs"] = max_runs
        if workers:
            data["sweep"]["workers"] = workers
    base = resolve(data, registry)
    config = base.manifest.sweep
    if config is None:
        raise TradecoreError(
            'the manifest has no \'sweep\' section; add one, e.g. "sweep": {"parameters": '
            '{"env.fee_bps": {"values": [10, 26]}}}'
        )
    issues = [issue for path in config.parameters if (issue := check_path(path, data, base))]
    if issues:
        raise ManifestError(issues)
    trials: list[Trial] = []
    for index, overrides in enumerate(expand(config, base.manifest.seed)):
        trial_data = copy.deepcopy(data)
        trial_data.pop("sweep", None)
        trial_data["name"] = trial_name(base.manifest.name, index)
        for path, value in overrides.items():
            set_path(trial_data, path, value)
        try:
            resolved = resolve(trial_data, registry)
        except ManifestError as exc:
            label = ", ".join(f"{p}={v!r}" for p, v in overrides.items())
            issues.extend(
                ManifestIssue(
                    f"sweep.parameters.{i.path}" if i.path in overrides else i.path,
                    f"trial {index} ({label}): {i.message}",
                    i.value,
                    i.expected,
                    i.hint,
                )
                for i in exc.issues
            )
            continue
        trials.append(Trial(index=index, overrides=overrides, data=trial_data, resolved=resolved))
    if issues:
        raise ManifestError(_first_distinct(issues))
    return SweepPlan(name=base.manifest.name, config=config, base=base, trials=trials)


def _first_distinct(issues: list[ManifestIssue], limit: int = 10) -> list[ManifestIssue]:
    """The same bad value repeats across many trials: show each problem once, at most ``limit``."""
    seen: set[tuple[str, str]] = set()
    out = []
    for issue in issues:
        key = (issue.path, repr(issue.value))
        if key not in seen:
            seen.add(key)
            out.append(issue)
    if len(out) > limit:
        more = len(out) - limit
        out = out[:limit] + [ManifestIssue("", f"... and {more} more problem(s)")]
    return out
