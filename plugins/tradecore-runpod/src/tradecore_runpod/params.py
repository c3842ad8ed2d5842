"""The ``runpod`` backend's params (pydantic only: manifest validation imports this, never httpx)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
RESERVED_ENV = ("RUNPOD_", "TRADECORE_MANIFEST")


class RunpodParams(BaseModel):
    """One pod per run: which GPUs, where, which image, and how much it may cost."""

    model_config = ConfigDict(extra="forbid")

    gpu_types: list[str] = Field(
        min_length=1,
        description="GPU type ids in order of preference, e.g. "
        "'NVIDIA GeForce RTX 4090'; the next is tried when one has no capacity",
    )
    gpu_count: int = Field(1, ge=1, le=16, description="GPUs per pod")
    cloud: Literal["SECURE", "COMMUNITY"] = Field("SECURE", description="Secure or community cloud")
    image: str = Field(min_length=1, max_length=300, description="Container image with tradecore installed")
    container_disk_gb: int = Field(20, ge=5, le=2000, description="Container disk (wiped when the pod stops)")
    network_volume_id: str | None = Field(None, description="Network volume holding the lake; pins the data center")
    volume_mount_path: str = Field("/workspace", pattern=r"^/[A-Za-z0-9._/-]*$", description="Where it is mounted")
    collect: bool = Field(
        True,
        description="Download the run folder from the network volume after the pod ends (RunPod's S3 API; "
        "needs an S3 API key in RUNPOD_S3_ACCESS_KEY/RUNPOD_S3_SECRET_KEY or ~/.runpod/config.toml)",
    )
    data_center_ids: list[str] | None = Field(None, description="Allowed data centers (must include the volume's)")
    env: dict[str, str] = Field(default_factory=dict, description="Extra environment variables (no secrets)")
    max_hours: float = Field(gt=0, le=720, description="Hard limit on the pod's lifetime; used for the cost estimate")
    max_cost_usd: float | None = Field(None, gt=0, description="Refuse runs whose worst case costs more")
    max_hourly_usd: float | None = Field(
        None, gt=0, description="Refuse when all tradecore pods together would burn more"
    )
    max_concurrent_pods: int | None = Field(None, ge=1, description="Refuse when this many tradecore pods run already")
    allow_unlimited: bool = Field(False, description="Launch without any budget limit (explicit opt-in)")
    name_prefix: str = Field(
        "tradecore-",
        pattern=r"^[a-z][a-z0-9-]{1,30}$",
        description="Pods are named <prefix><run>; cleanup finds them by it",
    )
    start_timeout_s: float = Field(1200, gt=0, description="Give up when the pod is not RUNNING by then")
    heartbeat_timeout_s: float = Field(600, gt=0, description="Terminate when the run logs nothing for this long")
    idle_timeout_s: float | None = Field(1800, gt=0, description="Terminate when every GPU shows 0 % use this long")
    poll_interval_s: float = Field(15, gt=0, le=600, description="Seconds between status and log polls")

    @field_validator("env")
    @classmethod
    def _env_names(cls, env: dict[str, str]) -> dict[str, str]:
        for name in env:
            if not ENV_NAME.match(name):
                raise ValueError(f"env name {name!r} is not a valid variable name")
            if name.startswith(RESERVED_ENV):
                raise ValueError(
                    f"env name {name!r} is reserved (RunPod sets RUNPOD_*; the API key never goes through a manifest)"
                )
        return env

    @model_validator(mode="after")
    def _volume_needs_secure(self) -> RunpodParams:
        if self.network_volume_id and self.cloud != "SECURE":
            raise ValueError("network volumes work only on SECURE cloud; set cloud to SECURE or drop network_volume_id")
        return self
