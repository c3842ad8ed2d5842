"""Build fake installed distributions (dist-info + module) in a temp folder put on sys.path.

Each failure mode of the plugin contract gets its own distribution, discovered through the real
entry-point groups (``tradecore``, or the legacy per-kind ones) exactly as a pip-installed plugin would be.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

PLUGIN_MODULES = {
    "ok": """
        from pydantic import BaseModel, ConfigDict, Field
        from tradecore import hookimpl
        from tradecore.specs import IndicatorSpec, SourceSpec

        class P(BaseModel):
            model_config = ConfigDict(extra="forbid")
            period: int = Field(3, ge=1)

        @hookimpl
        def tradecore_indicators():
            yield IndicatorSpec(name="fake-ok", description="ok", params=P, factory="fakeplug_ok:Ind")

        @hookimpl
        def tradecore_sources():
            yield SourceSpec(name="fake-source", description="ok source", params=P, factory="fakeplug_ok:Src")

        @hookimpl
        def tradecore_provenance():
            return {"fakelib": "9.9.9"}

        class Ind:
            def __init__(self, params):
                self.params = params

        class Src:
            def __init__(self, params):
                self.params = params
    """,
    "legacy": """
        from pydantic import BaseModel, ConfigDict
        from tradecore import hookimpl
        from tradecore.specs import IndicatorSpec

        class P(BaseModel):
            model_config = ConfigDict(extra="forbid")

        @hookimpl
        def tradecore_indicators():
            yield IndicatorSpec(name="fake-legacy", description="found through tradecore.<kind>", params=P,
                                factory="x:y")
    """,
    "importerror": """
        import a_module_that_does_not_exist  # noqa: F401
    """,
    "unavailable": """
        from tradecore.plugins import PluginUnavailable
        raise PluginUnavailable("needs somelib>=2 (pip install somelib)")
    """,
    "badhook": """
        from tradecore import hookimpl

        @hookimpl
        def tradecore_indicators(unexpected_argument):
            return []
    """,
    "typohook": """
        from tradecore import hookimpl

        @hookimpl
        def tradecore_indicator():
            return []
    """,
    "raises": """
        from tradecore import hookimpl

        @hookimpl
        def tradecore_indicators():
            raise RuntimeError("boom inside the hook")
    """,
    "badspec": """
        from pydantic import BaseModel
        from tradecore import hookimpl
        from tradecore.specs import IndicatorSpec

        class Loose(BaseModel):  # no extra="forbid": breaks the contract
            period: int = 3

        @hookimpl
        def tradecore_indicators():
            yield IndicatorSpec(name="loose", description="bad", params=Loose, factory="x:y")
    """,
    "clash": """
        from pydantic import BaseModel, ConfigDict
        from tradecore import hookimpl
        from tradecore.specs import IndicatorSpec

        class P(BaseModel):
            model_config = ConfigDict(extra="forbid")

        @hookimpl
        def tradecore_indicators():
            yield IndicatorSpec(name="fake-ok", description="same name as plugin ok", params=P, factory="x:y")
    """,
}


def write_fake_dist(
    root: Path, name: str, groups: tuple[str, ...] = ("tradecore",), entry_name: str | None = None
) -> str:
    """Write module ``fakeplug_<name>`` and dist ``fakeplug-<name>`` whose entry points list it."""
    module = f"fakeplug_{name}"
    (root / f"{module}.py").write_text(textwrap.dedent(PLUGIN_MODULES[name]))
    info = root / f"fakeplug_{name}-1.2.3.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: fakeplug-{name}\nVersion: 1.2.3\n")
    lines = [f"[{g}]\n{entry_name or name} = {module}\n" for g in groups]
    (info / "entry_points.txt").write_text("\n".join(lines))
    return module


def install_fake_dists(root: Path, monkeypatch, names: dict[str, tuple[str, ...]]) -> None:
    for name, groups in names.items():
        write_fake_dist(root, name, groups)
    monkeypatch.syspath_prepend(str(root))
    for name in names:  # a fresh import in every test
        sys.modules.pop(f"fakeplug_{name}", None)
