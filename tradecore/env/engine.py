"""The env engine: ``num_envs`` trading episodes over one split, stepped together by one kernel call.

:class:`~tradecore.env.trading.TradingEnv` is an engine of one env and
:class:`~tradecore.env.vector.BatchedTradingEnv` an engine of many; they only translate actions in
and results out (Gymnasium's single-env and vector conventions), so both execute, reward and observe
with the same code, :func:`tradecore.env.kernels.step_envs`, bit for bit. The arithmetic of one bar
for one account is :func:`tradecore.env.execution.execute_bar`, which a caller stepping one account on
live candles uses directly.

A step's results go into a row of blocks of preallocated arrays (:attr:`Engine.out`, ``flags``, ``bars``,
``market``, ``account``), a row never written before: what an env returned from an earlier step is never
overwritten, and taking a row costs an index where allocating and freeing a handful of small arrays per
step would cost more than the step's arithmetic when envs are few. A kept row keeps its block alive (about
:data:`BLOCK_BYTES` per array).

    engine = Engine(market, config, split, terms, num_envs=4, episode_steps=720)
    engine.start(np.ones(4, bool), starts)        # fresh accounts at split-relative bars
    row, ended = engine.step(actions)              # (heads, 4) head indices, or (dims, 4) floats
    engine.out[row, O_REWARD], engine.flags[row, F_DONE], engine.market[row]   # (``kernels`` O_* / F_*)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from tradecore.config.env import EnvConfig
from tradecore.env import kernels as K
from tradecore.env import rewards as R
from tradecore.env.actions import HEAD_ORDER, ActionLayout
from tradecore.env.episodes import EpisodeBounds
from tradecore.env.execution import ACCOUNT_SLOTS, open_account
from tradecore.env.market import MarketData
from tradecore.errors import TradecoreError
from tradecore.interfaces import BatchOutcome, BatchRewardTerm, RewardTerm

TermFactory = Callable[[], RewardTerm]
#: about the size of one block of results (of its largest array)
BLOCK_BYTES = 1 << 18


class Engine:
    """Accounts, episodes and reward terms of ``num_envs`` envs over the bars of ``split``."""

    def __init__(
        self,
        market: MarketData,
        config: EnvConfig,
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
        self.layout = ActionLayout.from_config(config)
        self.bounds = EpisodeBounds.of(len(split), config.window, episode_steps, split_name)
        self.window = config.window
        self.initial_equity = float(config.initial_equity)
        self.prices = market.prices[split.start : split.stop]
        self.features = market.features[split.start : split.stop]
        self._features_flat = self.features.reshape(-1)
        self.terms = RewardTerms(terms, n)
        self.config = pack_config(config, self.layout, self.bounds, split.start, self.features.shape[1], self.terms)
        self.state = np.zeros((n, K.TERM_STATE + 2 * len(self.terms)))
        self.flat = config.observation == "flat"
        self._fresh = np.zeros(self.state.shape[1])
        open_account(self._fresh[:ACCOUNT_SLOTS], self.initial_equity)
        market_row = n * (self.observation_width if self.flat else self.window * self.features.shape[1]) * 4
        self._rows = max(1, BLOCK_BYTES // market_row)
        self._new_blocks()

    def _new_blocks(self) -> None:
        """Blocks of ``_rows`` rows of results, none written yet (see the module's docstring)."""
        rows, n = self._rows, self.num_envs
        self.out = np.empty((rows, K.OUT_FIELDS + len(self.terms), n))
        self.flags = np.empty((rows, K.FLAG_FIELDS, n), dtype=bool)
        self.bars = np.empty((rows, n), dtype=np.int64)
        if self.flat:  # one array holds both parts (kernels: the account features follow the window)
            self.market = self.account = np.empty((rows, n, self.observation_width), dtype=np.float32)
        else:
            self.market = np.empty((rows, n, self.window, self.features.shape[1]), dtype=np.float32)
            self.account = np.empty((rows, n, K.ACCOUNT_WIDTH), dtype=np.float32)
        self._row = -1

    def take_row(self) -> int:
        """A row of the result blocks never handed out before (new blocks when these are used up)."""
        row = self._row + 1
        if row == self._rows:
            self._new_blocks()
            row = 0
        self._row = row
        return row

    @property
    def observation_width(self) -> int:
        """Floats in one env's flat observation: the feature window, then the account features."""
        return self.window * self.features.shape[1] + K.ACCOUNT_WIDTH

    def start(self, rows: np.ndarray, starts: np.ndarray | int) -> None:
        """Fresh accounts and episodes for the envs where the bool mask ``rows`` is True, at split-relative
        bars ``starts`` (one per selected env, or one for all)."""
        self.state[rows] = self._fresh
        self.state[rows, K.T] = starts
        self.terms.reset(rows)

    def step(self, actions: np.ndarray) -> tuple[int, int]:
        """Step every env with ``actions``: ``(heads, num_envs)`` int64 head indices, one row per enabled head in
        HEAD_ORDER, or ``(dims, num_envs)`` float64 continuous values. Returns ``(row, ended)``: the results are
        in row ``row`` of the result blocks; ``ended`` episodes ended."""
        row = self.take_row()
        ended, refused, bad_term = K.step_envs(
            self.prices,
            self._features_flat,
            self.config,
            actions,
            self.state,
            self.out,
            self.flags,
            self.bars,
            self.market,
            self.account,
            row,
        )
        if refused >= 0:
            if refused == K.EPISODE_OVER:
                raise TradecoreError("episode is over: call reset() before stepping again")
            head = HEAD_ORDER[refused]
            raise TradecoreError(f"action head {head!r} has an index outside [0, {len(self.layout.table(head))})")
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
        """Observations of the envs at integer indices ``rows`` into their places in row ``row`` of
        :attr:`market`/:attr:`account` (:meth:`take_row` for a new one)."""
        K.observe(self.prices, self._features_flat, self.config, self.state, rows, self.market, self.account, row)

    def current_bars(self) -> np.ndarray:
        """Each env's current bar (split-relative, int64)."""
        return self.state[:, K.T].astype(np.int64)


class RewardTerms:
    """An env's weighted reward terms: the kernel computes the exact built-in classes; the others are called
    here after the kernel's step, as :class:`BatchRewardTerm` or, scalar-only, one instance per env."""

    def __init__(
        self,
        terms: Sequence[tuple[str, float, TermFactory]],
        num_envs: int,
        kind_of: Callable[[RewardTerm], int] | None = None,
    ) -> None:
        kind_of = kind_of or builtin_kind  # the portfolio engine's kernel computes one more kind
        self.names = [str(name) for name, _, _ in terms]
        self.weights = [float(weight) for _, weight, _ in terms]
        self.kinds: list[int] = []
        self.etas: list[float] = []
        self.called: list[tuple[int, float, BatchRewardTerm]] = []
        for k, (_, weight, make) in enumerate(terms):
            term = make()
            kind = kind_of(term)
            self.kinds.append(kind)
            self.etas.append(term.eta if isinstance(term, R.DifferentialSharpe) else 0.0)
            if kind == K.R_OTHER:
                if not isinstance(term, BatchRewardTerm):
                    term = RowTerms([term, *(make() for _ in range(num_envs - 1))])
                term.reset_batch(num_envs)
                self.called.append((k, float(weight), term))

    def __len__(self) -> int:
        return len(self.names)

    def reset(self, rows: np.ndarray) -> None:
        for _, _, term in self.called:
            term.reset_rows(rows)

    def add_called(self, out: np.ndarray, flags: np.ndarray, bad: int) -> int:
        """The called terms' weighted shares into ``out``, and the reward re-summed in term order (the scalar
        order: ``0.0 + share_0 + share_1 + ...``). Returns the first bad term as :func:`kernels.step_envs` does."""
        outcome = BatchOutcome(*out[: K.O_EQUITY + 1], flags[K.F_DONE])
        for k, weight, term in self.called:
            out[K.OUT_FIELDS + k] = weight * np.asarray(term.batch(outcome), dtype=np.float64)
        shares = out[K.OUT_FIELDS :]
        total = np.zeros(out.shape[1])
        for share in shares:
            total = total + share
        out[K.O_REWARD] = total
        if bad < 0 and not np.isfinite(total).all():
            finite = np.isfinite(shares).all(axis=1)
            bad = int(np.argmin(finite)) if not finite.all() else K.SUM_OVERFLOW
        return bad


class RowTerms(BatchRewardTerm):
    """A scalar-only term run in a batch: one instance per env, called row by row (same numbers, slower)."""

    def __init__(self, terms: list[RewardTerm]) -> None:
        self.terms = terms

    def __call__(self, outcome):
        return self.terms[0](outcome)

    def reset_rows(self, rows: np.ndarray) -> None:
        for i in np.flatnonzero(rows).tolist():
            self.terms[i].reset()

    def batch(self, outcome: BatchOutcome) -> np.ndarray:
        return np.array([term(outcome.row(i)) for i, term in enumerate(self.terms)], dtype=np.float64)


def builtin_kind(term: RewardTerm) -> int:
    """The kernel's code for ``term`` when it is exactly a built-in class (a subclass may change the formula)."""
    kind = type(term)
    if kind is R.PnL:
        return K.R_PNL_LOG if term.log else K.R_PNL_SIMPLE
    if kind is R.FeeCost:
        return K.R_FEE_SLIP if term.slippage else K.R_FEE
    if kind is R.DrawdownPenalty:
        return K.R_DD_LEVEL if term.level else K.R_DD_INCREASE
    if kind is R.TerminalReward:
        return K.R_TERMINAL_LOG if term.log else K.R_TERMINAL_SIMPLE
    return {R.ExposurePenalty: K.R_EXPOSURE, R.TurnoverPenalty: K.R_TURNOVER, R.DifferentialSharpe: K.R_DSR}.get(
        kind, K.R_OTHER
    )


def pack_config(
    config: EnvConfig, layout: ActionLayout, bounds: EpisodeBounds, first_bar: int, n_features: int, terms: RewardTerms
) -> np.ndarray:
    """The kernel's ``config`` vector (the ``C_*`` slots of :mod:`tradecore.env.kernels`)."""
    tables = [layout.table(h) for h in HEAD_ORDER]
    width = max(len(t) for t in tables)
    head = [
        config.slippage_bps * 1e-4,
        config.fee_bps * 1e-4,
        float(config.initial_equity),
        config.max_drawdown or np.inf,
        bounds.limit,
        bounds.rows,
        config.window,
        n_features,
        layout.continuous,
        layout.allow_short,
        layout.leverage,
        width,
        len(terms),
        first_bar,
        *(layout.heads.index(h) if h in layout.heads else -1 for h in HEAD_ORDER),
        *(len(t) for t in tables),
    ]
    assert len(head) == K.C_TABLES
    padded = [v for t in tables for v in (*t, *[0.0] * (width - len(t)))]
    plan = [v for kind, w, eta in zip(terms.kinds, terms.weights, terms.etas) for v in (kind, w, eta)]
    return np.array([*head, *padded, *plan], dtype=np.float64)
