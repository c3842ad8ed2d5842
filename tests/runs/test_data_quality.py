"""Data quality reaches the run: holes and coverage in run.json, a warning above the threshold, and a
manifest's data.quality / data.slice refusing candles below it with the numbers and the fix."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import numpy as np
import pytest
from pydantic import BaseModel, ConfigDict

from tradecore.errors import ManifestError, TradecoreError
from tradecore.interfaces import DataSource

HOUR = 3_600_000


class HoleyParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    bars: int = 1500
    #: [first, last) candle indices removed from a synthetic series, per hole
    holes: list[tuple[int, int]] = []
    #: trade counts: with them, a long empty stretch in a busy market is "missing", not "no trades"
    trades: bool = True


class HoleySource(DataSource):
    """Synthetic hourly candles with rows cut out: what a lake with holes hands a run."""

    def __init__(self, params: HoleyParams) -> None:
        self.params = params

    def load(self, ctx):
        import polars as pl

        from tradecore.data.synthetic import SyntheticParams, generate_candles

        frame = generate_candles(SyntheticParams(bars=self.params.bars, timeframe="1h", seed=11))
        keep = np.ones(frame.height, bool)
        for a, b in self.params.holes:
            keep[a:b] = False
        frame = frame.filter(pl.Series(keep))
        return frame if self.params.trades else frame.drop("trades")

    def describe(self) -> dict[str, Any]:
        return {"exchange": "holey", "pair": "SYN/USD", "timeframe": "1h", "start": "2020-01-01T00:00:00+00:00"}


class HoleyPlugin:
    from tradecore import hookimpl

    @hookimpl
    def tradecore_sources(self):
        from tradecore.specs import SourceSpec

        yield SourceSpec(
            name="holey", description="synthetic candles with holes", params=HoleyParams, factory=HoleySource
        )


@pytest.fixture
def holey_runtime(runtime):
    runtime.register(HoleyPlugin(), "holey")
    return runtime


def _baselines_only(tiny_manifest, **source_params):
    del tiny_manifest["trainer"]
    tiny_manifest["source"] = {"type": "holey", "params": source_params}
    return tiny_manifest


def test_quality_counts_holes_by_kind_and_the_largest_missing_one():
    from tradecore.data.quality import candle_quality
    from tradecore.data.synthetic import SyntheticParams, generate_candles

    frame = generate_candles(SyntheticParams(bars=1000, timeframe="1h", seed=11))
    holey = HoleySource(HoleyParams(bars=1000, holes=[(100, 148), (500, 502)])).load(None)
    q = candle_quality(holey, "1h")
    assert q.expected_slots == 1000 and q.present_slots == 950 and q.gap_count == 2 and q.gap_slots == 50
    assert q.missing_slots + q.no_trades_slots == 50 and q.largest_gap_slots == 48
    assert q.missing_gaps >= 1 and q.largest_missing_slots == 48  # 48 empty hours in a busy market: missing
    assert q.largest_missing_start == "2020-01-05T04:00:00Z"
    assert q.coverage == pytest.approx(0.95)
    # a requested range the candles do not reach counts as missing too (head and tail)
    start = int(datetime.fromisoformat("2019-12-31T22:00:00+00:00").timestamp() * 1000)
    wide = candle_quality(frame, "1h", start_ms=start, end_ms=start + 1005 * HOUR)
    assert wide.expected_slots == 1005 and wide.missing_slots == 5 and wide.first == "2019-12-31T22:00:00Z"
    assert candle_quality(frame, "1h").gap_count == 0


@pytest.mark.slow
def test_a_run_on_data_with_holes_records_them_and_warns(holey_runtime, tiny_manifest, tmp_path):
    manifest = _baselines_only(tiny_manifest, holes=[(700, 760)])
    lines: list[str] = []
    outcome = holey_runtime.run(manifest, runs_root=tmp_path, echo=lines.append)
    assert outcome.complete
    record = json.loads((outcome.run_dir / "run.json").read_text())
    quality = record["data"]["quality"]
    assert quality["expected_slots"] == 1500 and quality["present_slots"] == 1440
    assert quality["missing_slots"] == 60 and quality["largest_missing_slots"] == 60
    assert quality["coverage"] == pytest.approx(0.96) and quality["missing_fraction"] == pytest.approx(0.04)
    warning = [line for line in lines if "warning" in line]
    assert len(warning) == 1 and warning[0].startswith("[data] warning: 60 of 1,500 1h slots are missing (4.0%")
    assert "tradecore data fetch" in warning[0]
    data_line = next(line for line in lines if line.startswith("[data] 1,440"))
    assert "60 missing slots in 1" in data_line and "coverage 96.00%" in data_line


@pytest.mark.slow
def test_synthetic_data_records_no_holes_and_prints_no_warning(runtime, tiny_manifest, tmp_path):
    del tiny_manifest["trainer"]
    lines: list[str] = []
    outcome = runtime.run(tiny_manifest, runs_root=tmp_path, echo=lines.append)
    quality = json.loads((outcome.run_dir / "run.json").read_text())["data"]["quality"]
    assert quality["gap_count"] == 0 and quality["coverage"] == 1.0 and quality["expected_slots"] == 1500
    assert not any("warning" in line for line in lines)


def test_data_quality_refuses_candles_below_it_with_the_numbers(holey_runtime, tiny_manifest, tmp_path):
    manifest = _baselines_only(tiny_manifest, holes=[(700, 760)])
    manifest["data"] = {"quality": {"min_coverage": 0.99}}
    with pytest.raises(TradecoreError) as caught:
        holey_runtime.run(manifest, runs_root=tmp_path, echo=lambda _: None)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("data.quality: the candles cover 96.00% of the 1,500 1h slots from 2020-01-01")
    assert "below the 99.00% required" in message and "tradecore data fetch" in message
    assert "relax data.quality" in message
    manifest["data"] = {"quality": {"max_missing_run": "1d"}}
    with pytest.raises(TradecoreError, match=r"^data.quality: 60 1h candles are missing in a row from .* 1d allowed"):
        holey_runtime.run(manifest, runs_root=tmp_path, echo=lambda _: None)
    manifest["data"] = {"quality": {"min_coverage": 0.95, "max_missing_run": "3d"}, "warn_missing": 0.05}
    lines: list[str] = []
    assert holey_runtime.run(manifest, runs_root=tmp_path, echo=lines.append).complete
    assert not any("warning" in line for line in lines)


def test_data_section_is_validated_and_in_the_schema(runtime, tiny_manifest):
    from tradecore.schema import manifest_schema

    for bad, key in (
        ({"quality": {"min_coverage": 1.5}}, "data.quality.min_coverage"),
        ({"quality": {"max_missing_run": "6 hours"}}, "data.quality.max_missing_run"),
        ({"slice": {"file": "s.json", "index": -1}}, "data.slice.index"),
        ({"quality": {"min_cover": 0.9}}, "data.quality.min_cover"),
    ):
        tiny_manifest["data"] = bad
        with pytest.raises(ManifestError) as caught:
            runtime.resolve(tiny_manifest)
        assert caught.value.issues[0].path == key
    schema = manifest_schema(runtime.registry)
    assert "data" in schema["properties"]
    assert json.dumps(schema).count("max_missing_run") >= 1


def test_a_named_slice_is_what_the_run_uses(holey_runtime, tiny_manifest, tmp_path, monkeypatch):
    from tradecore.data.columns import frame_columns
    from tradecore.data.slices import SliceRules, slices_manifest

    monkeypatch.chdir(tmp_path)
    manifest = _baselines_only(tiny_manifest, bars=3000, holes=[(1200, 1300)])
    frame = HoleySource(HoleyParams(bars=3000, holes=[(1200, 1300)])).load(None)
    doc = slices_manifest(frame_columns(frame), "holey", "SYN/USD", "1h", SliceRules(min_bars=1000))
    assert len(doc["slices"]) == 2
    (tmp_path / "slices.json").write_text(json.dumps(doc))
    manifest["data"] = {"slice": {"file": "slices.json", "index": 1}}
    outcome = holey_runtime.run(manifest, runs_root=tmp_path / "runs", echo=lambda _: None)
    data = json.loads((outcome.run_dir / "run.json").read_text())["data"]
    assert data["rows"] == 1700 and data["first"] == "2020-02-24T04:00:00Z"  # slice 1: after the hole
    assert data["quality"]["gap_count"] == 0 and data["quality"]["slice"]["index"] == 1

    manifest["data"] = {"slice": {"file": "slices.json", "index": 2}}
    with pytest.raises(TradecoreError, match=r"^data.slice.index: 2, but slices.json holds 2 slice\(s\)"):
        holey_runtime.run(manifest, runs_root=tmp_path / "runs", echo=lambda _: None)
    manifest["data"] = {"slice": {"file": "nope.json"}}
    with pytest.raises(TradecoreError, match=r"^data.slice.file: nope.json not found; write it with `tradecore data"):
        holey_runtime.run(manifest, runs_root=tmp_path / "runs", echo=lambda _: None)
    # the lake changed since the slices were cut: a new hole inside slice 1 is refused
    manifest["source"]["params"]["holes"] = [(1200, 1300), (2000, 2100)]
    manifest["data"] = {"slice": {"file": "slices.json", "index": 1}}
    with pytest.raises(TradecoreError, match=r"^data.slice: .*cut the slices again with `tradecore data slices`"):
        holey_runtime.run(manifest, runs_root=tmp_path / "runs", echo=lambda _: None)


def test_validate_fails_on_a_slices_file_the_run_could_not_read(tmp_path):
    import subprocess
    import sys

    manifest = tmp_path / "m.json"
    manifest.write_text(json.dumps({"version": 1, "source": {"type": "synthetic"}, "data": {"slice": {"file": "x"}}}))
    out = subprocess.run(
        [sys.executable, "-m", "tradecore", "validate", str(manifest)], capture_output=True, text=True, cwd=tmp_path
    )
    assert out.returncode == 1 and out.stderr.startswith("error: data.slice.file: x not found")
