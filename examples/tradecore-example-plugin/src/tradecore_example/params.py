"""Typed params of the example components (pydantic, unknown keys refused)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class HlSpreadParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    period: int = Field(20, ge=1, le=10_000, description="Bars in the rolling mean of the range")


class LossAversionParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    loss_weight: float = Field(2.0, ge=1.0, le=10.0, description="Multiplier applied to negative returns")
