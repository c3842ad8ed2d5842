"""Size caps for dump imports: a member's uncompressed size and its compression ratio (ZIP bombs).

Defaults fit every real Kraken file (the complete-history 1-minute CSVs are a few GiB and compress
about 5x); ``--max-member-size``/``--max-ratio`` or ``TRADECORE_KRAKEN_MAX_MEMBER_SIZE``/
``TRADECORE_KRAKEN_MAX_RATIO`` raise them.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from tradecore_kraken.errors import DumpError

SIZE_ENV = "TRADECORE_KRAKEN_MAX_MEMBER_SIZE"
RATIO_ENV = "TRADECORE_KRAKEN_MAX_RATIO"
DEFAULT_MAX_BYTES = 8 << 30
DEFAULT_MAX_RATIO = 200.0
#: members smaller than this are never refused for their ratio (a small, very regular file is harmless)
RATIO_FLOOR_BYTES = 1 << 20
_UNITS = {"": 1, "B": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:I?B)?\s*$", re.IGNORECASE)


def parse_size(text: str, *, what: str) -> int:
    """``"8GiB"``, ``"500MB"``, ``"1048576"`` -> bytes (binary units: 1 MB = 1 MiB here)."""
    match = _SIZE.match(str(text))
    if not match:
        raise DumpError(f"{what}: {text!r} is not a size; use e.g. 8GiB, 500MiB or a number of bytes")
    return int(float(match[1]) * _UNITS[match[2].upper()])


def human(size: float) -> str:
    """``1536`` -> ``"1.5 KiB"``."""
    if size < 1024:
        return f"{size:.0f} B"
    for unit in ("KiB", "MiB"):
        size /= 1024
        if size < 1024:
            return f"{size:.1f} {unit}"
    return f"{size / 1024:.1f} GiB"


@dataclass(frozen=True)
class ImportLimits:
    """The largest member (uncompressed bytes) and the highest compression ratio an import accepts."""

    max_bytes: int = DEFAULT_MAX_BYTES
    max_ratio: float = DEFAULT_MAX_RATIO

    @classmethod
    def from_env(cls, max_size: str | None = None, max_ratio: float | None = None) -> ImportLimits:
        """Explicit values (the CLI options) first, then the environment, then the defaults."""
        what = "--max-member-size" if max_size is not None else SIZE_ENV
        size_text = max_size if max_size is not None else os.environ.get(SIZE_ENV)
        size = DEFAULT_MAX_BYTES if size_text in (None, "") else parse_size(size_text, what=what)
        if max_ratio is None:
            raw = os.environ.get(RATIO_ENV, "")
            try:
                max_ratio = float(raw) if raw else DEFAULT_MAX_RATIO
            except ValueError:
                raise DumpError(f"{RATIO_ENV}: {raw!r} is not a number; use e.g. 200") from None
        if size <= 0 or not max_ratio > 1:
            raise DumpError(f"import limits must be positive (size {size}, ratio {max_ratio}): use e.g. 8GiB and 200")
        return cls(size, float(max_ratio))

    def check(self, label: str, size: int, compressed: int | None = None) -> None:
        """Refuse a member of ``size`` bytes (``compressed`` in its ZIP) over either cap."""
        if size > self.max_bytes:
            raise DumpError(
                f"{label}: {human(size)} uncompressed is over the {human(self.max_bytes)} cap; "
                f"raise it with --max-member-size or {SIZE_ENV} if the file is genuine"
            )
        if compressed is not None and size >= RATIO_FLOOR_BYTES and size > self.max_ratio * max(compressed, 1):
            raise DumpError(
                f"{label}: {human(size)} from {human(compressed)} compressed (ratio {size / max(compressed, 1):.0f}, "
                f"cap {self.max_ratio:g}) looks like a ZIP bomb; raise the cap with --max-ratio or {RATIO_ENV} "
                "if the file is genuine"
            )
