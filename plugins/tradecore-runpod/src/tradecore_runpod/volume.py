"""Collecting a run folder from a network volume through RunPod's S3-compatible API (no pod needed).

Each data center has its own endpoint (``https://s3api-<dc>.runpod.io/``), the region is the data
center id, the bucket is the network volume id and keys are paths relative to the volume's root.
``RUNPOD_S3_ENDPOINT_URL`` overrides the endpoint (new data centers, tests).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from tradecore_runpod.credentials import Redactor, s3_credentials
from tradecore_runpod.errors import ConfigError, RunpodError, TransientError

ENDPOINT_ENV = "RUNPOD_S3_ENDPOINT_URL"


def s3_endpoint(data_center: str) -> str:
    """The S3 endpoint of ``data_center`` (``EU-RO-1`` -> ``https://s3api-eu-ro-1.runpod.io/``)."""
    override = os.environ.get(ENDPOINT_ENV, "").strip()
    return override or f"https://s3api-{data_center.lower()}.runpod.io/"


@dataclass(frozen=True)
class VolumeFolder:
    """A folder on a network volume: ``s3://<volume>/<prefix>`` in ``data_center``."""

    volume_id: str
    data_center: str
    prefix: str  # relative to the volume root, ends with "/"

    def describe(self) -> str:
        endpoint = s3_endpoint(self.data_center)
        return f"s3://{self.volume_id}/{self.prefix} (endpoint {endpoint}, region {self.data_center})"


class VolumeReader:
    """Lists and downloads files of one network volume with boto3 (path-style addressing, SigV4)."""

    def __init__(self, volume_id: str, data_center: str, *, redact: Redactor | None = None) -> None:
        import boto3
        from botocore.config import Config

        access, secret = s3_credentials(volume_id)
        self.redact = redact or Redactor()
        self.redact.add(secret)
        self.volume_id, self.data_center = volume_id, data_center
        self.client = boto3.session.Session().client(
            "s3",
            endpoint_url=s3_endpoint(data_center),
            region_name=data_center,
            aws_access_key_id=access,
            aws_secret_access_key=secret,
            config=Config(
                signature_version="s3v4",
                s3={"addressing_style": "path"},
                retries={"max_attempts": 5, "mode": "standard"},
                connect_timeout=10,
                read_timeout=60,
            ),
        )

    def keys(self, prefix: str) -> list[tuple[str, int]]:
        """``(key, size)`` of every object under ``prefix``."""
        found: list[tuple[str, int]] = []
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.volume_id, Prefix=prefix)
        for page in self._guard(lambda: list(pages), f"listing {prefix}"):
            found += [(obj["Key"], int(obj.get("Size", 0))) for obj in page.get("Contents", [])]
        return found

    def download(self, folder: VolumeFolder, target: Path) -> list[Path]:
        """Copy every file under ``folder`` into ``target`` (same relative layout); returns the local files.

        Files land under a temporary name and are renamed when complete, so an interrupted download
        never leaves a truncated file that looks whole.
        """
        files: list[Path] = []
        for key, _size in self.keys(folder.prefix):
            relative = _safe_relative(key, folder.prefix)
            if relative is None:
                continue  # a "directory marker" or a key that would escape the target
            local = target.joinpath(*relative.parts)
            local.parent.mkdir(parents=True, exist_ok=True)
            partial = local.with_name(local.name + ".part")
            self._guard(lambda k=key, p=partial: self.client.download_file(self.volume_id, k, str(p)), f"reading {key}")
            os.replace(partial, local)
            files.append(local)
        return files

    def _guard(self, call: Any, what: str) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return call()
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = str(error.get("Code") or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or "")
            where = f"RunPod S3 {what} on volume {self.volume_id!r}"
            if code in ("NoSuchBucket", "404"):
                raise ConfigError(f"{where}: no such volume at {s3_endpoint(self.data_center)}") from None
            if code in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "403", "401"):
                raise ConfigError(
                    f"{where}: the S3 API key was rejected ({code}); check RUNPOD_S3_ACCESS_KEY/RUNPOD_S3_SECRET_KEY"
                ) from None
            raise TransientError(self.redact(f"{where}: {code}: {error.get('Message') or exc}")) from None
        except BotoCoreError as exc:
            raise TransientError(self.redact(f"RunPod S3 {what}: {type(exc).__name__}: {exc}")) from None


def _safe_relative(key: str, prefix: str) -> PurePosixPath | None:
    rest = key[len(prefix) :] if key.startswith(prefix) else ""
    path = PurePosixPath(rest)
    if not rest or rest.endswith("/") or path.is_absolute() or ".." in path.parts:
        return None
    return path


def collect(folder: VolumeFolder, target: Path, *, redact: Redactor | None = None) -> list[Path]:
    """Download ``folder`` into ``target``; RunpodError (one line, no secrets) when it cannot."""
    try:
        return VolumeReader(folder.volume_id, folder.data_center, redact=redact).download(folder, target)
    except RunpodError:
        raise
    except OSError as exc:
        raise RunpodError(f"cannot write the collected run folder into {target}: {exc}") from None
