"""A RunPod API stand-in on 127.0.0.1: REST v2 pods, GPU catalog, network volumes, pod logs (SSE) and the
GraphQL ``myself`` account query, with the status codes and problem+json bodies the v2 spec documents.

Pods follow a script: ``ok`` logs a finished run at once; ``run`` really executes the manifest the pod
was given (``python -m tradecore run``, like the container would) and logs its output; ``hang`` runs but
logs nothing (heartbeat loss); ``vanish`` disappears once running; ``fail`` logs an error and exits 1.
Faults (status, headers, body) are queued per method and path prefix.

A pod with a network volume writes its run folder into the volume, as the real container writes into the
mounted path: here through ``volume_s3`` (a boto3 client of a loopback S3 server whose bucket is the volume).
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

NO_CAPACITY = (
    "There are no longer any instances available with the requested specifications. Please refresh and try again."
)


def problem(status: int, title: str, detail: str) -> dict[str, Any]:
    return {"title": title, "status": status, "detail": detail, "errors": []}


class FakeRunpod:
    def __init__(self, key: str) -> None:
        self.key = key
        self.lock = threading.Lock()
        self.gpus: dict[str, dict[str, Any]] = {
            "NVIDIA GeForce RTX 4090": {
                "displayName": "RTX 4090",
                "memoryInGb": 24,
                "price": {"secure": 0.69, "community": 0.34, "serverless": 1.1},
                "capacity": 5,
            },
            "NVIDIA RTX A6000": {
                "displayName": "RTX A6000",
                "memoryInGb": 48,
                "price": {"secure": 0.49, "community": 0.33, "serverless": 0.9},
                "capacity": 5,
            },
            "NVIDIA H100 80GB HBM3": {
                "displayName": "H100 SXM",
                "memoryInGb": 80,
                "price": {"secure": 2.99, "community": 2.69, "serverless": 4.2},
                "capacity": 5,
            },
        }
        self.volumes = {
            "nv-lake": {"id": "nv-lake", "name": "lake", "size": 100, "dataCenterId": "EU-RO-1", "type": "STANDARD"}
        }
        self.account: dict[str, Any] | None = {"clientBalance": 50.0, "currentSpendPerHr": 0.0, "spendLimit": 80.0}
        self.pods: dict[str, dict[str, Any]] = {}
        self.faults: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []
        self.script = "ok"
        self.created: list[dict[str, Any]] = []
        self.max_running = 0
        self.max_burn = 0.0
        self.echo_auth_in_errors = False
        self.volume_s3: Any = None  # boto3 S3 client: network volume id = bucket
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    # -- control -----------------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> FakeRunpod:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        for pod in self.pods.values():
            proc = pod.get("process")
            if proc is not None and proc.poll() is None:
                proc.kill()

    def fault(
        self,
        method: str,
        path: str,
        status: int,
        *,
        times: int = 1,
        headers: dict[str, str] | None = None,
        body: Any = None,
        then_create: bool = False,
    ) -> None:
        """Answer the next ``times`` matching requests with ``status`` (``then_create``: do the work first)."""
        self.faults.append(
            {
                "method": method,
                "path": path,
                "status": status,
                "times": times,
                "headers": headers or {},
                "body": body,
                "then_create": then_create,
            }
        )

    def live_pods(self) -> list[dict[str, Any]]:
        with self.lock:
            return [p for p in self.pods.values() if p["status"] != "TERMINATED"]

    def wait_status(self, status: str, timeout: float = 20) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for pod in self.live_pods():
                if pod["status"] == status:
                    return pod
            time.sleep(0.02)
        raise AssertionError(f"no pod reached {status}")

    # -- pod model ---------------------------------------------------------------------------------------------
    def _public(self, pod: dict[str, Any]) -> dict[str, Any]:
        return {
            k: v for k, v in pod.items() if k not in ("process", "polls", "script", "logs", "outdir", "price", "beat")
        }

    def _advance(self, pod: dict[str, Any]) -> None:
        pod["polls"] += 1
        if pod["status"] == "PROVISIONING" and pod["polls"] >= 2:
            pod["status"] = "RUNNING"
            pod["cost"] = pod["price"] * pod["gpu"]["count"]
            pod["runtime"] = {
                "uptime": 1,
                "gpus": [{"util": 35, "memoryUtil": 20}],
                "cpu": {"util": 5},
                "memory": {"util": 10},
                "ports": [],
            }
            pod["startedAt"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            if pod["script"] == "run":
                self._start_run(pod)
            elif pod["script"] == "ok":  # a finished run, without running it (fast scenarios)
                run_dir = pod["env"].get("TRADECORE_RUNS", "/workspace/runs") + "/pod-run"
                outcome = {
                    "complete": True,
                    "run_dir": run_dir,
                    "metrics": {"agent": {"sharpe": 1.0}},
                    "stages": [{"stage": "data", "status": "done", "seconds": 0.1, "detail": "400 candles"}],
                }
                self._volume_write(pod, "pod-run/run.json", json.dumps({"status": "complete"}).encode())
                pod["logs"] += [
                    "[data] 400 1h candles",
                    "TRADECORE_OUTCOME " + base64.b64encode(json.dumps(outcome).encode()).decode(),
                    "TRADECORE_EXIT 0",
                ]
                pod["status"], pod["cost"] = "EXITED", 0.0
            elif pod["script"] == "fail":
                pod["logs"] += ["error: the run crashed", "TRADECORE_OUTCOME ", "TRADECORE_EXIT 1"]
                pod["status"], pod["cost"] = "EXITED", 0.0
        elif pod["status"] == "RUNNING" and pod["script"] == "vanish" and pod["polls"] >= 4:
            pod["status"] = "TERMINATED"  # reclaimed: gone from the API
        elif pod["status"] == "RUNNING" and pod.get("process") is not None and pod["process"].poll() is None:
            # the pod command's heartbeat loop (every 30 s on RunPod, every 0.2 s here)
            if time.monotonic() - pod.get("beat", 0.0) > 0.2:
                pod["beat"] = time.monotonic()
                pod["logs"].append(f"tradecore-heartbeat {int(time.time())}")
        elif pod["status"] == "RUNNING" and pod.get("process") is not None and pod["process"].poll() is not None:
            proc = pod["process"]
            out = Path(pod["outdir"])
            pod["logs"] += [ln for ln in (out / "err.txt").read_text().splitlines() if ln]
            outcome = (out / "out.json").read_bytes()
            pod_runs = pod["env"].get("TRADECORE_RUNS", "/workspace/runs")
            # the pod prints paths as the container sees them
            outcome = outcome.replace(json.dumps(str(out / "runs"))[1:-1].encode(), pod_runs.encode())
            for path in sorted((out / "runs").rglob("*")):
                if path.is_file():
                    self._volume_write(pod, path.relative_to(out / "runs").as_posix(), path.read_bytes())
            pod["logs"].append("TRADECORE_OUTCOME " + base64.b64encode(outcome).decode())
            pod["logs"].append(f"TRADECORE_EXIT {proc.returncode}")
            pod["status"], pod["cost"], pod["runtime"] = "EXITED", 0.0, None
        running = [p for p in self.pods.values() if p["status"] == "RUNNING"]
        self.max_running = max(self.max_running, len(running))
        self.max_burn = max(self.max_burn, sum(p["cost"] for p in running))

    def _volume_write(self, pod: dict[str, Any], relative: str, data: bytes) -> None:
        """Write ``relative`` (under the pod's $TRADECORE_RUNS) into its network volume, if it has one."""
        mounts = (pod.get("mounts") or {}).get("network") or []
        if not mounts or self.volume_s3 is None:
            return
        mount = mounts[0]["path"].rstrip("/")
        runs = pod["env"]["TRADECORE_RUNS"]
        assert runs.startswith(mount + "/"), "runs must live on the volume"
        key = runs[len(mount) + 1 :] + "/" + relative
        self.volume_s3.put_object(Bucket=mounts[0]["volumeId"], Key=key, Body=data)

    def _start_run(self, pod: dict[str, Any]) -> None:
        """Do what the pod's command does: decode the manifest and run tradecore on it."""
        manifest = base64.b64decode(pod["env"]["TRADECORE_MANIFEST_B64"])
        out = Path(tempfile.mkdtemp(prefix="fake-pod-"))
        (out / "manifest.json").write_bytes(manifest)
        pod["outdir"] = str(out)
        pod["logs"].append("tradecore-heartbeat 1")
        with open(out / "out.json", "wb") as stdout, open(out / "err.txt", "wb") as stderr:
            pod["process"] = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tradecore",
                    "run",
                    str(out / "manifest.json"),
                    "--runs-dir",
                    str(out / "runs"),
                    "--json",
                ],
                stdout=stdout,
                stderr=stderr,
                stdin=subprocess.DEVNULL,
            )

    # -- HTTP ----------------------------------------------------------------------------------------------------
    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(
                self,
                status: int,
                body: Any = None,
                headers: dict[str, str] | None = None,
                content_type: str = "application/json",
            ) -> None:
                raw = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
                self.send_response(status)
                if status >= 400 and content_type == "application/json":
                    content_type = "application/problem+json"
                self.send_header("Content-Type", content_type)
                self.send_header("RateLimit", '"minute";r=59;t=12, "hour";r=2800;t=1812')
                self.send_header("RateLimit-Policy", '"minute";q=60;w=60')
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def _handle(self, method: str) -> None:
                url = urlparse(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                fake.requests.append(
                    {
                        "method": method,
                        "path": url.path,
                        "body": body,
                        "headers": dict(self.headers),
                        "time": time.monotonic(),
                    }
                )
                if self.headers.get("Authorization") != f"Bearer {fake.key}":
                    self._send(401, problem(401, "Unauthorized", "invalid API key"))
                    return
                fault = next(
                    (
                        f
                        for f in fake.faults
                        if f["method"] == method and url.path.startswith(f["path"]) and f["times"] > 0
                    ),
                    None,
                )
                if fault is not None:
                    fault["times"] -= 1
                    if fault["then_create"]:
                        self._route(method, url, body)  # the work happens, the answer is lost
                    detail = fault["body"] if fault["body"] is not None else problem(fault["status"], "Error", "fault")
                    if fake.echo_auth_in_errors and isinstance(detail, dict):
                        detail = {**detail, "detail": f"{detail.get('detail')} (auth {self.headers['Authorization']})"}
                    if isinstance(detail, str):
                        self._send(fault["status"], detail.encode(), fault["headers"], content_type="text/html")
                    else:
                        self._send(fault["status"], detail, fault["headers"])
                    return
                self._send(*self._route(method, url, body))

            def _route(self, method: str, url: Any, body: Any) -> tuple:
                parts = [p for p in url.path.split("/") if p]
                query = parse_qs(url.query)
                with fake.lock:
                    if method == "POST" and parts == ["graphql"]:
                        if fake.account is None:
                            return 410, problem(410, "Gone", "GraphQL has been retired; use REST v2")
                        assert "myself" in body["query"]
                        return 200, {"data": {"myself": dict(fake.account)}}
                    if parts[:1] != ["v2"]:
                        return 404, problem(404, "Not Found", "no such route")
                    parts = parts[1:]
                    if parts == ["catalog", "gpus"]:
                        count = int(query.get("count", ["1"])[0])
                        return 200, {
                            "gpuTypes": [
                                {
                                    "id": gid,
                                    "displayName": g["displayName"],
                                    "memoryInGb": g["memoryInGb"],
                                    "price": g["price"],
                                    "maxGpuCount": 8,
                                    "availability": [
                                        {
                                            "dataCenterId": "EU-RO-1",
                                            "stockStatus": "HIGH" if g["capacity"] >= count else "NONE",
                                        }
                                    ],
                                }
                                for gid, g in fake.gpus.items()
                            ]
                        }
                    if parts[:1] == ["network-volumes"] and len(parts) == 2:
                        volume = fake.volumes.get(parts[1])
                        return (200, volume) if volume else (404, problem(404, "Not Found", "network volume not found"))
                    if parts == ["pods"] and method == "POST":
                        return self._create(body)
                    if parts == ["pods"] and method == "GET":
                        return 200, {
                            "pods": [fake._public(p) for p in fake.pods.values() if p["status"] != "TERMINATED"]
                        }
                    if parts[:1] == ["pods"] and len(parts) >= 2:
                        pod = fake.pods.get(parts[1])
                        if pod is None or pod["status"] == "TERMINATED":
                            return 404, problem(404, "Not Found", f"pod {parts[1]} not found")
                        if len(parts) == 2 and method == "GET":
                            fake._advance(pod)
                            if pod["status"] == "TERMINATED":
                                return 404, problem(404, "Not Found", f"pod {parts[1]} not found")
                            return 200, fake._public(pod)
                        if len(parts) == 2 and method == "DELETE":
                            pod["status"], pod["cost"] = "TERMINATED", 0.0
                            if pod.get("process") is not None and pod["process"].poll() is None:
                                pod["process"].kill()
                            return 204, None
                        if parts[2:] == ["logs"]:
                            after = int(self.headers.get("Last-Event-ID") or 0)
                            lines = pod["logs"][after:]
                            text = "".join(f"id: {after + i + 1}\ndata: {ln}\n\n" for i, ln in enumerate(lines))
                            return 200, text.encode(), None, "text/event-stream"
                    return 404, problem(404, "Not Found", "no such route")

            def _create(self, body: dict[str, Any]) -> tuple:
                for key in ("name", "image", "gpu"):
                    if key not in body:
                        return 422, problem(422, "Unprocessable Entity", f"{key} is required")
                gpu = fake.gpus.get(body["gpu"]["id"])
                if gpu is None:
                    return 400, problem(400, "Bad Request", f"unknown gpu type {body['gpu']['id']}")
                volumes = (body.get("mounts") or {}).get("network") or []
                for mount in volumes:
                    volume = fake.volumes.get(mount["volumeId"])
                    if volume is None or volume["dataCenterId"] not in (
                        body.get("dataCenterIds") or [volume["dataCenterId"]]
                    ):
                        return 400, problem(400, "Bad Request", "network volume must be in the pod's data center")
                if gpu["capacity"] < 1:
                    return 400, problem(400, "Bad Request", NO_CAPACITY)
                gpu["capacity"] -= 1
                pod_id = uuid.uuid4().hex[:14]
                price = gpu["price"]["secure" if body.get("cloud", "SECURE") == "SECURE" else "community"]
                pod = {
                    "id": pod_id,
                    "name": body["name"],
                    "status": "PROVISIONING",
                    "actions": ["stop", "terminate"],
                    "image": body["image"],
                    "args": body.get("args", ""),
                    "disk": body.get("disk"),
                    "mounts": body.get("mounts"),
                    "ports": body.get("ports", []),
                    "env": body.get("env", {}),
                    "registry": None,
                    "cloud": body.get("cloud", "SECURE"),
                    "dataCenterId": (body.get("dataCenterIds") or ["EU-RO-1"])[0],
                    "cudaVersion": "12.8",
                    "ssh": None,
                    "template": None,
                    "cost": 0.0,
                    "locked": False,
                    "runtime": None,
                    "createdAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    "startedAt": None,
                    "globalNetworking": False,
                    "gpu": {"id": body["gpu"]["id"], "count": body["gpu"]["count"]},
                    "price": price,
                    "polls": 0,
                    "script": fake.script,
                    "logs": [],
                }
                fake.pods[pod_id] = pod
                fake.created.append(body)
                return 201, fake._public(pod)

            def do_GET(self) -> None:
                self._handle("GET")

            def do_POST(self) -> None:
                self._handle("POST")

            def do_DELETE(self) -> None:
                self._handle("DELETE")

        return Handler
