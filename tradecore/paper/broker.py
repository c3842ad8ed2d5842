"""The order path of paper trading: orders in, fills and positions out, behind one interface.

The engine only ever talks to a :class:`Broker`: it submits one :class:`Order` per decision (a target
exposure with its stop-loss and take-profit distances, to execute at the next bar's open) and, when that
bar has closed, asks the broker to :meth:`~Broker.settle` it, which returns the :class:`Fill` s and the
:class:`Position` after the bar. :class:`PaperBroker` settles with the environment's own execution model,
:func:`tradecore.env.execution.execute_bar`, on one account row, so a paper session trades exactly as the
env does. A live broker (ccxt) implements the same four methods: ``submit`` sends the order at the open,
``settle`` reads the exchange's fills for the bar and reconciles the account row; the engine is unchanged.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from tradecore.env.execution import (
    ACCOUNT_SLOTS,
    CASH,
    DRAWDOWN,
    ENTRY,
    EQUITY,
    QTY,
    STOP,
    STOP_DIST,
    STOP_INDEX,
    TAKE,
    TAKE_DIST,
    TAKE_INDEX,
    TARGET,
    execute_bar,
    fill_order,
    open_account,
    order_units,
    stop_or_take,
)
from tradecore.errors import TradecoreError


@dataclass(frozen=True)
class Bar:
    """One closed candle: ``index`` counts bars from the session's anchor; ``time`` is its open (epoch ms)."""

    index: int
    time: int
    open: float
    high: float
    low: float
    close: float


@dataclass(frozen=True)
class Order:
    """A target-exposure order decided at the close of bar ``bar``, to execute at the next bar's open.

    ``target`` is the signed exposure as a fraction of equity (size x leverage; 0 = flat). The stop-loss and
    take-profit distances (fractions of the fill price; 0 = none) apply when the order opens a position from
    flat and stay locked while it is open; ``stop_index``/``take_index`` name their action buckets (-1 for
    continuous actions)."""

    bar: int
    time: int
    target: float
    stop_loss: float
    take_profit: float
    stop_index: float
    take_index: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Fill:
    """Units bought (> 0) or sold (< 0) during bar ``bar``: for ``order`` (the decision bar of the order it fills)
    at the bar's open, or by the ``stop_loss``/``take_profit`` exit (``order`` None) at its level. ``price`` is
    the reference price, ``fill_price`` includes slippage; costs are in quote currency."""

    bar: int
    time: int
    reason: str
    order: int | None
    units: float
    price: float
    fill_price: float
    fee: float
    slippage: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Position:
    """The account after a bar, marked at its close: units held, cash, equity, the target exposure in force,
    the entry fill price and the stop/take levels (None: none), drawdown from the equity peak, and
    ``exposure``: position notional / equity at the close (the env's ``info["position"]``)."""

    units: float
    cash: float
    equity: float
    target: float
    entry: float | None
    stop: float | None
    take: float | None
    drawdown: float
    exposure: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Settlement:
    """What settling one bar did: its fills, the position after it, and the bar's total costs."""

    bar: Bar
    fills: tuple[Fill, ...]
    position: Position
    fee: float
    slippage: float
    equity_before: float


class Broker(ABC):
    """Where orders go. One decision -> :meth:`submit`; the next bar closed -> :meth:`settle`."""

    @abstractmethod
    def submit(self, order: Order) -> None:
        """Queue ``order`` for the next bar's open (it replaces an order not yet executed)."""

    @abstractmethod
    def settle(self, bar: Bar) -> Settlement:
        """Execute what is queued over the closed ``bar`` (open fill, stop/take exits) and mark at its close."""

    @abstractmethod
    def account(self) -> np.ndarray:
        """The account as float64 execution slots (:mod:`tradecore.env.execution`): what an observation reads."""

    @abstractmethod
    def snapshot(self) -> dict[str, Any]:
        """JSON-ready state that :meth:`restore` turns back into this broker exactly (floats round-trip)."""

    @abstractmethod
    def restore(self, snapshot: dict[str, Any]) -> None:
        """Continue from a :meth:`snapshot`."""


class PaperBroker(Broker):
    """Fills with the environment's execution model on one account: next-bar open, fees, slippage, stop-loss and
    take-profit against the bar's range (stop first when both are touched), the env's account rules."""

    def __init__(self, initial_equity: float, fee_bps: float, slippage_bps: float) -> None:
        # the same floats the env packs (tradecore.env.engine.pack_config)
        self.fee_rate = fee_bps * 1e-4
        self.slippage = slippage_bps * 1e-4
        self.acct = np.empty(ACCOUNT_SLOTS)
        open_account(self.acct, float(initial_equity))
        self.pending: Order | None = None

    def submit(self, order: Order) -> None:
        self.pending = order

    def settle(self, bar: Bar) -> Settlement:
        acct, order = self.acct, self.pending
        before = acct.copy()
        if order is None:  # nothing decided: hold the target in force (its stop/take still apply)
            target, stop_index, take_index = before[TARGET], before[STOP_INDEX], before[TAKE_INDEX]
            stop_dist, take_dist = before[STOP_DIST], before[TAKE_DIST]
        else:
            target, stop_index, take_index = order.target, order.stop_index, order.take_index
            stop_dist, take_dist = order.stop_loss, order.take_profit
        o, h, low, c = bar.open, bar.high, bar.low, bar.close
        costs = execute_bar(
            acct, o, h, low, c, target, stop_index, take_index, stop_dist, take_dist, self.slippage, self.fee_rate
        )
        self.pending = None
        equity_before, fee, slip, traded = costs[:4]
        stop_hit, take_hit = costs[8], costs[9]
        fills = self._fills(bar, order, before, target, stop_hit, take_hit)
        if (sum((f.fee for f in fills), 0.0), sum((f.slippage for f in fills), 0.0)) != (fee, slip):
            raise TradecoreError(f"paper broker: the fills of bar {bar.index} do not add up to the execution's costs")
        return Settlement(bar, fills, self.position(c), fee, slip, equity_before)

    def _fills(
        self, bar: Bar, order: Order | None, before: np.ndarray, target: float, stop_hit: bool, take_hit: bool
    ) -> tuple[Fill, ...]:
        """The fills :func:`execute_bar` made, itemised with its own pieces (units to target, exit level, costs)."""
        fills = []
        held = before[QTY]
        if target != before[TARGET]:
            desired = order_units(before, bar.open, target)
            units = desired - held
            if units != 0.0:
                fills.append(self._fill(bar, "order", order.bar if order else None, units, bar.open))
                held = desired
        if stop_hit or take_hit:
            level = stop_or_take(held, bar.open, bar.high, bar.low, self.acct[STOP], self.acct[TAKE])[0]
            fills.append(self._fill(bar, "stop_loss" if stop_hit else "take_profit", None, -held, level))
        return tuple(fills)

    def _fill(self, bar: Bar, reason: str, order: int | None, units: float, price: float) -> Fill:
        px, _, slip, fee = fill_order(price, units, self.slippage, self.fee_rate)
        return Fill(bar.index, bar.time, reason, order, float(units), float(price), float(px), float(fee), float(slip))

    def position(self, close: float) -> Position:
        """The account marked at ``close``."""
        a = self.acct
        held = a[QTY] != 0.0
        equity = a[EQUITY]
        return Position(
            units=float(a[QTY]),
            cash=float(a[CASH]),
            equity=float(equity),
            target=float(a[TARGET]),
            entry=float(a[ENTRY]) if held else None,
            stop=float(a[STOP]) if held and np.isfinite(a[STOP]) else None,
            take=float(a[TAKE]) if held and np.isfinite(a[TAKE]) else None,
            drawdown=float(a[DRAWDOWN]),
            exposure=float(a[QTY] * close / equity) if equity > 0.0 else 0.0,
        )

    def account(self) -> np.ndarray:
        return self.acct

    def snapshot(self) -> dict[str, Any]:
        # +-inf stop/take levels are not JSON: stored as strings
        slots = [float(v) if np.isfinite(v) else ("inf" if v > 0 else "-inf") for v in self.acct]
        return {"account": slots, "pending": self.pending.as_dict() if self.pending else None}

    def restore(self, snapshot: dict[str, Any]) -> None:
        values = snapshot["account"]
        if len(values) != ACCOUNT_SLOTS:
            raise TradecoreError(f"paper state: the account has {len(values)} slots, expected {ACCOUNT_SLOTS}")
        self.acct[:] = [float(v) for v in values]
        pending = snapshot.get("pending")
        self.pending = Order(**pending) if pending else None
