"""tradecore hooks of the Ray plugin: the ``ray`` backend (light: Ray is imported only when it runs)."""

from __future__ import annotations

from tradecore.api import hookimpl


@hookimpl
def tradecore_backends():
    from typing import Literal

    from pydantic import BaseModel, ConfigDict, Field

    from tradecore.api import BackendSpec

    class SchedulerParams(BaseModel):
        """A Ray Tune trial scheduler fed by the validation scores the trainer writes while it trains."""

        model_config = ConfigDict(extra="forbid")

        type: Literal["asha", "median"] = Field(description="asha: ASHAScheduler; median: MedianStoppingRule")
        metric: str = Field("validation_score", description="Reported value compared across trials")
        mode: Literal["max", "min"] = Field("max", description="Whether higher metric values are better")
        time_attr: Literal["timesteps", "training_iteration"] = Field(
            "timesteps", description="Progress measure: training timesteps, or the number of validation reports"
        )
        grace_period: float = Field(1, gt=0, description="No trial is stopped before this much progress")
        reduction_factor: float = Field(2, gt=1, description="asha: keep 1/reduction_factor of trials per rung")
        max_t: float | None = Field(
            None, gt=0, description="asha: progress at which ASHA ends a trial (default: never)"
        )
        min_samples_required: int = Field(3, ge=1, description="median: trials needed before comparing")

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

        scheduler: SchedulerParams | None = Field(
            None,
            description="Early stopping of sweep trials (needs a trainer that validates during training, "
            "e.g. sb3 with eval_freq)",
        )

    yield BackendSpec(
        name="ray",
        description="Sweeps and independent runs as Ray Tune trials",
        params=RayParams,
        factory="tradecore_ray.backend:RayBackend",
    )
