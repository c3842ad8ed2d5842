"""A paper session: a run's policy on one lake series, candle by candle, with a ledger that survives restarts.

``RUN/paper/<session>/`` holds the ledger (:mod:`tradecore.paper.ledger`). The folder sits inside the run
folder because the session is evidence about that run's model: archiving or deleting the run takes its paper
sessions along, and ``tradecore runs list`` (which reads only top-level run folders) is not disturbed. The
session's name comes from what it trades (``live-kraken-BTC-USD-1h``, ``replay-...-<start>-<end>``), so running
the same command again continues the same ledger; ``--session`` names another.

The anchor is the first candle of the session's feature history: the first decision is
``lookback + window - 1`` candles after it (the features' warm-up, then one observation window), all read from
the lake before the first decision. A replay decides from the first candle at or after ``--start``; a live
session decides on the newest stored candle when it closed less than a timeframe ago, else on the next one.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tradecore.data.lake import Lake, pair_dir
from tradecore.env.execution import TARGET
from tradecore.env.experiment import build_experiment, feature_lookback, manifest_indicators, minimum_candles
from tradecore.errors import TradecoreError
from tradecore.interfaces import Candles
from tradecore.paper.broker import Bar, PaperBroker
from tradecore.paper.engine import PaperEngine
from tradecore.paper.feed import CandleBuffer, LakeFeed
from tradecore.paper.ledger import Ledger, LedgerError
from tradecore.runs import folder as rf

if TYPE_CHECKING:
    from tradecore.runtime import Runtime

PAPER_DIR = "paper"


@dataclass
class PaperRequest:
    """What ``tradecore paper`` was asked: the run, the lake series, live or a replay range, where the lake is."""

    run_dir: Path
    exchange: str
    pair: str
    timeframe: str
    lake_root: Path
    replay: bool = False
    start_ms: int | None = None
    end_ms: int | None = None
    session: str | None = None
    model: str = "best_model"
    poll_seconds: float = 1.0
    echo: Callable[[str], None] = print
    #: milliseconds since the epoch, now (a test may pin the clock a live start compares candles with)
    clock: Callable[[], int] = field(default=lambda: int(time.time() * 1000))


def run_series(run_dir: Path) -> dict[str, str]:
    """The exchange, pair and timeframe a run's policy was trained on (its data fingerprint)."""
    record = rf.read_json(Path(run_dir) / rf.RUN_FILE)
    source = (record.get("data") or {}).get("source") or {}
    timeframe = (record.get("data") or {}).get("timeframe") or source.get("timeframe")
    if not (source.get("exchange") and source.get("pair") and timeframe):
        raise rf.RunFolderError(f"run {Path(run_dir).name} records no data source (exchange, pair, timeframe)")
    return {"exchange": str(source["exchange"]), "pair": str(source["pair"]), "timeframe": str(timeframe)}


def session_name(request: PaperRequest) -> str:
    if request.session:
        return request.session
    series = f"{request.exchange}-{pair_dir(request.pair)}-{request.timeframe}"
    if not request.replay:
        return f"live-{series}"
    span = "-".join(_stamp(ms) for ms in (request.start_ms, request.end_ms))
    return f"replay-{series}-{span}"


def _stamp(ms: int | None) -> str:
    return "open" if ms is None else datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y%m%dT%H%M")


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat().replace("+00:00", "Z")


class StopFlag:
    """Ctrl-C, SIGTERM or SIGHUP ask the session to stop after the candle in hand; a second signal stops at once.
    Handlers exist only in the main thread (elsewhere the flag is set by hand)."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

    def __init__(self) -> None:
        self.requested = False
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopFlag:
        if threading.current_thread() is threading.main_thread():
            self._previous = {sig: signal.signal(sig, self._handle) for sig in self.SIGNALS}
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, previous in self._previous.items():
            signal.signal(sig, previous)
        self._previous = {}

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __call__(self) -> bool:
        return self.requested


class PaperSession:
    """Set up from a request (policy, features, broker, ledger, the candles since the anchor), then :meth:`follow`."""

    def __init__(self, runtime: Runtime, request: PaperRequest, *, trust_model: bool = False) -> None:
        from tradecore.paths import default_runs_root
        from tradecore.runs.evaluation_cli import check_trusted

        self.request = r = request
        self.run_dir = Path(r.run_dir)
        rf.require_files(self.run_dir, rf.INPUT_MANIFEST_FILE, "model")
        if not trust_model:
            check_trusted(self.run_dir, default_runs_root())
        self.resolved = runtime.resolve(rf.read_json(self.run_dir / rf.INPUT_MANIFEST_FILE))
        if self.resolved.trainer is None:
            raise TradecoreError(f"run {self.run_dir.name} has no trainer: there is no policy to paper-trade")
        self.config = self.resolved.manifest.env
        self.decide_from = feature_lookback(self.resolved) + self.config.window - 1
        self.feed = LakeFeed(Lake(r.lake_root), r.exchange, r.pair, r.timeframe)
        self.folder = self.run_dir / PAPER_DIR / session_name(r)
        self.ledger = Ledger(self.folder)
        try:
            self._set_up()
        except BaseException:
            self.ledger.close()
            raise

    def _set_up(self) -> None:
        r, ledger = self.request, self.ledger
        described = self._describe()
        if ledger.state is None:
            anchor, loading = self._anchor()
            ledger.start({**described, "anchor": anchor, "anchor_time": _iso(anchor)})
        session = ledger.session or {}
        mismatch = [k for k, v in described.items() if k != "created" and session.get(k) != v]
        if mismatch:
            raise LedgerError(
                f"paper ledger {self.folder} belongs to another session ({', '.join(mismatch)} differ); "
                "give another --session name"
            )
        self.anchor = int(session["anchor"])
        self.buffer = CandleBuffer(r.timeframe)
        self.buffer.extend(self.feed.read(self.anchor, r.end_ms))
        if ledger.state is not None:
            loading = self.feed.before(int(self.buffer.time[len(self.buffer) - 1]) + 1, minimum_candles(self.resolved))
        self.engine = self._engine(loading)
        state = ledger.state or {}
        self.consumed = int(state.get("candles", self.decide_from))
        self.status = str(state.get("status", "running"))
        if state:
            self.engine.broker.restore(state["broker"])
            self._check_history(state)
        self.latencies: list[float] = []

    def _describe(self) -> dict[str, Any]:
        r = self.request
        return {
            "run": self.run_dir.name,
            "mode": "replay" if r.replay else "live",
            "exchange": r.exchange,
            "pair": r.pair,
            "timeframe": r.timeframe,
            "start": _iso(r.start_ms) if r.start_ms is not None else None,
            "end": _iso(r.end_ms) if r.end_ms is not None else None,
            "model": r.model,
            "decide_from_bar": self.decide_from,
            "initial_equity": float(self.config.initial_equity),
            "fee_bps": float(self.config.fee_bps),
            "slippage_bps": float(self.config.slippage_bps),
        }

    def _anchor(self) -> tuple[int, Candles]:
        """The anchor's open time and ``minimum_candles`` stored candles to load the policy against."""
        r, feed = self.request, self.feed
        need = minimum_candles(self.resolved)
        series = f"{r.exchange} {r.pair} {r.timeframe}"
        if r.replay:
            first = feed.read(r.start_ms, r.end_ms)
            if not len(first):
                raise TradecoreError(f"--start/--end: the lake holds no {series} candles in that range")
            until, decide_now = int(first.time[0]) + 1, True
        else:
            last = feed.last_time()
            if last is None:
                raise TradecoreError(
                    f"the lake ({feed.lake.root}) holds no {series} candles; start `tradecore data stream` "
                    "(or `tradecore data fetch`) for this series first"
                )
            until, decide_now = last + 1, last + 2 * feed.step > r.clock()
        loading = feed.before(until, need)
        if len(loading) < need:
            raise TradecoreError(
                f"the lake holds {len(loading):,} {series} candles up to the first decision but this run needs "
                f"{need:,} (feature warm-up {feature_lookback(self.resolved):,}, window {self.config.window}, one "
                "more): fetch earlier candles"
            )
        return int(loading.time[len(loading) - need + (1 if decide_now else 2)]), loading

    def _engine(self, loading: Candles) -> PaperEngine:
        """The policy, checked against an env of the run's features on ``loading``, and the engine around it."""
        experiment = build_experiment(self.resolved, loading, whole=True)
        probe = experiment.make_env("all", random_start=False, episode_steps=None)
        trainer = self.resolved.trainer.build()
        policy = trainer.load_policy(self.run_dir, experiment, self.request.model)
        broker = PaperBroker(self.config.initial_equity, self.config.fee_bps, self.config.slippage_bps)
        indicators = manifest_indicators(self.resolved)
        return PaperEngine(policy, broker, indicators, self.config, probe.layout, probe.engine.config)

    def _check_history(self, state: dict[str, Any]) -> None:
        done = int(state["candles"])
        if done > self.decide_from and (
            len(self.buffer) < done or int(self.buffer.time[done - 1]) != int(state["last_time"])
        ):
            raise LedgerError(
                f"the lake's {self.request.pair} candles since {_iso(self.anchor)} changed after this session "
                f"processed them (a repaired hole?); its ledger no longer matches: start another --session"
            )

    # -- following candles ----------------------------------------------------------------------------------
    def follow(self, stop: Callable[[], bool], *, limit: int | None = None) -> str:
        """Process candles until the replay range ends, the account is ruined or stopped, or ``stop`` says so;
        a live session polls the lake for new candles in between. ``limit`` caps the candles processed."""
        r = self.request
        processed = 0
        while self.status == "running" and not stop():
            if limit is not None and processed >= limit:
                break
            if self.consumed < len(self.buffer):
                self.process(self.consumed, time.perf_counter())
                processed += 1
            elif r.replay:
                self.status = "done"
                self._commit_status()
            elif not self._poll():
                _sleep(r.poll_seconds, stop)
        return self.status

    def _poll(self) -> bool:
        """Read the candles stored since the last one in hand; True when there were any."""
        last = int(self.buffer.time[len(self.buffer) - 1])
        newest = self.feed.last_time()
        if newest is None or newest <= last:
            return False
        self.buffer.extend(self.feed.read(last + 1, None))
        return True

    def process(self, i: int, available: float) -> None:
        """Candle ``i``: settle the pending order over it, decide at its close, append and commit the ledger lines.
        ``available`` is when the candle was in hand (``time.perf_counter()``), for the decision latency."""
        b, ledger = self.buffer, self.ledger
        v = b.values
        bar = Bar(i, int(b.time[i]), float(v["open"][i]), float(v["high"][i]), float(v["low"][i]), float(v["close"][i]))
        broker = self.engine.broker
        fee = slippage = 0.0
        if i > self.decide_from:
            settled = self.engine.settle(bar)
            fee, slippage = settled.fee, settled.slippage
            for fill in settled.fills:
                ledger.append("fills", fill.as_dict())
        position = broker.position(bar.close)
        ruined = position.equity <= 0.0 or position.drawdown >= (self.config.max_drawdown or np.inf)
        record: dict[str, Any] = {
            "bar": i,
            "time": bar.time,
            "close": bar.close,
            "equity": position.equity,
            "cash": position.cash,
            "fee": fee,
            "slippage": slippage,
        }
        if ruined:  # the env's termination rule: ruin or the drawdown stop; no more decisions
            self.status = "terminated"
        else:
            in_force = float(broker.account()[TARGET])
            decision = self.engine.decide(b.upto(i + 1), i)
            if decision.order.target != in_force:
                ledger.append("orders", decision.order.as_dict())
            record.update(action=decision.action, target=decision.order.target, observation=decision.observation_hash)
        ledger.append("positions", {"bar": i, "time": bar.time, **position.as_dict()})
        ledger.append("equity", record)
        self.consumed = i + 1
        self._commit_status()
        self.latencies.append((time.perf_counter() - available) * 1000.0)
        if not self.request.replay:
            self._echo_bar(record)

    def _commit_status(self) -> None:
        last = int(self.buffer.time[self.consumed - 1]) if self.consumed else None
        self.ledger.commit(
            {
                "candles": self.consumed,
                "last_time": last,
                "status": self.status,
                "broker": self.engine.broker.snapshot(),
                "updated": datetime.now(UTC).isoformat(),
            }
        )

    def _echo_bar(self, record: dict[str, Any]) -> None:
        action = record.get("action", "-")
        self.request.echo(
            f"{_iso(record['time'])} close {record['close']:,.2f} action {action} "
            f"target {record.get('target', 0.0):+.2f} equity {record['equity']:,.2f} "
            f"({self.latencies[-1]:.1f} ms)"
        )

    def close(self, note: str) -> None:
        """Persist the final state, log ``note`` (why the session stopped) and release the ledger."""
        if self.latencies:
            p50, p99 = np.percentile(self.latencies, [50, 99])
            note += f"; {len(self.latencies)} candles, decision latency p50 {p50:.2f} ms, p99 {p99:.2f} ms"
        self.ledger.event(note)
        self.ledger.close()


def _sleep(seconds: float, stop: Callable[[], bool]) -> None:
    """Sleep up to ``seconds``, waking early when ``stop`` is set."""
    deadline = time.monotonic() + seconds
    while not stop() and time.monotonic() < deadline:
        time.sleep(min(0.05, seconds))
