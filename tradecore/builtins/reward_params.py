"""Params models of the built-in reward terms, importable to build or subclass them in code.

from tradecore.builtins.reward_params import DsrParams
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class PnlParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mode: Literal["log", "simple"] = Field("log", description="log or simple return of equity")


class FeeCostParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    include_slippage: bool = Field(True, description="Count slippage as a cost too")


class DrawdownParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mode: Literal["increase", "level"] = Field(
        "increase", description="increase: minus the rise of drawdown this step; level: minus the drawdown"
    )


class NoParams(BaseModel):  # exposure, turnover (no docstring: it would land in the manifest schema)
    model_config = ConfigDict(extra="forbid")


class DsrParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    eta: float = Field(0.01, gt=0, lt=1, description="Adaptation rate of the moving moments (about 1/bars)")


class TerminalParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mode: Literal["log", "simple"] = Field("log", description="log or simple total return of the episode")
