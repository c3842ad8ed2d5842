"""Result blocks that are handed out row by row and written again only once nobody outside holds them.

An engine's step writes its results (and observations) into a row of preallocated arrays and hands out views
of that row; a row is never handed out twice while a block is in use. When its rows are used up, a block is
retired and kept as a spare, and the next block is a spare that nothing outside refers to any more (no view
of it, nothing built on its buffer: a numpy view, a ``memoryview`` or a tensor sharing its memory all keep a
reference to the array), or else a new one. So what a caller kept is never overwritten, as with fresh
blocks, while a caller that copies what it keeps (SB3's rollout buffer does) steps on one or two blocks that
stay warm in cache: a fresh multi-megabyte block per step is memory the caches have not seen (and page
faults whenever the allocator has handed it back to the system).

"Nobody outside refers to it" is read from CPython's reference counts: those of a block's arrays when it
was made, before anyone could hold it, are its counts when unreferenced.
"""

from __future__ import annotations

import sys
from collections import deque
from collections.abc import Callable

import numpy as np

#: used-up blocks kept for reuse; a caller holding the last few steps' results makes new ones meanwhile
SPARES = 3

Block = tuple[np.ndarray, ...]


def _counts(block: Block) -> tuple[int, ...]:
    return tuple(sys.getrefcount(array) for array in block)


class BlockRing:
    """Blocks from ``make`` (a tuple of arrays, views of each other included), reused once unreferenced."""

    def __init__(self, make: Callable[[], Block], spares: int = SPARES) -> None:
        self._make = make
        self._spares: deque[Block] = deque()
        self._keep = spares
        self._free: tuple[int, ...] | None = None

    def take(self) -> Block:
        """A block none of whose rows anyone outside holds: the latest retired one that is free again (the
        warmest in cache), or a new one."""
        for k in range(len(self._spares) - 1, -1, -1):
            if _counts(self._spares[k]) == self._free:
                block = self._spares[k]
                del self._spares[k]
                return block
        block = self._make()
        if self._free is None:
            self._free = _counts(block)
        return block

    def retire(self, block: Block) -> None:
        """``block``'s rows are used up: keep it for reuse (the oldest spare beyond :data:`SPARES` is dropped,
        left to whoever still holds it). The caller holds no other reference to its arrays."""
        self._spares.append(block)
        if len(self._spares) > self._keep:
            self._spares.popleft()
