"""Feature labels: the prefix each manifest indicator gives its columns (``rsi_14``, ``macd_12_26_9.signal``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import BaseModel

    from tradecore.interfaces import Indicator
    from tradecore.manifest import ResolvedComponent


def indicator_label(name: str, params: BaseModel | dict[str, Any] | None = None) -> str:
    """``name`` followed by its integer params in declaration order, then a non-close ``source``.

    ``rsi {"period": 14}`` -> ``rsi_14``; ``macd`` with defaults -> ``macd_12_26_9``;
    ``ema {"period": 50, "source": "volume"}`` -> ``ema_50_volume``; ``obv`` -> ``obv``.
    """
    values = params.model_dump() if hasattr(params, "model_dump") else dict(params or {})
    parts = [name]
    parts += [str(v) for v in values.values() if isinstance(v, int) and not isinstance(v, bool)]
    source = values.get("source")
    if isinstance(source, str) and source != "close":
        parts.append(source)
    return "_".join(parts)


def unique_labels(labels: Sequence[str]) -> list[str]:
    """Suffix repeats with ``#2``, ``#3``... so two identical indicators keep distinct names."""
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label}#{seen[label]}")
    return out


def feature_names(label: str, columns: Sequence[str]) -> list[str]:
    """A single-column indicator is named by its label; several columns get ``label.column``."""
    if len(columns) == 1:
        return [label]
    return [f"{label}.{column}" for column in columns]


def labelled_indicators(resolved: Sequence[ResolvedComponent]) -> list[tuple[str, Indicator]]:
    """Build a resolved manifest's indicators, each with its label, ready for ``build_features``."""
    labels = unique_labels([indicator_label(c.spec.name, c.params) for c in resolved])
    return [(label, component.build()) for label, component in zip(labels, resolved)]
