"""Params models of the standard indicators (pydantic only: imported when listing and validating).

Bounds follow TA-Lib's own (e.g. RSI and ADX need ``period >= 2``), so a manifest TA-Lib would reject
fails at validation with the field named, never mid-run.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

PriceColumn = Literal["open", "high", "low", "close", "volume"]


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReturnsParams(_Params):
    period: int = Field(1, ge=1, le=100_000, description="Bars between the two prices compared")
    source: PriceColumn = Field("close", description="Candle column the return is taken on")


class MovingAverageParams(_Params):
    period: int = Field(20, ge=1, le=100_000, description="Bars in the moving window")
    source: PriceColumn = Field("close", description="Candle column to average")


class EmaParams(MovingAverageParams):
    pass


class RsiParams(_Params):
    period: int = Field(14, ge=2, le=100_000, description="Bars in Wilder's smoothing (TA-Lib minimum: 2)")
    source: PriceColumn = Field("close", description="Candle column")


class MacdParams(_Params):
    fast: int = Field(12, ge=2, le=100_000, description="Fast EMA period")
    slow: int = Field(26, ge=2, le=100_000, description="Slow EMA period (greater than fast)")
    signal: int = Field(9, ge=1, le=100_000, description="Signal EMA period")
    source: PriceColumn = Field("close", description="Candle column")

    @model_validator(mode="after")
    def _fast_below_slow(self) -> MacdParams:
        if self.fast >= self.slow:
            raise ValueError(f"fast ({self.fast}) must be less than slow ({self.slow})")
        return self


class AtrParams(_Params):
    period: int = Field(14, ge=1, le=100_000, description="Bars in Wilder's smoothing of the true range")


class BollingerParams(_Params):
    period: int = Field(20, ge=2, le=100_000, description="Bars in the moving window (TA-Lib minimum: 2)")
    nbdev: float = Field(2.0, gt=0, le=100, description="Band distance in population standard deviations")
    source: PriceColumn = Field("close", description="Candle column")


class VolatilityParams(_Params):
    period: int = Field(60, ge=2, le=100_000, description="Bars of 1-bar log returns in the window")
    ddof: Literal[0, 1] = Field(1, description="Delta degrees of freedom: 1 = sample std, 0 = population std")


class ZScoreParams(_Params):
    period: int = Field(20, ge=2, le=100_000, description="Bars in the rolling mean and population std")
    source: PriceColumn = Field("close", description="Candle column")


class VwapParams(_Params):
    period: int = Field(20, ge=1, le=100_000, description="Bars in the rolling window")


class ObvParams(_Params):
    source: PriceColumn = Field("close", description="Column whose up/down moves sign the volume")


class StochParams(_Params):
    fastk_period: int = Field(5, ge=1, le=100_000, description="Bars of the highest high / lowest low")
    slowk_period: int = Field(3, ge=1, le=100_000, description="SMA smoothing of fast %K into slow %K")
    slowd_period: int = Field(3, ge=1, le=100_000, description="SMA smoothing of slow %K into %D")


class AdxParams(_Params):
    period: int = Field(14, ge=2, le=100_000, description="Bars in Wilder's smoothing (TA-Lib minimum: 2)")


class TimeFeatureParams(_Params):
    hour: bool = Field(True, description="Time of day (UTC) as sin/cos of a 24-hour cycle")
    day_of_week: bool = Field(True, description="Day of week (UTC) as sin/cos of a 7-day cycle")

    @model_validator(mode="after")
    def _something(self) -> TimeFeatureParams:
        if not (self.hour or self.day_of_week):
            raise ValueError("hour and day_of_week are both false: enable at least one")
        return self


class CrossAssetParams(_Params):
    period: int = Field(20, ge=2, le=100_000, description="Bars in the window")
