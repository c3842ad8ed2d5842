"""The public API of tradecore: everything a plugin, an example or an embedding script may import.

Anything not named here is internal and may change without notice; the plugins in this repository
import only this module, ``tradecore`` itself and ``tradecore.testing`` (a test keeps it so).
Names load lazily, so ``import tradecore.api`` stays as cheap as ``import tradecore``.

    from tradecore.api import hookimpl, IndicatorSpec, Indicator, Candles
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from tradecore.hookspecs import hookimpl

#: public name -> the module that defines it
_EXPORTS: dict[str, str] = {
    # the plugin contract
    "SourceSpec": "tradecore.specs",
    "IndicatorSpec": "tradecore.specs",
    "RewardTermSpec": "tradecore.specs",
    "TrainerSpec": "tradecore.specs",
    "BackendSpec": "tradecore.specs",
    "ComponentSpec": "tradecore.specs",
    "PluginUnavailable": "tradecore.plugins",
    "PluginControls": "tradecore.plugins",
    # component interfaces and the values they exchange
    "RunContext": "tradecore.interfaces",
    "Candles": "tradecore.interfaces",
    "DataSource": "tradecore.interfaces",
    "FetchingSource": "tradecore.interfaces",
    "Indicator": "tradecore.interfaces",
    "RewardTerm": "tradecore.interfaces",
    "BatchRewardTerm": "tradecore.interfaces",
    "StepOutcome": "tradecore.interfaces",
    "BatchOutcome": "tradecore.interfaces",
    "Trainer": "tradecore.interfaces",
    "TrainResult": "tradecore.interfaces",
    "Policy": "tradecore.interfaces",
    "ComputeBackend": "tradecore.interfaces",
    # what a trainer receives
    "Experiment": "tradecore.env.experiment",
    # embedding
    "Runtime": "tradecore.runtime",
    "load_manifest": "tradecore.manifest",
    "resolve": "tradecore.manifest",
    "Manifest": "tradecore.manifest",
    # errors
    "TradecoreError": "tradecore.errors",
    "ManifestError": "tradecore.errors",
    # params fields
    "UtcDatetime": "tradecore.fields",
    # market data: the lake, the job store, fetch plans and progress
    "Lake": "tradecore.data.lake",
    "JobStore": "tradecore.data.jobs",
    "Job": "tradecore.data.jobs",
    "PlanStep": "tradecore.data.fetching",
    "FetchResult": "tradecore.data.fetching",
    "Progress": "tradecore.data.fetching",
    "candles_from_trades": "tradecore.data.trades",
    "timeframe_ms": "tradecore.timeframes",
    "resolve_lake_root": "tradecore.paths",
    "default_runs_root": "tradecore.paths",
}

#: names exported under another name than their definition's
_RENAMED = {"candles_from_trades": "candles_from_arrays"}

__all__ = ["hookimpl", *_EXPORTS]

if TYPE_CHECKING:
    from tradecore.data.fetching import FetchResult, PlanStep, Progress
    from tradecore.data.jobs import Job, JobStore
    from tradecore.data.lake import Lake
    from tradecore.data.trades import candles_from_arrays as candles_from_trades
    from tradecore.env.experiment import Experiment
    from tradecore.errors import ManifestError, TradecoreError
    from tradecore.fields import UtcDatetime
    from tradecore.interfaces import (
        BatchOutcome,
        BatchRewardTerm,
        Candles,
        ComputeBackend,
        DataSource,
        FetchingSource,
        Indicator,
        Policy,
        RewardTerm,
        RunContext,
        StepOutcome,
        Trainer,
        TrainResult,
    )
    from tradecore.manifest import Manifest, load_manifest, resolve
    from tradecore.paths import default_runs_root, resolve_lake_root
    from tradecore.plugins import PluginControls, PluginUnavailable
    from tradecore.runtime import Runtime
    from tradecore.specs import BackendSpec, ComponentSpec, IndicatorSpec, RewardTermSpec, SourceSpec, TrainerSpec
    from tradecore.timeframes import timeframe_ms


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'tradecore.api' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), _RENAMED.get(name, name))
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
