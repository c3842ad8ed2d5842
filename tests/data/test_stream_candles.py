"""Live candles of one symbol (tradecore.data.stream_candles): the trades kernel's candles, each bucket once,
late and repeated trades handled, trades before the connection's floor left to the catch-up."""

from __future__ import annotations

import numpy as np

from tradecore.data.stream_candles import PairCandles
from tradecore.data.trades import candles_from_arrays

STEP = 60_000


def _tape(n: int = 400, seed: int = 3) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    time_ms = np.sort(rng.integers(0, 10 * STEP, n)).astype(np.int64)
    return np.arange(n, dtype=np.int64) + 1000, time_ms, rng.uniform(99, 101, n), rng.uniform(0.01, 1, n)


def _feed(pair: PairCandles, tape, batches: list[np.ndarray]) -> tuple[dict[int, tuple], list[int]]:
    """Candles as the lake would hold them (later writes replace earlier ones), and the repairs asked for."""
    stored: dict[int, tuple] = {}
    repairs: list[int] = []
    for rows in batches:
        out = pair.add(*(column[rows] for column in tape))
        for frame in (out.candles, out.rewrites):
            if frame is not None:
                stored.update({row[0]: row[1:] for row in frame.iter_rows()})
        repairs += out.repairs
    return stored, repairs


def _expected(tape, below: int) -> dict[int, tuple]:
    seq, t, p, v = tape
    keep = t < below
    frame = candles_from_arrays(t[keep], p[keep], v[keep], STEP)
    return {row[0]: row[1:] for row in frame.iter_rows()}


def test_in_order_batches_give_the_kernels_candles_for_every_closed_bucket():
    tape = _tape()
    pair = PairCandles(STEP)
    pair.restart(0)
    stored, repairs = _feed(pair, tape, np.array_split(np.arange(tape[0].size), 57))
    last_bucket = int(tape[1][-1]) // STEP * STEP
    assert stored == _expected(tape, last_bucket) and not repairs
    closing = pair.close_until(last_bucket + STEP)  # the clock closes the last one; the open one never leaks
    assert closing.candles.height == 1 and closing.window == (last_bucket, last_bucket + STEP)


def test_repeated_and_swapped_batches_change_nothing():
    tape = _tape()
    batches = np.array_split(np.arange(tape[0].size), 80)
    messy = []
    for i in range(0, len(batches) - 1, 2):
        messy += [batches[i + 1], batches[i], batches[i]]  # swapped neighbours, one sent twice
    pair = PairCandles(STEP)
    pair.restart(0)
    stored, repairs = _feed(pair, tape, messy)
    last_bucket = int(tape[1][messy[-1]].max()) // STEP * STEP
    assert stored == _expected(tape, last_bucket)
    assert not repairs


def test_trades_before_the_floor_are_left_to_the_catch_up_and_too_late_ones_become_repairs():
    tape = _tape()
    pair = PairCandles(STEP, retain=1)
    pair.restart(3 * STEP)
    everything = np.arange(tape[0].size)
    stored, _ = _feed(pair, tape, [everything[tape[1] < 8 * STEP]])
    assert min(stored) == 3 * STEP  # nothing before the floor
    early = np.flatnonzero((tape[1] >= 4 * STEP) & (tape[1] < 5 * STEP))[:1]
    fresh = tape[0].copy()
    fresh[early] = 10**9  # a trade id never seen: a real late trade, not a repeat
    out = pair.add(fresh[early], tape[1][early], tape[2][early], tape[3][early])
    assert out.repairs == [4 * STEP] and out.candles is None
    assert pair.resume_ms() == 6 * STEP  # the retained bucket (6m) and the open one (7m) are not final yet


def test_memory_holds_only_open_and_retained_buckets():
    tape = _tape(4000)
    pair = PairCandles(STEP, retain=2)
    pair.restart(0)
    _feed(pair, tape, np.array_split(np.arange(tape[0].size), 400))
    assert len(pair.open) == 1 and len(pair.closed) <= 2
