"""Drop-in test plugin (loaded with --plugins-dir): sources that are slow, crash, or report their pid.

``TRADECORE_TEST_MARKERS`` names a folder where each run writes ``<pid>.started`` when its data stage
begins and ``<pid>.partial`` when it is interrupted, so tests can see child processes and what they
wrote on the way out.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from tradecore.hookspecs import hookimpl
from tradecore.interfaces import DataSource


def _marker(suffix: str) -> None:
    folder = os.environ.get("TRADECORE_TEST_MARKERS")
    if folder:
        Path(folder, f"{os.getpid()}.{suffix}").write_text(str(os.getpid()))


class SlowSource(DataSource):
    def __init__(self, params):
        self.params = params

    def load(self, ctx):
        from tradecore.data.synthetic import SyntheticParams, generate_candles

        _marker("started")
        if self.params.crash == "abort":
            os.abort()
        if self.params.crash == "raise":
            raise RuntimeError("synthetic failure for the test")
        try:
            deadline = time.monotonic() + self.params.seconds
            while time.monotonic() < deadline:
                time.sleep(0.02)
        except KeyboardInterrupt:
            _marker("partial")  # what a trainer does on Ctrl-C: write the checkpoint, then stop
            raise
        return generate_candles(SyntheticParams(bars=400, timeframe="1h", seed=self.params.seed))

    def describe(self):
        return {"exchange": "test", "pair": "SYN/USD", "timeframe": "1h"}


@hookimpl
def tradecore_sources():
    from typing import Literal

    from pydantic import BaseModel, ConfigDict, Field

    from tradecore.specs import SourceSpec

    class SlowParams(BaseModel):
        model_config = ConfigDict(extra="forbid")
        seconds: float = Field(0.0, ge=0)
        seed: int = 0
        crash: Literal["no", "abort", "raise"] = "no"

    yield SourceSpec(
        name="slow-test",
        description="Test source: sleeps, crashes or raises on demand",
        params=SlowParams,
        factory=SlowSource,
    )
