"""The portfolio env engine: ``num_envs`` portfolio episodes over one split, stepped together by one kernel call.

:class:`~tradecore.env.portfolio.PortfolioEnv` is an engine of one env and
:class:`~tradecore.env.portfolio_vector.BatchedPortfolioEnv` an engine of many, so both step with
:func:`tradecore.env.portfolio_kernels.step_portfolios`, bit for bit. Results go into rows of preallocated
blocks, each row handed out once, as in :class:`tradecore.env.engine.Engine`; a used-up block is written
again once nothing outside holds it (:class:`tradecore.env.blocks.BlockRing`): an observation row is
``assets * window * features`` floats, 5 MB a step at 256 envs of 10 x 64 x 8, and a caller that drops or
copies each step's results then steps on one block that stays in cache instead of a new one each step.

The kernel sees one signature whatever the options (float64 actions, 3-d observation blocks), so it
compiles once: an int64 bucket index is exact in a float64.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tradecore.config.env import PortfolioEnvConfig
from tradecore.env import kernels as K
from tradecore.env import portfolio_kernels as P
from tradecore.env import rewards as R
from tradecore.env.blocks import BlockRing
from tradecore.env.engine import BLOCK_BYTES, RewardTerms, TermFactory, builtin_kind
from tradecore.env.episodes import EpisodeBounds
from tradecore.env.portfolio_execution import open_portfolio
from tradecore.errors import TradecoreError
from tradecore.interfaces import RewardTerm


@dataclass(frozen=True)
class PortfolioMarket:
    """Prices, no-trade marks and float32 features of every asset on one grid (warm-up rows: zero features)."""

    symbols: tuple[str, ...]
    time: np.ndarray  # int64 (n,) epoch ms
    prices: np.ndarray  # float64 (assets, n, 4): open, high, low, close (best a bar_major() view)
    traded: np.ndarray  # bool (assets, n): False where the asset had no candle (carried close, no fills)
    features: np.ndarray  # float32 (assets, n, features), C-contiguous
    feature_names: tuple[str, ...]  # one asset's features
    timeframe: str = "1h"

    def __len__(self) -> int:
        return len(self.time)

    @property
    def assets(self) -> int:
        return len(self.symbols)

    @property
    def qualified_names(self) -> list[str]:
        """``asset:feature`` for every asset, asset-major (the observation's order)."""
        return [f"{s}:{n}" for s in self.symbols for n in self.feature_names]


def bar_major(values: np.ndarray) -> np.ndarray:
    """``values`` (``(assets, n, ...)``) as a view of an array laid out bar by bar: a step reads one bar of every
    asset, which then lies in a few adjacent cache lines rather than one line per asset (a batch of envs at
    scattered bars stepped a quarter faster). No copy when ``values`` is such a view already."""
    return np.swapaxes(np.ascontiguousarray(np.swapaxes(values, 0, 1)), 0, 1)


def portfolio_kind(term: RewardTerm) -> int:
    """The kernel's code for ``term``: the single env's built-ins plus the concentration penalty."""
    if type(term) is R.ConcentrationPenalty:
        return P.R_CONCENTRATION
    return builtin_kind(term)


#: what the engine's block attributes hold while it hands its block back to the ring
_NO_BLOCK = (None,) * 8


class PortfolioEngine:
    """Accounts, episodes and reward terms of ``num_envs`` portfolio envs over the bars of ``split``."""

    def __init__(
        self,
        market: PortfolioMarket,
        config: PortfolioEnvConfig,
        split: range,
        terms: Sequence[tuple[str, float, TermFactory]],
        num_envs: int,
        *,
        episode_steps: int | None,
        split_name: str = "data",
    ) -> None:
        if num_envs < 1:
            raise TradecoreError(f"num_envs must be at least 1, got {num_envs}")
        self.num_envs = n = int(num_envs)
        self.assets = a = market.assets
        self.bounds = EpisodeBounds.of(len(split), config.window, episode_steps, split_name)
        self.window = config.window
        self.n_features = market.features.shape[2]
        self.initial_equity = float(config.initial_equity)
        self.split = split
        self.prices = bar_major(market.prices)  # the kernel's arrays are always these views: one signature
        self.traded = bar_major(market.traded)
        self._features_flat = market.features.reshape(a, -1)
        self.terms = RewardTerms(terms, n, kind_of=portfolio_kind)
        self.q0 = K.TERM_STATE + 2 * len(self.terms)
        self.config = pack_portfolio_config(config, market.symbols, self.bounds, split.start, self.n_features, self)
        self.mode = int(self.config[P.P_MODE])
        self.state = np.zeros((n, self.q0 + 2 * a))
        self.flat = config.observation == "flat"
        self._fresh = np.zeros(self.state.shape[1])
        open_portfolio(self._fresh, self.q0, a, self.initial_equity)
        #: the kernel's actions, ``(dims, num_envs)`` float64: callers write into it, then :meth:`step`
        self.actions = np.zeros((action_dims(config, a), n))
        self._rows = max(1, BLOCK_BYTES // (n * self.observation_width * 4))
        self._ring = BlockRing(self._new_block)
        self._block = self._ring.take()
        self._use(self._block)

    @property
    def account_width(self) -> int:
        return self.assets + P.ACCOUNT_EXTRA

    @property
    def observation_width(self) -> int:
        """Floats in one env's flat observation: every asset's window, then the account features."""
        return self.assets * self.window * self.n_features + self.account_width

    def _new_block(self) -> tuple[np.ndarray, ...]:
        """``out, flags, bars, weights, market, account`` of ``_rows`` rows, then the kernel's 3-d views of the
        observation blocks (flat: ``market`` and ``account`` are one array)."""
        rows, n, a = self._rows, self.num_envs, self.assets
        out = np.empty((rows, K.OUT_FIELDS + len(self.terms), n))
        flags = np.empty((rows, P.FLAG_FIELDS, n), dtype=bool)
        bars = np.empty((rows, n), dtype=np.int64)
        weights = np.empty((rows, n, a))
        if self.flat:
            market = account = np.empty((rows, n, self.observation_width), dtype=np.float32)
            return out, flags, bars, weights, market, account, market, account
        market = np.empty((rows, n, a, self.window, self.n_features), dtype=np.float32)
        account = np.empty((rows, n, self.account_width), dtype=np.float32)
        return out, flags, bars, weights, market, account, market.reshape(rows, n, -1), account

    def _use(self, block: tuple[np.ndarray, ...]) -> None:
        self.out, self.flags, self.bars, self.weights, self.market, self.account, self._market, self._account = block
        self._row = -1

    def take_row(self) -> int:
        """A row of the result blocks not handed out since nobody outside held them."""
        row = self._row + 1
        if row == self._rows:
            row = self._next_block()
        self._row = row
        return row

    def _next_block(self) -> int:
        """The used-up block goes back to the ring (itself again when nobody holds it: one block stays warm in
        cache); the next one is a free spare or new. Returns row 0."""
        self._ring.retire(self._block)
        self._use(_NO_BLOCK)
        self._block = self._ring.take()
        self._use(self._block)
        return 0

    def start(self, rows: np.ndarray, starts: np.ndarray | int) -> None:
        """Fresh accounts and episodes for the envs where the bool mask ``rows`` is True, at split-relative
        bars ``starts``."""
        self.state[rows] = self._fresh
        self.state[rows, K.T] = starts
        self.terms.reset(rows)

    def step(self) -> tuple[int, int]:
        """Step every env with :attr:`actions` (``(dims, num_envs)``: the weights' raw values, or bucket indices).
        Returns ``(row, ended)``."""
        row = self._row + 1  # take_row(), inlined: a single env's step is a few microseconds
        if row == self._rows:
            row = self._next_block()
        self._row = row
        ended, refused, bad_term = P.step_portfolios(
            self.prices,
            self.traded,
            self._features_flat,
            self.config,
            self.actions,
            self.state,
            self.out,
            self.flags,
            self.bars,
            self.weights,
            self._market,
            self._account,
            row,
        )
        if refused >= 0:
            if refused == K.EPISODE_OVER:
                raise TradecoreError("episode is over: call reset() before stepping again")
            raise TradecoreError(
                f"action for asset {refused} has a bucket index outside [0, {int(self.config[P.P_BUCKETS])})"
            )
        if self.terms.called:
            bad_term = self.terms.add_called(self.out[row], self.flags[row], bad_term)
        if bad_term >= 0:
            if bad_term == K.SUM_OVERFLOW:
                raise TradecoreError("the weighted reward terms sum to a non-finite value; lower the terms' weights")
            raise TradecoreError(
                f"reward term {self.terms.names[bad_term]!r} returned a non-finite value; check its params and weight"
            )
        return row, ended

    def observe(self, rows: np.ndarray, row: int) -> None:
        """Observations of the envs at integer indices ``rows`` into row ``row`` of the observation blocks."""
        P.observe_portfolios(
            self.prices, self._features_flat, self.config, self.state, rows, self._market, self._account, row
        )

    def current_bars(self) -> np.ndarray:
        """Each env's current bar (split-relative, int64)."""
        return self.state[:, K.T].astype(np.int64)

    def positions(self, env: int = 0) -> np.ndarray:
        """Units held per asset by env ``env``."""
        return self.state[env, self.q0 : self.q0 + self.assets].copy()

    def costs_by_asset(self, env: int = 0) -> np.ndarray:
        """Fees plus slippage paid per asset (quote currency) by env ``env`` this episode."""
        return self.state[env, self.q0 + self.assets : self.q0 + 2 * self.assets].copy()


def action_dims(config: PortfolioEnvConfig, assets: int) -> int:
    """Values in one action: a bucket index or a signed weight per asset, or (long-only) one per asset then cash."""
    if config.actions.mode == "discrete" or config.allow_short:
        return assets
    return assets + 1


def action_mode(config: PortfolioEnvConfig) -> int:
    acts = config.actions
    if acts.mode == "discrete":
        return P.M_DISCRETE
    if config.allow_short:
        return P.M_LONG_SHORT
    return P.M_SOFTMAX if acts.simplex == "softmax" else P.M_NORMALIZE


def pack_portfolio_config(
    config: PortfolioEnvConfig,
    symbols: Sequence[str],
    bounds: EpisodeBounds,
    first_bar: int,
    n_features: int,
    engine: PortfolioEngine,
) -> np.ndarray:
    """The kernel's ``config`` vector: the single env's shared slots, the reward plan at ``C_TABLES``, then the
    per-asset fees and slippage and the weight buckets (from ``config[P_EXTRA]``)."""
    terms = engine.terms
    head = np.zeros(K.C_TABLES)
    head[K.C_EQUITY] = float(config.initial_equity)
    head[K.C_MAX_DRAWDOWN] = config.max_drawdown or np.inf
    head[K.C_LIMIT] = bounds.limit
    head[K.C_ROWS] = bounds.rows
    head[K.C_WINDOW] = config.window
    head[K.C_FEATURES] = n_features
    head[K.C_ALLOW_SHORT] = config.allow_short
    head[K.C_LEVERAGE] = config.max_gross
    head[K.C_TABLE_WIDTH] = 0  # no head tables: the reward plan starts at C_TABLES
    head[K.C_TERMS] = len(terms)
    head[K.C_FIRST_BAR] = first_bar
    plan = [v for kind, w, eta in zip(terms.kinds, terms.weights, terms.etas) for v in (kind, w, eta)]
    head[P.P_EXTRA] = K.C_TABLES + len(plan)
    head[P.P_Q0] = engine.q0
    head[P.P_MODE] = action_mode(config)
    head[P.P_ASSETS] = len(symbols)
    head[P.P_BAND] = config.no_trade_band
    head[P.P_MIN_ORDER] = config.min_order
    head[P.P_BUCKETS] = len(config.actions.buckets)
    fees = [b * 1e-4 for b in config.cost_bps("fee_bps", symbols)]
    slips = [b * 1e-4 for b in config.cost_bps("slippage_bps", symbols)]
    return np.array([*head, *plan, *fees, *slips, *config.actions.buckets], dtype=np.float64)
