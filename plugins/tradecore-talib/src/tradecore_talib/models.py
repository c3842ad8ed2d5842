"""Specs and params models built from the catalogue: one ``talib-<function>`` component per function.

Models are created with ``defer_build=True``, so ~160 of them cost a few ms at listing time and pydantic
builds a validator only for the functions a manifest uses. Params are TA-Lib's own names and defaults;
single-series inputs (``price``, ``price0``, ``price1``) become params choosing the candle column.
TA-Lib's Python metadata carries no ranges, so validation asks TA-Lib's lookback function: it returns
-1 for params out of range (e.g. ``timeperiod`` 1 for RSI), which becomes an error naming the params.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model, model_validator

from tradecore.api import IndicatorSpec
from tradecore_talib.catalogue import PRICE_COLUMNS, UNSUPPORTED

MA_TYPES = "0 SMA, 1 EMA, 2 WMA, 3 DEMA, 4 TEMA, 5 TRIMA, 6 KAMA, 7 MAMA, 8 T3"
PriceColumn = Literal["open", "high", "low", "close", "volume"]


def component_name(function: str) -> str:
    return f"talib-{function.lower()}"


class TalibParams(BaseModel):
    """Base of every generated params model."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    talib_function: ClassVar[str] = ""
    talib_inputs: ClassVar[dict[str, Any]] = {}
    talib_parameters: ClassVar[tuple[str, ...]] = ()
    talib_outputs: ClassVar[tuple[str, ...]] = ()

    def talib_kwargs(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.talib_parameters}

    def lookback(self) -> int:
        from talib import abstract

        return int(abstract.Function(self.talib_function, **self.talib_kwargs()).lookback)

    @model_validator(mode="after")
    def _talib_accepts(self) -> TalibParams:
        if self.talib_parameters and self.lookback() < 0:
            given = ", ".join(f"{k}={v}" for k, v in self.talib_kwargs().items())
            raise ValueError(
                f"TA-Lib {self.talib_function} rejects {given}: a value is out of its range (periods usually need >= 2)"
            )
        return self


def _field(name: str, default: Any) -> tuple[Any, Any]:
    if name == "matype":
        return Literal[0, 1, 2, 3, 4, 5, 6, 7, 8], Field(default, description=f"Moving average type: {MA_TYPES}")
    if isinstance(default, bool):
        return bool, Field(default)
    if isinstance(default, int):
        return int, Field(default, ge=0, le=100_000, description=f"TA-Lib {name} (integer)")
    return float, Field(float(default), allow_inf_nan=False, description=f"TA-Lib {name}")


def params_model(function: str, entry: dict[str, Any]) -> type[TalibParams]:
    fields: dict[str, Any] = {}
    for name, column in entry["inputs"].items():
        if isinstance(column, str):
            fields[name] = (PriceColumn, Field(column, description=f"Candle column for TA-Lib's {name!r} input"))
    for name, default in entry["parameters"].items():
        fields[name] = _field(name, default)
    model = create_model(f"Talib{function.title().replace('_', '')}Params", __base__=TalibParams, **fields)
    model.talib_function = function
    model.talib_inputs = entry["inputs"]
    model.talib_parameters = tuple(entry["parameters"])
    model.talib_outputs = tuple(o.lower() for o in entry["outputs"])
    return model


class _LazyParams:
    """``PARAMS.RSI`` builds, once, the params model of TA-Lib's RSI: listing 200 components builds none."""

    def __getattr__(self, function: str) -> type[TalibParams]:
        from tradecore_talib.catalogue import load_catalogue

        entry = load_catalogue().get(function) if not function.startswith("_") else None
        if entry is None:
            raise AttributeError(function)
        model = params_model(function, entry)
        setattr(self, function, model)
        return model


PARAMS = _LazyParams()


def specs_for(catalogue: dict[str, dict[str, Any]]) -> Iterator[IndicatorSpec]:
    for function, entry in catalogue.items():
        if function in UNSUPPORTED:
            continue
        if not all(c in PRICE_COLUMNS for v in entry["inputs"].values() for c in ([v] if isinstance(v, str) else v)):
            continue
        yield IndicatorSpec(
            name=component_name(function),
            description=f"TA-Lib {function}: {entry['display_name']} ({entry['group']})",
            params=f"tradecore_talib.models:PARAMS.{function}",  # built on first use, not to list
            factory="tradecore_talib.indicator:TalibIndicator",
            meta={
                "columns": [o.lower() for o in entry["outputs"]],
                "group": entry["group"],
                "talib_function": function,
            },
        )
