"""The paper engine: on each closed candle, settle the pending order, observe, ask the policy, submit the next order.

It computes what :func:`tradecore.runs.evaluate.rollout` computes, with the env's own code at every step, so a
replay of stored candles gives the same observations, actions, fills and equity bit for bit:

- features: the run's indicators and causal normalisation (:func:`tradecore.features.pipeline.build_features`)
  over the session's candles from its anchor, packed by :meth:`MarketData.from_arrays` as the env packs them;
  the indicators are causal, so a row computed on candles up to ``t`` equals the row computed on more;
- the observation: :func:`tradecore.env.kernels.observe` on the account row the broker holds;
- the action: decoded by :func:`tradecore.env.kernels.decode_action`;
- the fills: the broker (:class:`~tradecore.paper.broker.PaperBroker`: :func:`execute_bar`).

Bars count from the session's anchor, the first candle of its feature history; the first decision is at bar
``lookback + window - 1`` (the first bar with a full observation window), as in an evaluation on those candles.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tradecore.config.env import EnvConfig
from tradecore.env import kernels as K
from tradecore.env.actions import ActionLayout, head_masks
from tradecore.env.execution import ACCOUNT_SLOTS
from tradecore.env.market import MarketData
from tradecore.errors import TradecoreError
from tradecore.features.pipeline import build_features
from tradecore.interfaces import Candles, Indicator, Policy
from tradecore.paper.broker import Bar, Broker, Order, Settlement


@dataclass(frozen=True)
class Decision:
    """What the policy chose at the close of ``bar``: its action row, the order, and the observation's hash."""

    bar: int
    action: list[float] | list[int]
    order: Order
    observation_hash: str


class PaperEngine:
    """Decides and executes one account over a growing series of closed candles (see the module docstring).

    ``packed`` is the env's packed config (``Engine.config``) of the run's env: window, feature count, initial
    equity and the action tables; ``layout`` its action layout."""

    def __init__(
        self,
        policy: Policy,
        broker: Broker,
        indicators: Sequence[tuple[str, Indicator]],
        config: EnvConfig,
        layout: ActionLayout,
        packed: np.ndarray,
    ) -> None:
        self.policy = policy
        self.broker = broker
        self.indicators = list(indicators)
        self.config = config
        self.layout = layout
        self.packed = packed
        self.masked = not layout.continuous and policy.wants_masks
        self.window = config.window
        self._state = np.zeros((1, K.TERM_STATE))
        self._rows = np.zeros(1, dtype=np.int64)
        nf = int(packed[K.C_FEATURES])
        if config.observation == "flat":
            self._market = self._account = np.empty((1, 1, self.window * nf + K.ACCOUNT_WIDTH), dtype=np.float32)
        else:
            self._market = np.empty((1, 1, self.window, nf), dtype=np.float32)
            self._account = np.empty((1, 1, K.ACCOUNT_WIDTH), dtype=np.float32)
        policy.reset(1)

    def settle(self, bar: Bar) -> Settlement:
        """Execute the pending order over the closed ``bar``."""
        return self.broker.settle(bar)

    def decide(self, candles: Candles, bar: int) -> Decision:
        """Observe at ``bar`` (the last of ``candles``, which start at the anchor), act, and submit the order."""
        market = self.market(candles)
        obs = self.observe(market, bar)
        digest = observation_hash(obs)
        masks = head_masks(self.layout, self._state) if self.masked else None
        actions = self.policy.act(obs, masks=masks, bars=np.array([bar], dtype=np.int64))
        row, encoded = self._encode(actions)
        bad, target, stop_index, take_index, stop_dist, take_dist = K.decode_action(self.packed, encoded, 0)
        if bad >= 0:
            head = ("direction", "size", "stop_loss", "take_profit")[bad]
            raise TradecoreError(f"the policy's action {row} has an index outside action head {head!r}")
        order = Order(
            bar,
            int(market.time[bar]),
            float(target),
            float(stop_dist),
            float(take_dist),
            float(stop_index),
            float(take_index),
        )
        self.broker.submit(order)
        return Decision(bar, row, order, digest)

    def market(self, candles: Candles) -> MarketData:
        """The run's features on ``candles``, packed as the env packs them (warm-up rows zero)."""
        c = self.config
        fs = build_features(candles, self.indicators, normalize=c.normalize, normalize_window=c.normalize_window)
        return MarketData.from_arrays(candles, fs.values, fs.names, first=fs.start)

    def observe(self, market: MarketData, bar: int) -> Any:
        """The observation at ``bar`` with the broker's account, batched as a one-env vector env gives it."""
        if bar < self.window - 1 or bar >= len(market):
            raise TradecoreError(f"bar {bar} has no full observation window in {len(market)} candles")
        self._state[0, :ACCOUNT_SLOTS] = self.broker.account()
        self._state[0, K.T] = bar
        features = market.features.reshape(-1)
        K.observe(market.prices, features, self.packed, self._state, self._rows, self._market, self._account, 0)
        if self.config.observation == "flat":
            return self._market[0]
        return {"market": self._market[0], "account": self._account[0]}

    def _encode(self, actions: Any) -> tuple[list[Any], np.ndarray]:
        """The policy's one-env action row, and the engine's ``(heads, 1)`` / ``(dims, 1)`` layout of it."""
        if self.layout.continuous:
            values = np.asarray(actions, dtype=np.float64).reshape(1, -1)
            return [float(v) for v in np.asarray(actions).reshape(-1)], values.T
        values = np.asarray(actions, dtype=np.int64).reshape(1, len(self.layout.heads))
        return [int(v) for v in values[0]], values.T


def observation_hash(obs: Any) -> str:
    """blake2b (16 bytes) of the float32 observation: the flat vector, or the market then the account block."""
    digest = hashlib.blake2b(digest_size=16)
    for part in (obs["market"], obs["account"]) if isinstance(obs, dict) else (obs,):
        digest.update(np.ascontiguousarray(part, dtype=np.float32).tobytes())
    return digest.hexdigest()
