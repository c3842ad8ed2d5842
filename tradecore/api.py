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
    "Indicator": "tradecore.interfaces",
    "RewardTerm": "tradecore.interfaces",
    "BatchRewardTerm": "tradecore.interfaces",
    "StepOutcome": "tradecore.interfaces",
    "BatchOutcome": "tradecore.interfaces",
    "Trainer": "tradecore.interfaces",
    "TrainResult": "tradecore.interfaces",
    "Policy": "tradecore.interfaces",
    "ComputeBackend": "tradecore.interfaces",
    "Experiment": "tradecore.env.experiment",
    "describe_space": "tradecore.env.spaces",
    "RunRequest": "tradecore.interfaces",
    "RunOutcome": "tradecore.interfaces",
    "StageReport": "tradecore.interfaces",
    # building blocks of a run, for trainers and embedding scripts
    "build_features": "tradecore.features.pipeline",
    "labelled_indicators": "tradecore.features.labels",
    "build_experiment": "tradecore.env.experiment",
    "rollout": "tradecore.runs.evaluate",
    "Rollout": "tradecore.runs.evaluate",
    "evaluate_run": "tradecore.runs.evaluation_cli",
    # run folders
    "read_json": "tradecore.runs.folder",
    "write_json": "tradecore.runs.folder",
    "resolve_run_dir": "tradecore.runs.folder",
    "is_inside": "tradecore.runs.folder",
    # backends: sweeps, child runs, sweep summaries, tables
    "SweepingBackend": "tradecore.compute.sweeping",
    "SweepOptions": "tradecore.compute.sweeping",
    "SweepPlan": "tradecore.compute.sweep",
    "plan_sweep": "tradecore.compute.sweep",
    "ChildRun": "tradecore.compute.child",
    "child_manifest": "tradecore.compute.child",
    "start_child": "tradecore.compute.child",
    "stop_children": "tradecore.compute.child",
    "unique_folder": "tradecore.compute.child",
    "finish_trial": "tradecore.compute.executor",
    "TrialResult": "tradecore.compute.summary",
    "metric_value": "tradecore.compute.summary",
    "summary_dict": "tradecore.compute.summary",
    "write_summary": "tradecore.compute.summary",
    "render_table": "tradecore.tables",
    # trainers
    "resolve_torch_device": "tradecore.devices",
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
    "FetchingSource": "tradecore.data.fetching",
    "JobStore": "tradecore.data.jobs",
    "Job": "tradecore.data.jobs",
    "PlanStep": "tradecore.data.fetching",
    "FetchResult": "tradecore.data.fetching",
    "Progress": "tradecore.data.fetching",
    "OutOfReach": "tradecore.data.fetching",
    "StreamingSource": "tradecore.data.streaming",
    "TradeStream": "tradecore.data.streaming",
    "TradeBatch": "tradecore.data.streaming",
    "StreamLost": "tradecore.data.streaming",
    "StreamRunner": "tradecore.data.stream",
    "StreamSettings": "tradecore.data.stream",
    "ExchangeFacts": "tradecore.data.exchange_facts",
    "candles_from_trades": "tradecore.data.trades",
    "timeframe_ms": "tradecore.timeframes",
    "resolve_lake_root": "tradecore.paths",
    "default_runs_root": "tradecore.paths",
    # paper trading: the order path (a live broker implements Broker)
    "Broker": "tradecore.paper.broker",
    "PaperBroker": "tradecore.paper.broker",
    "Order": "tradecore.paper.broker",
    "Fill": "tradecore.paper.broker",
    "Position": "tradecore.paper.broker",
    "Settlement": "tradecore.paper.broker",
    "Bar": "tradecore.paper.broker",
}

#: names exported under another name than their definition's
_RENAMED = {"candles_from_trades": "candles_from_arrays"}

__all__ = ["hookimpl", *_EXPORTS]

if TYPE_CHECKING:
    from tradecore.compute.child import ChildRun, child_manifest, start_child, stop_children, unique_folder
    from tradecore.compute.executor import finish_trial
    from tradecore.compute.summary import TrialResult, metric_value, summary_dict, write_summary
    from tradecore.compute.sweep import SweepPlan, plan_sweep
    from tradecore.compute.sweeping import SweepingBackend, SweepOptions
    from tradecore.data.exchange_facts import ExchangeFacts
    from tradecore.data.fetching import FetchingSource, FetchResult, OutOfReach, PlanStep, Progress
    from tradecore.data.jobs import Job, JobStore
    from tradecore.data.lake import Lake
    from tradecore.data.stream import StreamRunner, StreamSettings
    from tradecore.data.streaming import StreamingSource, StreamLost, TradeBatch, TradeStream
    from tradecore.data.trades import candles_from_arrays as candles_from_trades
    from tradecore.devices import resolve_torch_device
    from tradecore.env.experiment import Experiment, build_experiment
    from tradecore.env.spaces import describe_space
    from tradecore.errors import ManifestError, TradecoreError
    from tradecore.features.labels import labelled_indicators
    from tradecore.features.pipeline import build_features
    from tradecore.fields import UtcDatetime
    from tradecore.interfaces import (
        BatchOutcome,
        BatchRewardTerm,
        Candles,
        ComputeBackend,
        DataSource,
        Indicator,
        Policy,
        RewardTerm,
        RunContext,
        RunOutcome,
        RunRequest,
        StageReport,
        StepOutcome,
        Trainer,
        TrainResult,
    )
    from tradecore.manifest import Manifest, load_manifest, resolve
    from tradecore.paper.broker import Bar, Broker, Fill, Order, PaperBroker, Position, Settlement
    from tradecore.paths import default_runs_root, resolve_lake_root
    from tradecore.plugins import PluginControls, PluginUnavailable
    from tradecore.runs.evaluate import Rollout, rollout
    from tradecore.runs.evaluation_cli import evaluate_run
    from tradecore.runs.folder import is_inside, read_json, resolve_run_dir, write_json
    from tradecore.runtime import Runtime
    from tradecore.specs import BackendSpec, ComponentSpec, IndicatorSpec, RewardTermSpec, SourceSpec, TrainerSpec
    from tradecore.tables import render_table
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
