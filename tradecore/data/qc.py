"""Quality checks on candles: OHLC consistency, duplicates, off-grid and non-monotonic times, outlier returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tradecore.data.lake import iso_ms
from tradecore.timeframes import timeframe_ms

if TYPE_CHECKING:
    import polars as pl

#: a log return this many robust standard deviations (1.4826 * MAD) from the median is an outlier ...
OUTLIER_SIGMAS = 12.0
#: ... and only when it is also at least this large in absolute terms (5 %)
OUTLIER_MIN_ABS = 0.05
EXAMPLES = 5


@dataclass
class Check:
    name: str
    description: str
    count: int
    examples: list[dict[str, Any]] = field(default_factory=list)
    severity: str = "error"  # error | warning

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "count": self.count,
            "severity": self.severity,
            "ok": self.count == 0,
            "examples": self.examples,
        }


@dataclass
class QCReport:
    label: str
    timeframe: str
    rows: int
    checks: list[Check]

    @property
    def ok(self) -> bool:
        return all(c.count == 0 for c in self.checks if c.severity == "error")

    def as_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "timeframe": self.timeframe,
            "rows": self.rows,
            "ok": self.ok,
            "checks": [c.as_dict() for c in self.checks],
        }

    def render(self) -> str:
        lines = [f"{self.label} ({self.timeframe}, {self.rows:,} candles): {'OK' if self.ok else 'PROBLEMS FOUND'}"]
        for c in self.checks:
            mark = "ok  " if c.count == 0 else ("FAIL" if c.severity == "error" else "warn")
            lines.append(f"  {mark} {c.name:<15} {c.count:>8,}  {c.description}")
            for ex in c.examples:
                lines.append("         " + ", ".join(f"{k}={v}" for k, v in ex.items()))
        return "\n".join(lines)


def _examples(frame: pl.DataFrame, mask: pl.Expr, columns: list[str]) -> tuple[int, list[dict[str, Any]]]:
    import polars as pl

    hits = frame.with_row_index("row").filter(mask)
    out = []
    for rec in hits.head(EXAMPLES).select(["row", *columns]).iter_rows(named=True):
        rec = {k: (iso_ms(v) if k == "_ms" else v) for k, v in rec.items()}
        if "_ms" in rec:
            rec["time"] = rec.pop("_ms")
        rec["row"] = int(rec["row"]) + 1
        out.append(rec)
    del pl
    return hits.height, out


def check_candles(frame: pl.DataFrame, timeframe: str, label: str = "candles") -> QCReport:
    """Run every check on ``frame`` in its stored order (``time`` as Datetime or epoch ms)."""
    import polars as pl

    step = timeframe_ms(timeframe)
    ms = pl.col("time").dt.epoch("ms") if frame.schema["time"] != pl.Int64 else pl.col("time")
    f = frame.with_columns(ms.alias("_ms"))
    prices = ["open", "high", "low", "close"]
    checks: list[Check] = []

    bad_values = pl.any_horizontal([pl.col(c).is_null() | pl.col(c).is_nan() for c in [*prices, "volume"]])
    n, ex = _examples(f, bad_values, ["_ms", *prices, "volume"])
    checks.append(Check("missing_values", "null or NaN price/volume", n, ex))

    nonpos = pl.any_horizontal([pl.col(c) <= 0 for c in prices])
    n, ex = _examples(f, nonpos, ["_ms", *prices])
    checks.append(Check("non_positive", "price <= 0", n, ex))

    ohlc = (
        (pl.col("low") > pl.min_horizontal("open", "close"))
        | (pl.col("high") < pl.max_horizontal("open", "close"))
        | (pl.col("low") > pl.col("high"))
    )
    n, ex = _examples(f, ohlc, ["_ms", *prices])
    checks.append(Check("ohlc", "low <= open, close <= high violated", n, ex))

    n, ex = _examples(f, pl.col("volume") < 0, ["_ms", "volume"])
    checks.append(Check("volume", "negative volume", n, ex))

    n, ex = _examples(f, pl.col("_ms").is_duplicated(), ["_ms"])
    checks.append(Check("duplicates", "several candles share an open time", n, ex))

    n, ex = _examples(f, pl.col("_ms") % step != 0, ["_ms"])
    checks.append(Check("off_grid", f"open time not a multiple of {timeframe}", n, ex))

    n, ex = _examples(f, pl.col("_ms").diff() < 0, ["_ms"])
    checks.append(Check("non_monotonic", "open time goes backwards", n, ex))

    ordered = f.sort("_ms") if n else f
    ret = ordered.select(pl.col("_ms"), (pl.col("close").log() - pl.col("close").log().shift(1)).alias("ret"))
    med = ret["ret"].median()
    mad = (ret["ret"] - (med or 0.0)).abs().median()
    if med is not None and mad is not None and mad > 0:
        sigma = 1.4826 * mad
        out_mask = ((pl.col("ret") - med).abs() > OUTLIER_SIGMAS * sigma) & (pl.col("ret").abs() >= OUTLIER_MIN_ABS)
        n, ex = _examples(ret, out_mask, ["_ms", "ret"])
        desc = (
            f"|log return| > {OUTLIER_SIGMAS:g} robust sigmas ({OUTLIER_SIGMAS * sigma:.2%}) "
            f"and >= {OUTLIER_MIN_ABS:.0%}"
        )
    else:
        n, ex, desc = 0, [], "log-return outliers (too little variation to judge)"
    checks.append(Check("outlier_returns", desc, n, ex, severity="warning"))
    return QCReport(label, timeframe, frame.height, checks)
