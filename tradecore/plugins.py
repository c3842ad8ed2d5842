"""Plugin discovery, isolation, disabling and listing.

Plugins are modules holding ``@hookimpl`` functions. They arrive from entry points (groups
``tradecore.<kind>``; the core's own built-ins come the same way), from a drop-in directory, or as
objects handed over by embedding code. Whatever goes wrong with one plugin -- import, registration,
a raising hook, a bad spec -- is recorded on its :class:`PluginRecord` and everything else keeps
working; strict mode re-raises instead.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import sys
import time
import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

import pluggy

from tradecore import hookspecs

log = logging.getLogger("tradecore.plugins")

ENTRY_POINT_GROUPS = {
    "sources": "tradecore.sources",
    "indicators": "tradecore.indicators",
    "rewards": "tradecore.rewards",
    "trainers": "tradecore.trainers",
    "backends": "tradecore.backends",
}
CORE_DISTRIBUTION = "tradecore"
#: built-ins registered directly when entry-point discovery is off (embedding, tests)
BUILTIN_PLUGINS = {
    "synthetic": "tradecore.builtins.synthetic",
    "standard-indicators": "tradecore.builtins.indicators",
    "standard-rewards": "tradecore.builtins.rewards",
    "local": "tradecore.builtins.local",
}

Status = Literal["active", "disabled", "failed", "unavailable"]
Stage = Literal["import", "register", "hook", "spec"]


class PluginUnavailable(Exception):
    """Raise at import time when a plugin cannot work here (e.g. an optional dependency is missing).
    The plugin is then listed as ``unavailable`` with this message, not as ``failed``."""


class PluginError(RuntimeError):
    """A plugin failure re-raised in strict mode."""


@dataclass
class PluginRecord:
    """Everything known about one plugin, whatever became of it."""

    name: str
    module: str
    distribution: str | None = None
    version: str | None = None
    groups: tuple[str, ...] = ()
    builtin: bool = False
    origin: str = "entrypoint"  # entrypoint | builtin | directory | embedded
    status: Status = "active"
    stage: Stage | None = None
    reason: str | None = None
    traceback: str | None = None
    provides: dict[str, list[str]] = field(default_factory=dict)

    def fail(self, stage: Stage, exc: BaseException, status: Status = "failed") -> None:
        self.status, self.stage = status, stage
        self.reason = one_line(exc)
        self.traceback = "".join(traceback.format_exception(exc))

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "distribution": self.distribution,
            "module": self.module,
            "status": self.status,
            "stage": self.stage,
            "reason": self.reason,
            "builtin": self.builtin,
            "origin": self.origin,
            "provides": self.provides,
        }


def one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def split_names(value: str | None) -> tuple[str, ...]:
    return tuple(n.strip() for n in (value or "").split(",") if n.strip())


@dataclass(frozen=True)
class PluginControls:
    """Which plugins load, and how failures and hook calls are handled."""

    disable: tuple[str, ...] = ()
    allow: tuple[str, ...] | None = None  # None = all; () = none but built-ins
    strict: bool = False
    trace: bool = False
    plugin_dirs: tuple[Path, ...] = ()

    @classmethod
    def from_environment(cls, env: dict[str, str] | None = None, **overrides: Any) -> PluginControls:
        """Read ``TRADECORE_DISABLE_PLUGINS``, ``TRADECORE_LOAD_PLUGINS``, ``TRADECORE_STRICT_PLUGINS``,
        ``TRADECORE_TRACE_PLUGINS`` and ``TRADECORE_PLUGINS_DIR`` (``os.pathsep``-separated)."""
        env = os.environ if env is None else env
        truthy = {"1", "true", "yes", "on"}
        allow = env.get("TRADECORE_LOAD_PLUGINS")
        values: dict[str, Any] = {
            "disable": split_names(env.get("TRADECORE_DISABLE_PLUGINS")),
            "allow": None if allow is None else split_names(allow),
            "strict": env.get("TRADECORE_STRICT_PLUGINS", "").lower() in truthy,
            "trace": env.get("TRADECORE_TRACE_PLUGINS", "").lower() in truthy,
            "plugin_dirs": tuple(Path(p) for p in env.get("TRADECORE_PLUGINS_DIR", "").split(os.pathsep) if p),
        }
        for key, value in overrides.items():
            if key == "disable":
                values[key] = values[key] + tuple(value)
            elif key == "plugin_dirs":
                values[key] = values[key] + tuple(Path(p) for p in value)
            elif value is not None and value is not False:
                values[key] = tuple(value) if key == "allow" else value
        return cls(**values)

    def blocked_reason(self, name: str, distribution: str | None) -> str | None:
        names = {name, distribution} - {None}
        if names & set(self.disable):
            return "disabled by TRADECORE_DISABLE_PLUGINS / --disable"
        if self.allow is not None and not names & set(self.allow):
            return "not in TRADECORE_LOAD_PLUGINS / --only"
        return None


class TradecorePluginManager(pluggy.PluginManager):
    """A pluggy manager that records what each plugin did, and isolates its failures."""

    def __init__(self, controls: PluginControls | None = None) -> None:
        super().__init__(hookspecs.PROJECT)
        self.add_hookspecs(hookspecs)
        self.controls = controls or PluginControls()
        self.records: dict[str, PluginRecord] = {}

    # -- adding plugins ---------------------------------------------------------------------------
    def add(self, plugin: Any, record: PluginRecord) -> bool:
        """Register ``plugin`` under ``record.name``; on failure roll back and record why."""
        if record.name in self.records and self.records[record.name].status != "disabled":
            record.fail(
                "register",
                ValueError(f"plugin name {record.name!r} is already used by {self.records[record.name].module}"),
            )
            self._settle(record, record.name + f" ({record.module})")
            return False
        self.records[record.name] = record
        try:
            self.register(plugin, name=record.name)
            unknown = [hc.name for hc in self.get_hookcallers(plugin) or () if not hc.has_spec()]
            if unknown:
                raise pluggy.PluginValidationError(
                    plugin, f"unknown hook {unknown[0]!r}; known hooks: {', '.join(self.hook_names())}"
                )
        except Exception as exc:  # register() is not transactional: undo partial registration
            if self.get_plugin(record.name) is not None:
                self.unregister(name=record.name)
            record.fail("register", exc)
            self._settle(record)
            return False
        return True

    def hook_names(self) -> list[str]:
        return sorted(n for n in dir(self.hook) if n.startswith("tradecore_"))

    def _settle(self, record: PluginRecord, key: str | None = None) -> None:
        """Keep a failed record listed; re-raise in strict mode."""
        self.records[key or record.name] = record
        if self.controls.strict and record.status in ("failed",):
            raise PluginError(f"plugin {record.name!r} failed at {record.stage}:\n{record.traceback}")

    def load_module(self, record: PluginRecord, load: Any) -> None:
        """Import a plugin module via ``load()`` and register it, recording any failure."""
        blocked = None if record.builtin else self.controls.blocked_reason(record.name, record.distribution)
        if blocked:
            record.status, record.reason = "disabled", blocked
            self.records.setdefault(record.name, record)
            return
        try:
            module = load()
        except PluginUnavailable as exc:
            record.fail("import", exc, status="unavailable")
            self._settle(record)
            return
        except BaseException as exc:  # noqa: BLE001 - a plugin may raise anything, even SystemExit
            if isinstance(exc, KeyboardInterrupt):
                raise
            record.fail("import", exc)
            self._settle(record)
            return
        self.add(module, record)

    def load_entrypoints(self, groups: Iterable[str] = ENTRY_POINT_GROUPS.values()) -> None:
        """Discover plugins in the entry-point ``groups``; a module listed in several groups
        registers once."""
        from importlib.metadata import entry_points

        by_module: dict[str, PluginRecord] = {}
        loaders: dict[str, Any] = {}
        everything = entry_points()  # one scan of the installed distributions, not one per group
        for group in groups:
            for ep in everything.select(group=group):
                if ep.value in by_module:
                    by_module[ep.value].groups += (group,)
                    continue
                dist = getattr(ep, "dist", None)
                dist_name = dist.metadata["Name"] if dist is not None else None
                by_module[ep.value] = PluginRecord(
                    name=ep.name,
                    module=ep.value,
                    distribution=dist_name,
                    version=dist.version if dist is not None else None,
                    groups=(group,),
                    builtin=dist_name == CORE_DISTRIBUTION,
                    origin="entrypoint",
                )
                loaders[ep.value] = ep.load
        for module, record in by_module.items():
            self.load_module(record, loaders[module])

    def load_builtins(self) -> None:
        """Register the core's built-ins without entry points (discovery turned off)."""
        from tradecore import __version__

        for name, module in BUILTIN_PLUGINS.items():
            record = PluginRecord(
                name=name,
                module=module,
                distribution=CORE_DISTRIBUTION,
                version=__version__,
                builtin=True,
                origin="builtin",
            )
            self.load_module(record, lambda m=module: importlib.import_module(m))

    def load_directory(self, directory: Path) -> None:
        """Register every ``*.py`` file of a drop-in plugin directory (research use)."""
        directory = Path(directory)
        if not directory.is_dir():
            record = PluginRecord(name=f"dir:{directory}", module=str(directory), origin="directory")
            record.fail("import", FileNotFoundError(f"plugins directory {directory} does not exist"))
            self._settle(record)
            return
        for path in sorted(directory.glob("*.py")):
            if path.name.startswith("_"):
                continue
            record = PluginRecord(name=path.stem, module=str(path), origin="directory")
            self.load_module(record, lambda p=path: _import_file(p))

    def add_object(self, plugin: Any, name: str | None = None) -> bool:
        """Register a plugin object handed over by embedding code (module, class or instance)."""
        name = name or getattr(plugin, "name", None) or getattr(plugin, "__name__", None) or type(plugin).__name__
        module = getattr(plugin, "__name__", None) or type(plugin).__module__
        return self.add(plugin, PluginRecord(name=str(name), module=str(module), origin="embedded"))

    # -- calling hooks ----------------------------------------------------------------------------
    def call_each(self, hook_name: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call every plugin's implementation of ``hook_name`` separately; a plugin that raises
        is marked failed and skipped."""
        results = []
        for impl in reversed(getattr(self.hook, hook_name).get_hookimpls()):
            record = self.records.get(impl.plugin_name)
            if record is None or record.status != "active":
                continue
            args = [kwargs[a] for a in impl.argnames]
            started = time.perf_counter()
            try:
                value = impl.function(*args)
                if hook_name != "tradecore_commands":
                    value = list(value or ())
            except Exception as exc:
                record.fail("hook", exc)
                self._settle(record)
                continue
            finally:
                if self.controls.trace:
                    print(
                        f"[trace] {hook_name} <- {impl.plugin_name} ({(time.perf_counter() - started) * 1e3:.1f} ms)",
                        file=sys.stderr,
                    )
            results.append((impl.plugin_name, value))
        return results

    def listing(self) -> list[PluginRecord]:
        return sorted(self.records.values(), key=lambda r: (not r.builtin, r.name))


def _import_file(path: Path) -> ModuleType:
    module_name = f"tradecore_dropin_{path.stem}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(module_name, None)
        raise
    return module
