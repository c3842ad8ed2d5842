"""tradecore: a plugin-based framework for reinforcement-learning research on crypto markets.

Public API (imported lazily so ``import tradecore`` stays cheap)::

    from tradecore import Runtime, load_manifest, hookimpl
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tradecore.hookspecs import hookimpl

__version__ = "0.1.0"

_LAZY = {
    "Runtime": "tradecore.runtime",
    "load_manifest": "tradecore.manifest",
    "resolve": "tradecore.manifest",
    "Manifest": "tradecore.manifest",
    "PluginUnavailable": "tradecore.plugins",
    "PluginControls": "tradecore.plugins",
    "TradecoreError": "tradecore.errors",
    "ManifestError": "tradecore.errors",
    "SourceSpec": "tradecore.specs",
    "IndicatorSpec": "tradecore.specs",
    "RewardTermSpec": "tradecore.specs",
    "TrainerSpec": "tradecore.specs",
    "BackendSpec": "tradecore.specs",
}

__all__ = [
    "__version__",
    "hookimpl",
    "Runtime",
    "load_manifest",
    "resolve",
    "Manifest",
    "PluginUnavailable",
    "PluginControls",
    "TradecoreError",
    "ManifestError",
    "SourceSpec",
    "IndicatorSpec",
    "RewardTermSpec",
    "TrainerSpec",
    "BackendSpec",
]

if TYPE_CHECKING:
    from tradecore.errors import ManifestError, TradecoreError
    from tradecore.manifest import Manifest, load_manifest, resolve
    from tradecore.plugins import PluginControls, PluginUnavailable
    from tradecore.runtime import Runtime
    from tradecore.specs import BackendSpec, IndicatorSpec, RewardTermSpec, SourceSpec, TrainerSpec


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'tradecore' has no attribute {name!r}")
