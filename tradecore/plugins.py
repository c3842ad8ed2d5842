"""Plugin discovery, isolation, disabling and listing.

Plugins are modules holding ``@hookimpl`` functions. They arrive from entry points in the
``tradecore`` group (and, deprecated, the per-kind ``tradecore.<kind>`` groups), from a drop-in
directory, or as objects handed over by embedding code; the core's own built-ins are registered
directly, as pytest registers its own. Whatever goes wrong with one plugin -- import, registration, a
raising hook, a bad spec -- is recorded on its :class:`PluginRecord` and everything else keeps working;
strict mode re-raises instead.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import time
import traceback
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal

import pluggy

from tradecore import hookspecs
from tradecore.kinds import KINDS

if TYPE_CHECKING:
    from tradecore.kinds import Kind

#: the one entry-point group of plugin distributions (value: the module holding the hooks)
ENTRY_POINT_GROUP = "tradecore"
#: per-kind groups read for plugins written before the single group (``tradecore plugins --check`` warns)
LEGACY_ENTRY_POINT_GROUPS = tuple(kind.legacy_group for kind in KINDS)
CORE_DISTRIBUTION = "tradecore"
#: the core's built-ins: always registered, never disabled
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

    @property
    def legacy_groups(self) -> tuple[str, ...]:
        """The deprecated per-kind groups it was found through, unless it declares ``tradecore`` too
        (a plugin may keep both to support older cores)."""
        return () if ENTRY_POINT_GROUP in self.groups else self.groups

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

    def as_environment(self) -> dict[str, str | None]:
        """The ``TRADECORE_*`` variables under which :meth:`from_environment` in a child process gives these
        controls (None: unset it); how a server hands its ``--disable``, ``--only``... to the processes it starts."""
        return {
            "TRADECORE_DISABLE_PLUGINS": ",".join(self.disable),
            "TRADECORE_LOAD_PLUGINS": None if self.allow is None else ",".join(self.allow),
            "TRADECORE_STRICT_PLUGINS": "1" if self.strict else "",
            "TRADECORE_TRACE_PLUGINS": "1" if self.trace else "",
            "TRADECORE_PLUGINS_DIR": os.pathsep.join(str(Path(p).resolve()) for p in self.plugin_dirs),
        }

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
        # pluggy's own tracer: plugin authors' ``enable_tracing()`` lines and ours share one writer
        self.hooktrace = self.trace.root.get("hook")
        if self.controls.trace:
            self.trace.root.setwriter(_trace_to_stderr)

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

    def load_entrypoints(self) -> None:
        """Discover plugins in the ``tradecore`` entry-point group and the legacy per-kind groups; a
        module already registered (listed in several groups, or a built-in) registers once."""
        from importlib.metadata import entry_points

        by_module: dict[str, PluginRecord] = {}
        loaders: dict[str, Any] = {}
        registered = {record.module for record in self.records.values()}
        everything = entry_points()  # one scan of the installed distributions, not one per group
        for group in (ENTRY_POINT_GROUP, *LEGACY_ENTRY_POINT_GROUPS):
            for ep in everything.select(group=group):
                if ep.value in registered:  # e.g. an older core's metadata still listing its built-ins
                    continue
                if ep.value in by_module:
                    by_module[ep.value].groups += (group,)
                    continue
                dist = getattr(ep, "dist", None)
                by_module[ep.value] = PluginRecord(
                    name=ep.name,
                    module=ep.value,
                    distribution=dist.metadata["Name"] if dist is not None else None,
                    version=dist.version if dist is not None else None,
                    groups=(group,),
                    origin="entrypoint",
                )
                loaders[ep.value] = ep.load
        for module, record in by_module.items():
            self.load_module(record, loaders[module])

    def load_builtins(self) -> None:
        """Register the core's built-ins. They have no entry points: like pytest's own plugins they
        are always there, and one way to load them keeps bare checkouts and installs alike."""
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
    def call_each(
        self, hook_name: str, *, plugins: Collection[str] | None = None, **kwargs: Any
    ) -> list[tuple[str, Any]]:
        """Call each active plugin's implementation of ``hook_name`` (only those of ``plugins`` when
        given) through pluggy, one plugin at a time, in pluggy's order (``tryfirst``/``trylast``) and
        inside every active hook wrapper. Returns ``(plugin, value)`` pairs; a generator is read here,
        so its failure is its plugin's too. A plugin that raises is marked failed and skipped; a
        wrapper that raises is marked failed and the plugin it wrapped is called again without it."""
        impls = getattr(self.hook, hook_name).get_hookimpls()
        wrappers = {i.plugin_name for i in impls if i.wrapper or i.hookwrapper}
        results = []
        for impl in reversed(impls):  # pluggy calls the last registered (and tryfirst) first
            name = impl.plugin_name
            if name in wrappers or (plugins is not None and name not in plugins):
                continue
            while self._active(name):
                called = [impl, *(w for w in impls if w.plugin_name in wrappers and self._active(w.plugin_name))]
                started = time.perf_counter()
                try:
                    value = self._call_subset(hook_name, impls, called, kwargs)
                except Exception as exc:
                    culprit = _raised_by(exc, called) or name
                    self.hooktrace(f"{hook_name} <- {name} ({_ms_since(started)} ms, {culprit} raised)")
                    self.records[culprit].fail("hook", exc)
                    self._settle(self.records[culprit])
                    continue
                self.hooktrace(f"{hook_name} <- {name} ({_ms_since(started)} ms)")
                results.append((name, value))
                break
        return results

    def _call_subset(
        self, hook_name: str, impls: Sequence[pluggy.HookImpl], called: Sequence[pluggy.HookImpl], kwargs: Any
    ) -> Any:
        """Call ``hook_name`` through pluggy with only the ``called`` implementations."""
        others = [i.plugin for i in impls if i not in called]
        returned = self.subset_hook_caller(hook_name, remove_plugins=others)(**kwargs)
        value = returned[0] if returned else None  # pluggy drops a None result
        return list(value) if isinstance(value, Iterator) else value

    def _active(self, name: str) -> bool:
        record = self.records.get(name)
        return record is not None and record.status == "active"

    def may_provide(self, record: PluginRecord, kind: Kind) -> bool:
        """Whether a plugin that is not active could be the one providing ``kind`` components."""
        if record.stage in ("hook", "spec"):  # it registered before failing: its hooks say what it provides
            plugin = self.get_plugin(record.name)
            return any(caller.name == kind.hook for caller in self.get_hookcallers(plugin) or ())
        legacy = record.legacy_groups
        return kind.legacy_group in legacy if legacy else True  # never imported: it may provide any kind

    def provenance(self, plugins: Collection[str]) -> dict[str, dict[str, Any]]:
        """Name, distribution and version of each of ``plugins``, with the packages it reports through
        ``tradecore_provenance`` (``{package: version}``)."""
        reported = dict(self.call_each("tradecore_provenance", plugins=plugins))
        out = {}
        for name in plugins:
            record, packages = self.records[name], reported.get(name) or {}
            if not isinstance(packages, dict):
                record.fail(
                    "hook", TypeError(f"tradecore_provenance must return a dict, got {type(packages).__name__}")
                )
                self._settle(record)
                packages = {}
            out[name] = {
                "distribution": record.distribution,
                "version": record.version,
                "packages": {str(package): str(version) for package, version in packages.items()},
            }
        return out

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


def _raised_by(exc: BaseException, impls: Sequence[pluggy.HookImpl]) -> str | None:
    """The plugin whose hook function is innermost in ``exc``'s traceback: a wrapper that raises is
    to blame, not the plugin it wraps; a plugin's exception passing through a wrapper stays its own."""
    plugin_of = {impl.function.__code__: impl.plugin_name for impl in impls}
    culprit, tb = None, exc.__traceback__
    while tb is not None:
        culprit = plugin_of.get(tb.tb_frame.f_code, culprit)
        tb = tb.tb_next
    return culprit


def _ms_since(started: float) -> str:
    return f"{(time.perf_counter() - started) * 1e3:.1f}"


def _trace_to_stderr(message: str) -> None:
    sys.stderr.write(f"[trace] {message}")
