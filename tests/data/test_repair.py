"""``tradecore data repair`` on the synthetic source, and the verdict record behind ``data gaps``'s repair column."""

from __future__ import annotations

import json

import polars as pl
import pytest

from tradecore.data.hole_verdicts import EMPTY, UNFILLABLE, HoleVerdicts
from tradecore.data.lake import Lake
from tradecore.testing import run_cli

HOUR_MS = 3_600_000


def cli(root, *args: str, code: int = 0) -> str:
    result = run_cli(*args, "--lake", str(root))
    assert result.exit_code == code, result.output
    return result.output


def punch(lake: Lake, pair: str, timeframe: str, rows: list[tuple[int, int]]) -> None:
    """Delete the stored candles of each [first row, end row) index range."""
    frame = lake.read("synthetic", pair, timeframe)
    for a, b in rows:
        lo, hi = (int(frame["time"][i].timestamp() * 1000) for i in (a, b))
        lake.replace_window("synthetic", pair, timeframe, lo, hi, frame.head(0).drop("origin"), "synthetic")


@pytest.fixture
def clean_and_holed(tmp_path):
    """The same synthetic fetch twice; the second lake then loses three stretches of candles."""
    fetch = ("data", "fetch", "--source", "synthetic", "--pair", "SYN/USD", "--timeframe", "1h", "-q")
    for name in ("clean", "holed"):
        cli(tmp_path / name, *fetch, "--start", "2023-01-01", "--end", "2023-03-01", "--param", "seed=5")
    holed = Lake(tmp_path / "holed")
    punch(holed, "SYN/USD", "1h", [(3, 4), (200, 260), (1000, 1100)])
    return Lake(tmp_path / "clean"), holed


def test_repair_regenerates_the_holes_of_a_synthetic_series(clean_and_holed):
    clean, holed = clean_and_holed
    before = json.loads(cli(holed.root, "data", "gaps", "--json"))
    assert [(g["slots"], g["kind"], g["repair"]) for g in before["gaps"]] == [
        (1, "missing", "fillable"),
        (60, "missing", "fillable"),
        (100, "missing", "fillable"),
    ]
    assert before["gaps"][0]["reason"].startswith("regenerate: generated again from the params")
    assert (before["fillable_gaps"], before["fillable_slots"], before["unfillable_gaps"]) == (3, 161, 0)

    plan = json.loads(cli(holed.root, "data", "repair", "-p", "SYN/USD", "-t", "1h", "--dry-run", "--json"))
    assert [[s["method"] for s in hole["steps"]] for hole in plan] == [["synthetic"]] * 3
    assert holed.read("synthetic", "SYN/USD", "1h").height == clean.read("synthetic", "SYN/USD", "1h").height - 161

    done = json.loads(cli(holed.root, "data", "repair", "-p", "SYN/USD", "-t", "1h", "--json"))
    assert done["counts"] == {
        "holes": 3,
        "filled": 3,
        "no_trades": 0,
        "partly": 0,
        "unfillable": 0,
        "rows": 161,
        "empty_slots": 0,
    }
    assert done["gaps_after"]["gap_count"] == 0
    assert holed.read("synthetic", "SYN/USD", "1h").equals(clean.read("synthetic", "SYN/USD", "1h"))
    jobs = json.loads(cli(holed.root, "data", "jobs", "--json"))
    assert [(j["kind"], j["status"]) for j in jobs[:4]] == [("fetch", "done")] * 3 + [("repair", "done")]
    assert "3 holes: 3 filled (161 candles)" in jobs[3]["messages"][-1]


def test_the_repair_text_output_and_a_second_repair_finds_nothing(clean_and_holed):
    _, holed = clean_and_holed
    text = cli(holed.root, "data", "repair", "-p", "SYN/USD", "-t", "1h", "-q")
    assert "2023-01-09 08:00  2023-01-11 20:00  60     filled  60" in text
    assert "3 holes: 3 filled (161 candles), 0 no trades, 0 unfillable, 0 partly" in text
    assert "now: synthetic SYN/USD 1h: 1,416 candles, 0 gaps" in text
    assert "no missing holes: nothing to repair" in cli(holed.root, "data", "repair", "--dry-run")


def test_a_hole_no_fetch_generated_is_generated_from_its_own_range(tmp_path):
    """Two fetches with two never-fetched days between: the repair generates those days as a fetch of them
    would (there is no series they belong to)."""
    fetch = ("data", "fetch", "--source", "synthetic", "--pair", "SYN/USD", "--timeframe", "1h", "-q")
    for start, end in (("2023-01-01", "2023-01-03"), ("2023-01-05", "2023-01-07")):
        cli(tmp_path, *fetch, "--start", start, "--end", end)
    done = json.loads(cli(tmp_path, "data", "repair", "--json"))
    assert [(h["start"], h["slots"], h["result"]) for h in done["holes"]] == [("2023-01-03 00:00", 48, "filled")]
    assert Lake(tmp_path).read("synthetic", "SYN/USD", "1h").height == 144


def test_verdicts_answer_for_every_timeframe_and_merge_touching_spans(tmp_path):
    verdicts = HoleVerdicts(tmp_path)
    assert verdicts.load("kraken", "BTC/USD", "1m").empty_reason(0, 1) is None  # no database yet
    verdicts.record("kraken", "BTC/USD", "1m", [(0, HOUR_MS), (HOUR_MS, 2 * HOUR_MS)], EMPTY, "verified: a", 1)
    verdicts.record("kraken", "BTC/USD", "1m", [(5 * HOUR_MS, 6 * HOUR_MS)], UNFILLABLE, "too old", 1)
    hourly = verdicts.load("kraken", "BTC/USD", "1h")
    assert hourly.empty_reason(HOUR_MS // 2, 2 * HOUR_MS) == "verified: a"  # one span after merging
    assert hourly.empty_reason(HOUR_MS, 3 * HOUR_MS) is None
    assert hourly.unfillable_reason(5 * HOUR_MS, 6 * HOUR_MS) is None  # unfillable is per timeframe
    assert verdicts.load("kraken", "BTC/USD", "1m").unfillable_reason(5 * HOUR_MS, 6 * HOUR_MS) == "too old"
    assert verdicts.load("kraken", "ETH/USD", "1m").empty_reason(0, 1) is None


def test_gaps_json_keeps_its_fields_and_adds_the_repair_ones(clean_and_holed):
    _, holed = clean_and_holed
    gap = json.loads(cli(holed.root, "data", "gaps", "--json"))["gaps"][0]
    assert list(gap) == [
        "start_ms",
        "end_ms",
        "start",
        "end",
        "slots",
        "kind",
        "p_empty",
        "evidence",
        "fill",
        "repair",
        "reason",
    ]
    fillable = json.loads(cli(holed.root, "data", "gaps", "--kind", "fillable", "--json"))["gaps"]
    assert (
        len(fillable) == 3
        and json.loads(cli(holed.root, "data", "gaps", "--kind", "unfillable", "--json"))["gaps"] == []
    )


@pytest.mark.parametrize(
    ("code", "args", "message"),
    [
        (2, ("-t", "1x"), "invalid timeframe '1x'"),
        (2, ("-p", "../x"), "--pair"),
        (2, ("--from-file", "/no/such/XBTUSD_60.csv"), "does not exist"),
        (2, ("--param", "seed"), "use KEY=VALUE"),
        (2, ("--start", "2023-02-01", "--end", "2023-01-01"), "is not before end"),
        (1, ("-p", "BTC/USD", "-t", "1h"), "no stored series matches"),
        (1, ("--resume", "99"), "no job 99"),
        (1, ("--resume", "1"), "job 1 is a fetch job"),
    ],
)
def test_bad_input_is_one_line_with_the_right_exit_code(clean_and_holed, code, args, message):
    _, holed = clean_and_holed
    result = run_cli("data", "repair", *args, "--lake", str(holed.root))
    assert result.exit_code == code, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_a_dump_file_for_a_source_without_dumps_is_refused(clean_and_holed, tmp_path):
    _, holed = clean_and_holed
    dump = tmp_path / "XBTUSD_60.csv"
    dump.write_text("1672531200,1,1,1,1,1,1\n")
    result = run_cli("data", "repair", "--from-file", str(dump), "--lake", str(holed.root))
    assert result.exit_code == 2 and "source 'synthetic' takes no dump files" in result.output


def test_frames_keep_their_origin_for_the_quality_check():
    """A frame with ``origin`` between two rows of a complete-history write is judged on provenance."""
    from tradecore.data.exchange_facts import ExchangeFacts
    from tradecore.data.quality import candle_quality

    times = [i * HOUR_MS for i in range(48) if not 20 <= i < 30]
    frame = pl.DataFrame(
        {"time": times, **dict.fromkeys(("open", "high", "low", "close", "volume"), 1.0), "trades": [400] * 38}
    )
    facts = ExchangeFacts(complete_origins=("dump",))
    assert candle_quality(frame, "1h", facts=facts).missing_slots == 10  # by rate: 400 trades an hour
    with_origin = frame.with_columns(pl.lit("dump").alias("origin"))
    assert candle_quality(with_origin, "1h", facts=facts).no_trades_slots == 10
