"""The ``runpod`` backend: pre-flight checks and budget guards, create -> wait running -> watch logs and
heartbeat -> terminate, whatever happens (success, failure, lost heartbeat, idle GPUs, time or cost limit,
Ctrl-C) -> collect the run folder from the network volume through RunPod's S3 API (no pod needed, so the
GPU is not billed while downloading). ``runpod.json`` in the local folder records the pod, estimate, actual
cost and where the run folder is."""

from __future__ import annotations

import base64
import dataclasses
import json
import time
from pathlib import Path
from typing import Any

from tradecore.api import ComputeBackend, RunOutcome, RunRequest
from tradecore_runpod.errors import (
    AccountUnknown,
    BudgetError,
    CapacityError,
    ConfigError,
    InsufficientFundsError,
    PodGone,
    RunpodError,
    TransientError,
)

OUTCOME_MARK = "TRADECORE_OUTCOME "
EXIT_MARK = "TRADECORE_EXIT "
HEARTBEAT_MARK = "tradecore-heartbeat"
ENDED = ("EXITED", "ERROR", "TERMINATED")

#: the pod's command: a constant (no user text); the manifest arrives base64-encoded in TRADECORE_MANIFEST_B64.
#: It prints heartbeats, runs tradecore, prints the outcome, and terminates its own pod on exit
#: (RunPod injects RUNPOD_POD_ID and a pod-scoped RUNPOD_API_KEY) in case the controller is gone.
POD_COMMAND = (
    "bash -c '"
    'bye() { curl -fsS -X DELETE -H "Authorization: Bearer $RUNPOD_API_KEY" '
    '"https://api.runpod.io/v2/pods/$RUNPOD_POD_ID" >/dev/null 2>&1 || true; }; trap bye EXIT; '
    '(while sleep 30; do echo "tradecore-heartbeat $(date +%s)"; done) & '
    'work=$(mktemp -d) && printf %s "$TRADECORE_MANIFEST_B64" | base64 -d > "$work/manifest.json" && '
    'python -m tradecore run "$work/manifest.json" --runs-dir "$TRADECORE_RUNS" --json > "$work/outcome.json"; '
    'code=$?; echo "TRADECORE_OUTCOME $(base64 -w0 "$work/outcome.json")"; echo "TRADECORE_EXIT $code"; exit $code'
    "'"
)


class RunpodBackend(ComputeBackend):
    def __init__(self, params: Any, *, api: Any = None, sleep: Any = time.sleep, clock: Any = time.monotonic) -> None:
        self.params = params
        self._api = api
        self.sleep, self.clock = sleep, clock

    def api(self) -> Any:
        if self._api is None:
            from tradecore_runpod.api import RunpodApi
            from tradecore_runpod.credentials import api_key

            self._api = RunpodApi(api_key())
        return self._api

    # -- submit ------------------------------------------------------------------------------------------
    def submit(self, request: RunRequest) -> RunOutcome:
        from tradecore.api import child_manifest, default_runs_root, unique_folder
        from tradecore_runpod.budget import effective_limits

        p = self.params
        limits = effective_limits(p)  # before the key: a missing limit is a manifest problem
        if p.network_volume_id and p.collect:
            from tradecore_runpod.credentials import s3_credentials

            s3_credentials(p.network_volume_id)  # refuse before paying for a pod whose results we could not fetch
        api = self.api()
        name = request.resolved.manifest.name
        folder = unique_folder((request.runs_root or default_runs_root()) / "runpod", name)
        run_id = folder.name
        record: dict[str, Any] = {
            "run_id": run_id,
            "limits": limits.as_dict(),
            "pod_id": None,
            "status": "preflight",
            "events": [],
        }
        echo = request.echo
        try:
            candidates, data_centers = self._preflight(api, limits, record)
            for warning in record.get("warnings", []):
                echo(f"[runpod] warning: {warning}")
            manifest = child_manifest(request.resolved)
            body = self._pod_body(f"{p.name_prefix}{run_id}", manifest, data_centers, run_id)
            pod = self._create(api, body, candidates, record, echo)
        except RunpodError as exc:
            record["status"], record["error"] = "refused", str(exc)
            _write(folder, record)
            raise
        _write(folder, record)
        try:
            outcome = self._watch(api, pod["id"], record, folder, echo)
        except KeyboardInterrupt:
            record["status"] = "interrupted"
            self._terminate(api, pod["id"], record, echo)
            self._locate(record, echo)  # no download on Ctrl-C: say where the folder is instead
            _write(folder, record)
            raise
        except RunpodError as exc:
            record["status"], record["error"] = "failed", str(exc)
            self._terminate(api, pod["id"], record, echo)
            try:  # what the failed run left (logs, partial reports) is worth having, but not worth masking exc
                self._collect(api, record, folder, echo)
            except RunpodError as collect_exc:
                record["run_folder"]["error"] = str(collect_exc)
            _write(folder, record)
            raise
        except BaseException:
            self._terminate(api, pod["id"], record, echo)
            _write(folder, record)
            raise
        self._terminate(api, pod["id"], record, echo)
        try:
            run_dir = self._collect(api, record, folder, echo)
        except RunpodError as exc:
            record["run_folder"]["error"] = str(exc)
            raise RunpodError(
                f"the run finished on the pod but its folder was not collected ({exc}); it is still on "
                f"{record['run_folder']['where']}"
            ) from None
        finally:
            _write(folder, record)
        return dataclasses.replace(outcome, run_dir=run_dir)

    # -- the run folder -----------------------------------------------------------------------------------------
    def _volume_folder(self, record: dict[str, Any]) -> Any:
        from tradecore_runpod.volume import VolumeFolder

        return VolumeFolder(
            volume_id=self.params.network_volume_id,
            data_center=record["volume_data_center"],
            prefix=f"runs/{record['run_id']}/",
        )

    def _locate(self, record: dict[str, Any], echo: Any) -> dict[str, Any]:
        """Where the pod left the run folder, in ``record["run_folder"]`` (and said once)."""
        p = self.params
        remote = record.get("remote_run_dir") or f"{_mount(p)}/runs/{record['run_id']}"
        if p.network_volume_id and record.get("volume_data_center"):
            where = f"network volume {p.network_volume_id!r} at {self._volume_folder(record).describe()}"
        else:
            where = f"{remote} on the pod's container disk, deleted with the pod (set network_volume_id to keep it)"
        info = record["run_folder"] = {"collected": False, "where": where, "remote_run_dir": remote}
        echo(f"[runpod] run folder: {where}")
        return info

    def _collect(self, api: Any, record: dict[str, Any], folder: Path, echo: Any) -> Path:
        """Download the run folder from the network volume into ``folder``; the local run folder (or ``folder``)."""
        from tradecore_runpod.volume import collect

        p = self.params
        if not (p.network_volume_id and p.collect):
            self._locate(record, echo)
            return folder
        info = record["run_folder"] = {"collected": False, "where": "", "remote_run_dir": record.get("remote_run_dir")}
        source = self._volume_folder(record)
        info["where"] = f"network volume {p.network_volume_id!r} at {source.describe()}"
        files = collect(source, folder, redact=api.redact)
        if not files and record.get("status") == "done":
            raise RunpodError(f"the pod reported success but {source.describe()} holds no files")
        info.update(collected=True, files=len(files), bytes=sum(f.stat().st_size for f in files))
        echo(f"[runpod] collected {len(files)} file(s) of the run folder from {source.describe()}")
        remote = record.get("remote_run_dir") or ""
        base = f"{_mount(p)}/runs/{record['run_id']}/"
        if remote.startswith(base) and (folder / remote[len(base) :]).is_dir():
            return folder / remote[len(base) :]
        subdirs = {f.relative_to(folder).parts[0] for f in files if len(f.relative_to(folder).parts) > 1}
        return folder / subdirs.pop() if len(subdirs) == 1 else folder

    # -- pre-flight -----------------------------------------------------------------------------------------
    def _preflight(self, api: Any, limits: Any, record: dict[str, Any]) -> tuple[list[tuple[str, float]], list[str]]:
        """Every check that can refuse before a pod is paid for; returns (candidate GPU types with their hourly
        price, data centers the pod may run in)."""
        catalog = self._gpu_catalog(api)
        data_centers = self._data_centers(api, record)
        burn = self._burn_of_running_pods(api, limits)
        candidates = self._affordable_gpus(catalog, limits, burn, record)
        self._check_account(api, min(hourly for _, hourly in candidates), record)
        hours = self.params.max_hours
        record["estimate"] = [
            {"gpu_type": g, "hourly_usd": round(h, 4), "max_cost_usd": round(h * hours, 4)} for g, h in candidates
        ]
        return candidates, data_centers

    def _gpu_catalog(self, api: Any) -> dict[str, Any]:
        """GPU types offered for this cloud and count, by id; refuses unknown ids in ``gpu_types``."""
        p = self.params
        catalog = {g.id: g for g in api.gpu_types(cloud=p.cloud, count=p.gpu_count)}
        unknown = [g for g in p.gpu_types if g not in catalog]
        if unknown:
            raise ConfigError(
                f"backend.params.gpu_types: unknown GPU type {unknown[0]!r}; valid ids: " + ", ".join(sorted(catalog))
            )
        return catalog

    def _data_centers(self, api: Any, record: dict[str, Any]) -> list[str]:
        """Where the pod may run: ``data_center_ids``, narrowed to the network volume's own data center, whose
        S3 access is checked when the run folder will be collected from it."""
        p = self.params
        data_centers = list(p.data_center_ids or [])
        if not p.network_volume_id:
            return data_centers
        volume = api.network_volume(p.network_volume_id)
        volume_dc = str(volume.get("dataCenterId") or volume.get("dataCenter") or "")
        if data_centers and volume_dc not in data_centers:
            raise ConfigError(
                f"backend.params.network_volume_id: volume {p.network_volume_id!r} is in "
                f"{volume_dc}, not in data_center_ids {data_centers}; pods can mount only a volume "
                f"in their own data center: add {volume_dc} or use a volume there"
            )
        record["volume_data_center"] = volume_dc
        if p.collect:  # the S3 endpoint, key and volume must work before a pod is paid for
            from tradecore_runpod.volume import VolumeReader

            VolumeReader(p.network_volume_id, volume_dc, redact=api.redact).keys(f"runs/{record['run_id']}/")
        return [volume_dc]

    def _burn_of_running_pods(self, api: Any, limits: Any) -> float:
        """The hourly cost of this user's tradecore pods still running; refuses past ``max_concurrent_pods``."""
        ours = [
            pod
            for pod in api.list_pods()
            if str(pod.get("name", "")).startswith(self.params.name_prefix) and pod.get("status") not in ENDED
        ]
        if limits.max_concurrent_pods is not None and len(ours) >= limits.max_concurrent_pods:
            raise BudgetError(
                f"{len(ours)} tradecore pod(s) already running, max_concurrent_pods is "
                f"{limits.max_concurrent_pods}; wait, raise the limit or run `tradecore runpod cleanup`"
            )
        return sum(float(pod.get("cost") or 0.0) for pod in ours)

    def _affordable_gpus(
        self, catalog: dict[str, Any], limits: Any, burn: float, record: dict[str, Any]
    ) -> list[tuple[str, float]]:
        """The allowed GPU types within the cost limits, in preference order, with their hourly price."""
        from tradecore_runpod.budget import estimate_usd

        p = self.params
        candidates, refused = [], []
        for gpu_id in p.gpu_types:
            price = catalog[gpu_id].price(p.cloud)
            if price is None:
                refused.append(f"{gpu_id}: not offered on {p.cloud} cloud")
                continue
            hourly = price * p.gpu_count
            worst = estimate_usd(price, p.gpu_count, p.max_hours)
            if limits.max_cost_usd is not None and worst > limits.max_cost_usd:
                refused.append(
                    f"{gpu_id}: ${price:.2f}/GPU-h x {p.gpu_count} x {p.max_hours:g} h = ${worst:.2f} "
                    f"> max_cost_usd ${limits.max_cost_usd:.2f}"
                )
                continue
            if limits.max_hourly_usd is not None and burn + hourly > limits.max_hourly_usd:
                refused.append(
                    f"{gpu_id}: ${hourly:.2f}/h + ${burn:.2f}/h already burning > max_hourly_usd "
                    f"${limits.max_hourly_usd:.2f}"
                )
                continue
            candidates.append((gpu_id, hourly))
        record["refused_candidates"] = refused
        if not candidates:
            raise BudgetError("budget guard refused every GPU type: " + "; ".join(refused))
        return candidates

    def _check_account(self, api: Any, cheapest: float, record: dict[str, Any]) -> None:
        """Refuse when the account cannot pay an hour of the cheapest candidate (RunPod's own deploy rule);
        when the figures cannot be read, record a warning that ``submit`` prints (never a silent pass)."""
        try:
            account = api.account()
        except AccountUnknown as exc:
            record.setdefault("warnings", []).append(
                f"balance and spend limit unknown ({exc}); launching anyway: RunPod refuses the pod with "
                "HTTP 402 if the account cannot pay an hour of it"
            )
            return
        if account.balance is not None and account.balance < cheapest:
            raise InsufficientFundsError(
                f"RunPod balance ${account.balance:.2f} is below one hour of this pod "
                f"(${cheapest:.2f}); RunPod needs an hour of credit to deploy"
            )
        if (
            account.spend_limit is not None
            and account.spend_per_hr is not None
            and account.spend_per_hr + cheapest > account.spend_limit
        ):
            raise InsufficientFundsError(
                f"RunPod spend limit ${account.spend_limit:.2f}/h would be crossed "
                f"(${account.spend_per_hr:.2f}/h now + ${cheapest:.2f}/h); ask RunPod "
                "support to raise it or stop other pods"
            )

    def _pod_body(
        self, pod_name: str, manifest: dict[str, Any], data_centers: list[str], run_id: str
    ) -> dict[str, Any]:
        p = self.params
        mount = _mount(p)
        env = dict(p.env)
        env["TRADECORE_MANIFEST_B64"] = base64.b64encode(json.dumps(manifest).encode()).decode()
        env["TRADECORE_RUNS"] = f"{mount}/runs/{run_id}"  # one folder per run: collected by prefix, even on failure
        if p.network_volume_id:
            env["TRADECORE_LAKE"] = f"{mount}/lake"
        body: dict[str, Any] = {
            "name": pod_name,
            "image": p.image,
            "args": POD_COMMAND,
            "disk": p.container_disk_gb,
            "env": env,
            "ports": [],
            "cloud": p.cloud,
            "startSsh": False,
        }
        if data_centers:
            body["dataCenterIds"] = data_centers
        if p.network_volume_id:
            body["mounts"] = {"network": [{"volumeId": p.network_volume_id, "path": mount}]}
        return body

    def _create(
        self, api: Any, body: dict[str, Any], candidates: list[tuple[str, float]], record: dict[str, Any], echo: Any
    ) -> dict[str, Any]:
        tried = []
        for gpu_id, hourly in candidates:
            attempt = {**body, "gpu": {"id": gpu_id, "count": self.params.gpu_count}}
            try:
                pod = api.create_pod(attempt)
            except CapacityError as exc:
                tried.append(f"{gpu_id}: no capacity")
                echo(f"[runpod] {gpu_id}: no capacity, trying the next allowed GPU type")
                record["events"].append(str(exc))
                continue
            except TransientError:
                pod = self._create_by_name(api, attempt, echo)
            record.update(
                pod_id=pod["id"],
                pod_name=body["name"],
                gpu_type=gpu_id,
                hourly_usd=hourly,
                status="created",
                data_center=pod.get("dataCenterId"),
            )
            echo(f"[runpod] pod {pod['id']} created: {gpu_id} x {self.params.gpu_count}, ${hourly:.2f}/h")
            return pod
        raise CapacityError(
            "no capacity for any allowed GPU type (" + "; ".join(tried) + "); add more gpu_types "
            "or data_center_ids, or try again later"
        )

    def _create_by_name(self, api: Any, body: dict[str, Any], echo: Any) -> dict[str, Any]:
        """Creation after a 5xx or a lost answer. The pod's name is unique to this run, so creating is made
        idempotent by looking for it first: adopt the pod if the lost answer created it, else ask again."""
        for attempt in range(1, api.retries + 1):
            pod = next((x for x in api.list_pods() if x.get("name") == body["name"]), None)
            if pod is not None:
                return pod
            echo(f"[runpod] pod creation failed on RunPod's side; retrying ({attempt}/{api.retries})")
            api.sleep(min(2.0**attempt, 30.0))
            try:
                return api.create_pod(body)
            except TransientError:
                continue
        pod = next((x for x in api.list_pods() if x.get("name") == body["name"]), None)
        if pod is None:
            raise TransientError(
                f"RunPod failed to create the pod {api.retries + 1} times (server errors); no pod was left "
                "running; try again later"
            )
        return pod

    # -- watching ---------------------------------------------------------------------------------------------
    def _watch(self, api: Any, pod_id: str, record: dict[str, Any], folder: Path, echo: Any) -> Any:
        p = self.params
        started = last = self.clock()
        running_since: float | None = None
        last_activity = started
        idle_since: float | None = None
        last_event: str | None = None
        cost = 0.0
        outcome_b64, exit_code = None, None
        log = open(folder / "pod.log", "a", encoding="utf-8")
        try:
            while True:
                try:
                    pod = api.get_pod(pod_id)
                except PodGone:
                    raise PodGone(f"pod {pod_id} vanished (404) while running; RunPod may have reclaimed it") from None
                now = self.clock()
                cost += float(pod.get("cost") or 0.0) * (now - last) / 3600.0
                last = now
                record["actual_cost_usd"] = round(cost, 6)
                status = pod.get("status")
                if status == "RUNNING" and running_since is None:
                    running_since = last_activity = now
                    record["status"] = "running"
                    echo(f"[runpod] pod {pod_id} running in {pod.get('dataCenterId') or '?'}")
                if status in ("RUNNING", "EXITED"):
                    for event_id, line in api.pod_logs(pod_id, after=last_event):
                        last_event, last_activity = event_id or last_event, now
                        line = api.redact(line)
                        if line.startswith(OUTCOME_MARK):
                            outcome_b64 = line[len(OUTCOME_MARK) :].strip()
                        elif line.startswith(EXIT_MARK):
                            exit_code = int(line[len(EXIT_MARK) :].strip() or 1)
                        elif not line.startswith(HEARTBEAT_MARK):
                            echo(line)
                        log.write(line + "\n")
                    log.flush()
                if exit_code is not None or status in ENDED:
                    break
                if running_since is None and now - started > p.start_timeout_s:
                    raise RunpodError(
                        f"pod {pod_id} not RUNNING after start_timeout_s={p.start_timeout_s:g} s "
                        f"(status {status}); large images pull slowly, raise start_timeout_s"
                    )
                if running_since is not None and now - last_activity > p.heartbeat_timeout_s:
                    raise RunpodError(
                        f"pod {pod_id} lost its heartbeat: no log line for "
                        f"{now - last_activity:.0f} s (heartbeat_timeout_s={p.heartbeat_timeout_s:g})"
                    )
                gpus = ((pod.get("runtime") or {}).get("gpus")) or []
                if gpus and all(float(g.get("util") or 0) == 0 for g in gpus):
                    idle_since = idle_since if idle_since is not None else now
                    if p.idle_timeout_s is not None and now - idle_since > p.idle_timeout_s:
                        raise RunpodError(
                            f"pod {pod_id} idle: GPUs at 0 % for {now - idle_since:.0f} s "
                            f"(idle_timeout_s={p.idle_timeout_s:g})"
                        )
                else:
                    idle_since = None
                if now - started > p.max_hours * 3600:
                    raise BudgetError(f"pod {pod_id} reached max_hours={p.max_hours:g}; stopped")
                limit = record["limits"]["max_cost_usd"]
                if limit is not None and cost >= limit:
                    raise BudgetError(f"pod {pod_id} reached max_cost_usd=${limit:.2f}; stopped")
                self.sleep(p.poll_interval_s)
        finally:
            log.close()
        return self._outcome(pod_id, outcome_b64, exit_code, status, record, folder)

    def _outcome(
        self,
        pod_id: str,
        outcome_b64: str | None,
        exit_code: int | None,
        status: Any,
        record: dict[str, Any],
        folder: Path,
    ) -> RunOutcome:
        outcome = None
        if outcome_b64:
            try:
                outcome = json.loads(base64.b64decode(outcome_b64))
            except ValueError:
                outcome = None
        record["exit_code"] = exit_code
        if outcome is None or exit_code not in (0, None):
            raise RunpodError(
                f"run failed on pod {pod_id} (exit code {exit_code}, pod status {status}); "
                f"its log is in {folder / 'pod.log'}"
            )
        (folder / "outcome.json").write_text(json.dumps(outcome, indent=2), encoding="utf-8")
        record["status"] = "done"
        record["remote_run_dir"] = outcome.get("run_dir")
        return dataclasses.replace(RunOutcome.from_dict(outcome), run_dir=folder)  # the pod's path means nothing here

    def _terminate(self, api: Any, pod_id: str, record: dict[str, Any], echo: Any) -> None:
        try:
            api.terminate_pod(pod_id)
            try:
                state = api.get_pod(pod_id).get("status")
            except PodGone:
                state = "TERMINATED"
        except RunpodError as exc:
            record["terminate_error"] = str(exc)
            echo(f"[runpod] could not confirm pod {pod_id} terminated ({exc}); run `tradecore runpod cleanup`")
            return
        record["terminated"] = state == "TERMINATED"
        echo(f"[runpod] pod {pod_id} terminated; cost ${record.get('actual_cost_usd', 0.0):.4f}")


def _mount(params: Any) -> str:
    return params.volume_mount_path.rstrip("/") or "/workspace"


def _write(folder: Path, record: dict[str, Any]) -> None:
    import os

    tmp = folder / "runpod.json.tmp"
    tmp.write_text(json.dumps(record, indent=2, default=str), encoding="utf-8")
    os.replace(tmp, folder / "runpod.json")
