"""The component registry: every spec each active plugin provides, looked up by kind and name.

Name clashes are kept, reported and only an error when a manifest uses the ambiguous name; a
qualified ``plugin/name`` picks one. A name that belongs to a failed or disabled plugin is answered
with that plugin's original cause.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from tradecore.kinds import BY_KEY, KINDS
from tradecore.plugins import TradecorePluginManager
from tradecore.specs import ComponentSpec, SpecError

#: up to this many names, an unknown-name error lists them all
LIST_ALL = 12


class LookupFailure(LookupError):
    """A component reference that cannot be resolved; ``hint`` says what to do."""

    def __init__(self, message: str, hint: str | None = None, choices: list[str] | None = None) -> None:
        super().__init__(message)
        self.message, self.hint, self.choices = message, hint, choices or []


@dataclass(frozen=True)
class Provided:
    plugin: str
    spec: ComponentSpec

    @property
    def qualified(self) -> str:
        return f"{self.plugin}/{self.spec.name}"


@dataclass
class Registry:
    manager: TradecorePluginManager
    components: dict[str, dict[str, list[Provided]]] = field(default_factory=lambda: {kind.key: {} for kind in KINDS})

    @classmethod
    def collect(cls, manager: TradecorePluginManager) -> Registry:
        """Call every registration hook, plugin by plugin, and check each spec."""
        registry = cls(manager)
        gathered: dict[str, list[Provided]] = {}
        for kind in KINDS:
            for plugin, specs in manager.call_each(kind.hook):
                try:
                    for spec in specs or ():
                        if not isinstance(spec, kind.spec_type):
                            raise SpecError(
                                f"{kind.hook} must yield {kind.spec_type.__name__}, got {type(spec).__name__}"
                            )
                        spec.check()
                        gathered.setdefault(plugin, []).append(Provided(plugin, spec))
                except Exception as exc:  # a bad spec fails the whole plugin: partial plugins confuse
                    record = manager.records[plugin]
                    record.fail("spec", exc)
                    gathered.pop(plugin, None)
                    manager._settle(record)
        for plugin, provided in gathered.items():
            if manager.records[plugin].status != "active":
                continue  # failed in a later hook
            for item in provided:
                registry.components[item.spec.kind].setdefault(item.spec.name, []).append(item)
                manager.records[plugin].provides.setdefault(item.spec.kind, []).append(item.spec.name)
        return registry

    # -- queries ----------------------------------------------------------------------------------
    def names(self, kind: str) -> list[str]:
        return sorted(self.components[kind])

    def all(self, kind: str) -> list[Provided]:
        return [p for name in self.names(kind) for p in self.components[kind][name]]

    def clashes(self) -> list[tuple[str, str, list[str]]]:
        """(kind, name, plugins) for every name more than one plugin provides."""
        return [
            (kind.key, name, [p.plugin for p in provided])
            for kind in KINDS
            for name, provided in sorted(self.components[kind.key].items())
            if len(provided) > 1
        ]

    def lookup(self, kind: str, ref: str) -> Provided:
        """Find the component ``ref`` (``name`` or ``plugin/name``) of ``kind``."""
        label = BY_KEY[kind].label
        plugin_name, _, name = ref.rpartition("/")
        candidates = self.components[kind].get(name, [])
        if plugin_name:
            candidates = [p for p in candidates if p.plugin == plugin_name]
        if len(candidates) == 1:
            return candidates[0]
        if len(candidates) > 1:
            options = [p.qualified for p in candidates]
            raise LookupFailure(
                f"{label} {name!r} is provided by several plugins ({', '.join(p.plugin for p in candidates)})",
                hint=f"use a qualified type, one of: {', '.join(options)}; or disable one plugin",
                choices=options,
            )
        raise self._not_found(kind, ref, plugin_name, name)

    def _not_found(self, kind: str, ref: str, plugin_name: str, name: str) -> LookupFailure:
        label = BY_KEY[kind].label
        troubled = [
            r
            for r in self.manager.records.values()
            if r.status != "active" and self.manager.may_provide(r, BY_KEY[kind])
        ]
        # prefer the plugin named like the component (kraken provides kraken) or like the qualifier
        named = [r for r in troubled if r.name in (name, plugin_name)]
        for record in named or (troubled if len(troubled) == 1 else []):
            if record.status == "disabled":
                return LookupFailure(
                    f"{label} {ref!r} may come from plugin {record.name!r}, which is {record.reason}",
                    hint="enable it (remove it from TRADECORE_DISABLE_PLUGINS, or add it to TRADECORE_LOAD_PLUGINS)",
                )
            return LookupFailure(
                f"{label} {ref!r} is unavailable: plugin {record.name!r} {record.status} at {record.stage} "
                f"({record.reason})",
                hint="run 'tradecore plugins' for details, or set TRADECORE_STRICT_PLUGINS=1 for the traceback",
            )
        return LookupFailure(f"unknown {label} {ref!r}", hint=self._suggest(kind, name), choices=self.names(kind))

    def _suggest(self, kind: str, name: str) -> str:
        """The closest names, and every name only while the list still reads as a line."""
        choices = self.names(kind)
        if not choices:
            return "no plugin provides any"
        close = difflib.get_close_matches(name, choices, n=1 if len(choices) <= LIST_ALL else 3, cutoff=0.6)
        quoted = [repr(c) for c in close]
        guess = f"did you mean {' or '.join([', '.join(quoted[:-1]), quoted[-1]] if len(quoted) > 1 else quoted)}? "
        guess = guess if close else ""
        if len(choices) <= LIST_ALL:
            return guess + f"choose one of: {', '.join(choices)}"
        return guess + f"see all {len(choices)} with: tradecore components {kind}"
