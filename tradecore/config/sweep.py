"""The manifest's ``sweep`` section: a grid or random search over params paths (pydantic only, fast to import).

    "sweep": {"method": "grid", "max_runs": 16, "workers": 2, "metric": "test.sharpe", "mode": "max",
              "parameters": {"trainer.params.learning_rate": {"values": [0.0001, 0.0003]},
                             "env.fee_bps": {"values": [10, 26]}}}

Paths are checked against the manifest and its components when the sweep is planned
(:func:`tradecore.compute.sweep.plan_sweep`); this module checks only what it can see on its own.
"""

from __future__ import annotations

import math
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

#: ``env.fee_bps``, ``trainer.params.learning_rate``, ``indicators[0].params.period``
PATH_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\[\d+\])?(\.[A-Za-z_][A-Za-z0-9_]*(\[\d+\])?)*$")


class SweepAxis(BaseModel):
    """One swept value: a list of ``values`` (grid, or choices for random), or a ``low``..``high`` range (random)."""

    model_config = ConfigDict(extra="forbid")

    values: list[Any] | None = Field(None, description="Values to try (grid) or choose from (random)")
    low: float | None = Field(None, description="Lower bound of a random range")
    high: float | None = Field(None, description="Upper bound of a random range")
    log: bool = Field(False, description="Sample the range log-uniformly (learning rates)")
    integer: bool = Field(False, description="Round range samples to integers")

    @model_validator(mode="after")
    def _one_kind(self) -> SweepAxis:
        has_range = self.low is not None or self.high is not None
        if self.values is not None and has_range:
            raise ValueError("give either values or low/high, not both")
        if self.values is None and not has_range:
            raise ValueError("give values: [...] or a range low/high")
        if self.values is not None and not self.values:
            raise ValueError("values needs at least one value")
        if has_range:
            if self.low is None or self.high is None:
                raise ValueError("a range needs both low and high")
            if not (math.isfinite(self.low) and math.isfinite(self.high)) or self.low > self.high:
                raise ValueError(f"low must be <= high (got {self.low:g} > {self.high:g})")
            if self.log and self.low <= 0:
                raise ValueError("a log range needs low > 0")
        return self

    @property
    def size(self) -> int | None:
        """How many grid points this axis has (None for a range)."""
        return len(self.values) if self.values is not None else None


class SweepConfig(BaseModel):
    """A parameter sweep: many runs of one manifest, each with some params paths changed."""

    model_config = ConfigDict(extra="forbid")

    method: Literal["grid", "random"] = Field("grid", description="Every combination, or random samples")
    parameters: dict[str, SweepAxis] = Field(description="Params path -> values or range, e.g. 'env.fee_bps'")
    samples: int | None = Field(None, ge=1, description="Random search: number of runs")
    max_runs: int = Field(64, ge=1, le=100_000, description="Refuse sweeps that would start more runs than this")
    workers: int = Field(1, ge=1, le=1024, description="Runs executing at the same time")
    metric: str | None = Field(None, description="Metric naming the best run, e.g. 'test.sharpe'")
    mode: Literal["max", "min"] = Field("max", description="Whether the best run has the largest or smallest metric")
    seed: int | None = Field(None, ge=0, lt=2**32, description="Random search seed (default: the manifest seed)")

    @model_validator(mode="after")
    def _check(self) -> SweepConfig:
        if not self.parameters:
            raise ValueError("parameters needs at least one params path")
        for path in self.parameters:
            if not PATH_PATTERN.match(path):
                raise ValueError(f"{path!r} is not a params path; write it like 'trainer.params.learning_rate'")
        if self.method == "grid":
            ranged = [p for p, axis in self.parameters.items() if axis.values is None]
            if ranged:
                raise ValueError(
                    f"a grid needs values for every parameter; {ranged[0]!r} has a range "
                    "(use method 'random' or list values)"
                )
            if self.samples is not None:
                raise ValueError("samples applies to method 'random' only")
        elif self.samples is None:
            raise ValueError("method 'random' needs samples (the number of runs)")
        runs = self.run_count
        if runs > self.max_runs:
            raise ValueError(
                f"the sweep expands to {runs:,} runs, more than max_runs={self.max_runs}; "
                "raise max_runs or sweep fewer values"
            )
        return self

    @property
    def run_count(self) -> int:
        if self.method == "random":
            return self.samples or 0
        return math.prod(axis.size or 1 for axis in self.parameters.values())
