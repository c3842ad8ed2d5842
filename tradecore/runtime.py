"""Runtime: the embedding entry point. It owns one plugin manager and its registry; no globals.

from tradecore import Runtime
rt = Runtime(plugins=[MyPlugin()], entrypoints=False)
resolved = rt.resolve("experiment.json")
source = resolved.source.build()
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tradecore.interfaces import RunOutcome, RunRequest
from tradecore.plugins import PluginControls, TradecorePluginManager
from tradecore.registry import Provided, Registry

if TYPE_CHECKING:  # the manifest pulls in pydantic: not needed for --help or plugin commands
    from tradecore.manifest import Manifest, ResolvedManifest


class Runtime:
    """Plugins, registry and builders for one process or test; create as many as you like."""

    def __init__(
        self,
        plugins: Iterable[Any] = (),
        *,
        entrypoints: bool = True,
        builtins: bool = True,
        controls: PluginControls | None = None,
    ) -> None:
        self.controls = controls or PluginControls()
        self.manager = TradecorePluginManager(self.controls)
        if builtins:
            self.manager.load_builtins()
        if entrypoints:
            self.manager.load_entrypoints()
        for directory in self.controls.plugin_dirs:
            self.manager.load_directory(directory)
        for plugin in plugins:
            self.manager.add_object(plugin)
        self._registry: Registry | None = None

    @classmethod
    def from_environment(cls, **overrides: Any) -> Runtime:
        """What the CLI uses: entry points plus the ``TRADECORE_*`` plugin controls."""
        entrypoints = not overrides.pop("no_plugins", False)
        controls = PluginControls.from_environment(**overrides)
        if not entrypoints:
            controls = PluginControls(
                disable=controls.disable,
                allow=(),
                strict=controls.strict,
                trace=controls.trace,
                plugin_dirs=controls.plugin_dirs,
            )
        return cls(controls=controls, entrypoints=True)

    def register(self, plugin: Any, name: str | None = None) -> bool:
        """Add a plugin object (module, class or instance with ``@hookimpl`` methods)."""
        added = self.manager.add_object(plugin, name)
        self._registry = None
        return added

    @property
    def registry(self) -> Registry:
        if self._registry is None:
            self._registry = Registry.collect(self.manager)
        return self._registry

    def component(self, kind: str, name: str) -> Provided:
        return self.registry.lookup(kind, name)

    def provenance(self, resolved: ResolvedManifest) -> dict[str, dict[str, Any]]:
        """What a run records of each plugin whose components ``resolved`` uses: distribution,
        version and the packages the plugin reports through ``tradecore_provenance``."""
        return self.manager.provenance(resolved.plugins)

    def resolve(self, manifest: str | Path | dict[str, Any] | Manifest) -> ResolvedManifest:
        """Validate a manifest (path, parsed JSON or model) in both phases against this runtime."""
        from tradecore.manifest import Manifest, read_manifest_file, resolve

        if isinstance(manifest, Manifest):
            data = manifest.model_dump(mode="json", by_alias=True, exclude_none=True)
        elif isinstance(manifest, dict):
            data = manifest
        else:
            data = read_manifest_file(manifest)
        return resolve(data, self.registry)

    def run(self, manifest: str | Path | dict[str, Any] | Manifest, **options: Any) -> RunOutcome:
        """Resolve ``manifest`` and hand it to its backend; ``options`` are :class:`RunRequest` fields."""
        resolved = self.resolve(manifest)
        backend = resolved.backend.build()
        return backend.submit(RunRequest(resolved=resolved, runtime=self, **options))
