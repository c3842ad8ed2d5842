"""Where the RunPod API key comes from: ``RUNPOD_API_KEY`` or the user's RunPod config file, never a manifest."""

from __future__ import annotations

import os
from pathlib import Path

from tradecore_runpod.errors import AuthError

KEY_ENV = "RUNPOD_API_KEY"


def runpod_config_path() -> Path:
    """``~/.runpod/config.toml``, the file ``runpod config`` (the official CLI/SDK) writes."""
    return Path.home() / ".runpod" / "config.toml"


def api_key() -> str:
    """The key from the environment, else ``[default] api_key`` in the RunPod config file."""
    key = os.environ.get(KEY_ENV, "").strip()
    if key:
        return key
    path = runpod_config_path()
    if path.is_file():
        import tomllib

        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise AuthError(f"cannot read RunPod config {path}: {type(exc).__name__}; fix or delete it") from None
        key = str((data.get("default") or {}).get("api_key") or "").strip()
        if key:
            return key
    raise AuthError(
        f"no RunPod API key: export {KEY_ENV}=<key> (create one at runpod.io > Settings > API Keys) "
        f"or put api_key under [default] in {path}"
    )


class Redactor:
    """Removes the API key from any text before it is shown, logged or written."""

    def __init__(self, secret: str | None) -> None:
        self.secret = secret or ""

    def __call__(self, text: str) -> str:
        return text.replace(self.secret, "[redacted]") if self.secret and len(self.secret) >= 4 else text
