"""tradecore hooks of the Ray plugin: the ``ray`` backend (light: Ray is imported only when it runs)."""

from __future__ import annotations

from tradecore.hookspecs import hookimpl


@hookimpl
def tradecore_backends():
    from pydantic import BaseModel, ConfigDict, Field

    from tradecore.specs import BackendSpec

    class RayParams(BaseModel):
        model_config = ConfigDict(extra="forbid")

        address: str | None = Field(
            None,
            description="Existing cluster ('ray://host:10001' or 'auto'); null starts a local Ray for this command",
        )
        num_cpus: int | None = Field(None, ge=1, description="CPUs of the local Ray (default: all)")
        object_store_mb: int = Field(
            256,
            ge=75,
            description="Object store of the local Ray (Ray's default is 30 % of RAM; runs pass files, not objects)",
        )
        cpus_per_trial: float = Field(1.0, gt=0, description="CPUs each trial reserves")
        gpus_per_trial: float = Field(
            0.0, ge=0, description="GPUs each trial reserves (0 on CPU-only clusters, or trials never schedule)"
        )
        max_failures: int = Field(0, ge=0, le=10, description="Retries of a failed trial")
        storage_path: str | None = Field(
            None, description="Shared storage for Tune results on a cluster (default: the sweep folder)"
        )

    yield BackendSpec(
        name="ray",
        description="Sweeps and independent runs as Ray Tune trials",
        params=RayParams,
        factory="tradecore_ray.backend:RayBackend",
    )
