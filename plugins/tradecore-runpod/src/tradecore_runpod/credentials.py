"""Where RunPod secrets come from (the environment or the user's RunPod config file, never a manifest): the API key
and the S3 API key that reads network volumes."""

from __future__ import annotations

import os
from pathlib import Path

from tradecore_runpod.errors import AuthError

KEY_ENV = "RUNPOD_API_KEY"
S3_ACCESS_ENV = "RUNPOD_S3_ACCESS_KEY"
S3_SECRET_ENV = "RUNPOD_S3_SECRET_KEY"


def runpod_config_path() -> Path:
    """``~/.runpod/config.toml``, the file ``runpod config`` (the official CLI/SDK) writes."""
    return Path.home() / ".runpod" / "config.toml"


def _config_default() -> dict:
    """The ``[default]`` table of the RunPod config file ({} when there is none)."""
    path = runpod_config_path()
    if not path.is_file():
        return {}
    import tomllib

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise AuthError(f"cannot read RunPod config {path}: {type(exc).__name__}; fix or delete it") from None
    return data.get("default") or {}


def api_key() -> str:
    """The key from the environment, else ``[default] api_key`` in the RunPod config file."""
    key = os.environ.get(KEY_ENV, "").strip() or str(_config_default().get("api_key") or "").strip()
    if key:
        return key
    path = runpod_config_path()
    raise AuthError(
        f"no RunPod API key: export {KEY_ENV}=<key> (create one at runpod.io > Settings > API Keys) "
        f"or put api_key under [default] in {path}"
    )


def s3_credentials(volume_id: str) -> tuple[str, str]:
    """The S3 API key pair (``user_...``, ``rps_...``) that reads network volumes without a pod.

    From ``RUNPOD_S3_ACCESS_KEY``/``RUNPOD_S3_SECRET_KEY``, else ``s3_access_key``/``s3_secret_key`` under
    ``[default]`` in the RunPod config file. It is a separate key from the API key (RunPod console >
    Settings > S3 API Keys) and never goes into the pod.
    """
    access = os.environ.get(S3_ACCESS_ENV, "").strip()
    secret = os.environ.get(S3_SECRET_ENV, "").strip()
    if not (access and secret):
        table = _config_default()
        access = access or str(table.get("s3_access_key") or "").strip()
        secret = secret or str(table.get("s3_secret_key") or "").strip()
    if access and secret:
        return access, secret
    raise AuthError(
        f"no RunPod S3 API key to collect the run folder from network volume {volume_id!r}: export "
        f"{S3_ACCESS_ENV}=<user_...> and {S3_SECRET_ENV}=<rps_...> (runpod.io > Settings > S3 API Keys) "
        f"or put s3_access_key and s3_secret_key under [default] in {runpod_config_path()}; "
        "or set backend.params.collect to false"
    )


class Redactor:
    """Removes secrets (the API key, the S3 secret) from any text before it is shown, logged or written."""

    def __init__(self, *secrets: str | None) -> None:
        self.secrets = [s for s in secrets if s and len(s) >= 4]

    def add(self, secret: str | None) -> None:
        if secret and len(secret) >= 4 and secret not in self.secrets:
            self.secrets.append(secret)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "[redacted]")
        return text
