"""What one server serves: lake, runs root, worker slots, token, and fixed params per source."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TOKEN_ENV = "TRADECORE_TOKEN"
#: hosts that only this machine can reach: binding anywhere else needs a token
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
#: the most candles one fetch request may ask for: five years of 1m bars (the seed spec's example)
MAX_BARS_PER_REQUEST = 5 * 365 * 1440 + 2 * 1440


@dataclass
class ServiceSettings:
    lake: Path
    runs: Path
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 2
    token: str | None = None
    #: params every job of a source gets (``--source-param kraken.api_url=...``: a mirror or a test server);
    #: set by whoever starts the server, never by a request
    source_params: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Kraken OHLCVT ZIPs/CSVs that "seed from dump" imports first
    dumps: Path | None = None
    #: folders whose *.json manifests the start-a-run form offers
    manifest_dirs: tuple[Path, ...] = (Path("configs"), Path("examples"))
    max_bars: int = MAX_BARS_PER_REQUEST
    #: seconds between the event stream's looks at the job store and the run folders
    poll_s: float = 0.5

    def __post_init__(self) -> None:
        self.lake = Path(self.lake).expanduser().resolve()
        self.runs = Path(self.runs).expanduser().resolve()
        if self.token is None:
            self.token = os.environ.get(TOKEN_ENV) or None

    @property
    def needs_token(self) -> bool:
        return self.token is not None or self.host not in LOOPBACK_HOSTS

    def check(self) -> None:
        """Refuse to serve beyond this machine without a token."""
        from tradecore.errors import TradecoreError

        if self.host not in LOOPBACK_HOSTS and not self.token:
            raise TradecoreError(
                f"--host {self.host} lets other machines connect: give --token SECRET (or set {TOKEN_ENV})"
            )
        if self.workers < 1:
            raise TradecoreError(f"--workers {self.workers}: give 1 or more")
