"""The manifest's ``data`` section: what the candles of a run must be like before it trains on them."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tradecore.timeframes import TimeframeError, timeframe_ms


class QualityConfig(BaseModel):
    """Minimum quality of the candles a run uses; a run refuses data below it with the numbers."""

    model_config = ConfigDict(extra="forbid")

    min_coverage: float | None = Field(
        None, gt=0, le=1, description="Fraction of the range's candle slots that must hold a candle, e.g. 0.99"
    )
    max_missing_run: str | None = Field(
        None,
        description="Longest hole of missing candles allowed (holes where nobody traded do not count), as a "
        "duration: 30m, 6h, 2d",
    )

    @field_validator("max_missing_run")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                timeframe_ms(value)
            except TimeframeError:
                raise ValueError(f"{value!r} is not a duration: use a number and a unit m/h/d/w, e.g. 6h") from None
        return value

    def max_missing_ms(self) -> int | None:
        return timeframe_ms(self.max_missing_run) if self.max_missing_run is not None else None


class SliceRef(BaseModel):
    """One slice of a ``tradecore data slices -o FILE`` manifest: the run uses only its range, and refuses it
    when the candles no longer meet the rules the slice was cut with."""

    model_config = ConfigDict(extra="forbid")

    file: str = Field(min_length=1, description="The slices file (relative to the working directory)")
    index: int = Field(0, ge=0, description="Which slice of the file (0 = the first)")


class DataConfig(BaseModel):
    """Quality requirements on the candles a run loads."""

    model_config = ConfigDict(extra="forbid")

    quality: QualityConfig | None = Field(None, description="Refuse candles below this quality")
    slice: SliceRef | None = Field(None, description="Train on one dataset slice written by `tradecore data slices`")
    warn_missing: float = Field(
        0.01, ge=0, le=1, description="Print a warning when more than this fraction of candle slots is missing"
    )
