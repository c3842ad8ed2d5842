"""The runpod backend against a loopback RunPod (REST v2 + GraphQL), driven through tradecore's Runtime and CLI.

After every scenario the fake holds no running pod started by the test, and no pod ever cost more per hour
than the budget allowed. The network volume is a bucket of moto's standalone S3 server on 127.0.0.1, read
through the plugin's real boto3 code, as RunPod's S3-compatible API serves volumes.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fake_runpod import FakeRunpod
from tradecore_runpod.errors import (
    AuthError,
    BudgetError,
    CapacityError,
    ConfigError,
    InsufficientFundsError,
    PodGone,
    RunpodError,
)

from tradecore.api import ManifestError, Runtime

KEY = "rp_test_4f1c0ffee_SECRET_key_do_not_leak"
S3_ACCESS = "user_2f21CfO73Mm2Uq2lEGFiEF24IPw"
S3_SECRET = "rps_S3_SECRET_7e57_do_not_leak_either"
MAX_HOURLY = 1.0


@pytest.fixture(scope="module")
def s3_server():
    """moto's standalone S3 server (the real S3 wire protocol) on 127.0.0.1: RunPod's S3 API for volumes."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def volume(s3_server):
    """A boto3 client of the loopback S3 server with an empty bucket per network volume (``nv-lake``)."""
    import boto3
    import httpx
    from botocore.config import Config

    httpx.post(f"{s3_server}/moto-api/reset")  # a fresh S3 for every test
    client = boto3.client(
        "s3",
        endpoint_url=s3_server,
        region_name="EU-RO-1",
        aws_access_key_id=S3_ACCESS,
        aws_secret_access_key=S3_SECRET,
        config=Config(s3={"addressing_style": "path"}),
    )
    client.create_bucket(Bucket="nv-lake", CreateBucketConfiguration={"LocationConstraint": "EU-RO-1"})
    return client


def volume_keys(client):
    return sorted(o["Key"] for o in client.list_objects_v2(Bucket="nv-lake").get("Contents", []))


@pytest.fixture
def fake(tmp_path, monkeypatch, volume, s3_server):
    server = FakeRunpod(KEY).start()
    server.volume_s3 = volume
    monkeypatch.setenv("RUNPOD_S3_ENDPOINT_URL", s3_server)
    monkeypatch.setenv("RUNPOD_S3_ACCESS_KEY", S3_ACCESS)
    monkeypatch.setenv("RUNPOD_S3_SECRET_KEY", S3_SECRET)
    monkeypatch.setenv("RUNPOD_API_KEY", KEY)
    monkeypatch.setenv("RUNPOD_API_BASE_URL", server.url)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TRADECORE_RUNPOD_CONFIG", str(tmp_path / "home" / "runpod.toml"))
    monkeypatch.setenv("TRADECORE_LAKE", str(tmp_path / "lake"))
    yield server
    try:
        assert server.live_pods() == [], "a pod was left running"
        assert server.max_burn <= MAX_HOURLY + 1e-9, "the hourly budget was exceeded"
    finally:
        server.stop()


def manifest(**backend_params):
    params = {
        "gpu_types": ["NVIDIA GeForce RTX 4090", "NVIDIA RTX A6000"],
        "image": "ghcr.io/example/tradecore:0.1",
        "max_hours": 1,
        "max_cost_usd": 5,
        "max_hourly_usd": MAX_HOURLY,
        "max_concurrent_pods": 2,
        "network_volume_id": "nv-lake",
        "poll_interval_s": 0.02,
        "heartbeat_timeout_s": 1.0,
        "start_timeout_s": 10,
        "env": {"WANDB_MODE": 'off"; rm -rf / #'},
    }
    params.update(backend_params)
    params = {k: v for k, v in params.items() if v is not None}
    return {
        "version": 1,
        "name": "pod-run",
        "source": {"type": "synthetic", "params": {"bars": 400, "timeframe": "1h"}},
        "env": {"window": 8, "episode_steps": 32, "normalize": "none"},
        "backend": {"type": "runpod", "params": params},
    }


def run(tmp_path, data, lines=None):
    rt = Runtime()
    return rt.run(data, runs_root=tmp_path / "runs", echo=(lines.append if lines is not None else lambda _: None))


def record(tmp_path):
    (path,) = (tmp_path / "runs" / "runpod").glob("*/runpod.json")
    return json.loads(path.read_text())


def assert_no_key_anywhere(tmp_path, *texts):
    """Neither the API key nor the S3 secret in any output or file (the user's own config files aside)."""
    for text in texts:
        assert KEY not in str(text) and S3_SECRET not in str(text)
    for path in tmp_path.rglob("*"):
        if path.is_file() and "home" not in path.parts:
            data = path.read_bytes()
            assert KEY.encode() not in data, f"API key leaked into {path}"
            assert S3_SECRET.encode() not in data, f"S3 secret leaked into {path}"


@pytest.mark.slow
def test_happy_path_runs_the_manifest_on_the_pod_and_terminates_it(fake, tmp_path):
    fake.script = "run"  # the fake pod really runs the manifest it was given
    lines = []
    outcome = run(tmp_path, manifest(), lines)
    assert outcome.stages[0].name == "data" and outcome.stages[0].status == "done"
    (body,) = fake.created
    assert body["gpu"] == {"id": "NVIDIA GeForce RTX 4090", "count": 1}
    assert body["cloud"] == "SECURE" and body["dataCenterIds"] == ["EU-RO-1"]
    assert body["mounts"] == {"network": [{"volumeId": "nv-lake", "path": "/workspace"}]}
    assert body["name"].startswith("tradecore-pod-run-")
    child = json.loads(base64.b64decode(body["env"]["TRADECORE_MANIFEST_B64"]))
    assert child["backend"] == {"type": "local", "params": {"mode": "inprocess"}}
    assert body["env"]["WANDB_MODE"] == 'off"; rm -rf / #'  # passed as a JSON value, never spliced into a command
    assert "WANDB_MODE" not in body["args"] and "pod-run" not in body["args"]
    rec = record(tmp_path)
    assert rec["status"] == "done" and rec["terminated"] is True and rec["exit_code"] == 0
    assert rec["actual_cost_usd"] > 0 and rec["estimate"][0]["max_cost_usd"] == pytest.approx(0.69)
    assert any("[data] 400 1h candles" in ln for ln in lines)
    assert [r["method"] for r in fake.requests if r["path"].startswith("/v2/pods/")][-2:] == ["DELETE", "GET"]
    # the pod wrote its run folder into the volume; it came back through the S3 API into the local runs root
    run_id = rec["run_id"]
    assert body["env"]["TRADECORE_RUNS"] == f"/workspace/runs/{run_id}"
    remote = [k for k in volume_keys(fake.volume_s3) if k.startswith(f"runs/{run_id}/")]
    local_root = tmp_path / "runs" / "runpod" / run_id
    assert outcome.run_dir.parent == local_root and (outcome.run_dir / "run.json").is_file()
    assert remote and all((local_root / k[len(f"runs/{run_id}/") :]).is_file() for k in remote)
    for key in remote:
        got = fake.volume_s3.get_object(Bucket="nv-lake", Key=key)["Body"].read()
        assert (local_root / key[len(f"runs/{run_id}/") :]).read_bytes() == got
    assert rec["run_folder"]["collected"] is True and rec["run_folder"]["files"] == len(remote)
    assert rec["run_folder"]["remote_run_dir"] == f"/workspace/runs/{run_id}/{outcome.run_dir.name}"
    assert not list(local_root.rglob("*.part"))
    assert any("collected" in ln and "s3://nv-lake/runs/" in ln for ln in lines)
    assert_no_key_anywhere(tmp_path, *lines)
    assert S3_SECRET not in json.dumps(body) and S3_ACCESS not in json.dumps(body)  # the pod never gets the S3 key


def test_fast_run_collects_the_folder_and_a_pod_without_volume_says_where_it_was(fake, tmp_path):
    outcome = run(tmp_path, manifest())
    rec = record(tmp_path)
    assert outcome.run_dir == tmp_path / "runs" / "runpod" / rec["run_id"] / "pod-run"
    assert json.loads((outcome.run_dir / "run.json").read_text()) == {"status": "complete"}
    lines = []
    outcome = run(tmp_path / "novol", manifest(network_volume_id=None), lines)
    rec = record(tmp_path / "novol")
    assert rec["run_folder"]["collected"] is False
    assert "container disk, deleted with the pod" in rec["run_folder"]["where"]
    assert rec["run_folder"]["remote_run_dir"].startswith(f"/workspace/runs/{rec['run_id']}/")
    assert any("run folder:" in ln and "set network_volume_id" in ln for ln in lines)
    assert outcome.run_dir == tmp_path / "novol" / "runs" / "runpod" / rec["run_id"]
    assert (outcome.run_dir / "outcome.json").is_file()


def test_missing_s3_keys_refuse_before_any_pod_and_say_where_to_put_them(fake, tmp_path, monkeypatch):
    monkeypatch.delenv("RUNPOD_S3_ACCESS_KEY")
    monkeypatch.delenv("RUNPOD_S3_SECRET_KEY")
    with pytest.raises(AuthError) as err:
        run(tmp_path, manifest())
    message = str(err.value)
    assert "\n" not in message and "RUNPOD_S3_ACCESS_KEY" in message and "RUNPOD_S3_SECRET_KEY" in message
    assert ".runpod/config.toml" in message and "Settings > S3 API Keys" in message
    assert fake.created == [] and fake.requests == []
    run(tmp_path, manifest(collect=False))  # opting out of collection needs no S3 key: the folder stays there
    assert record(tmp_path)["run_folder"]["collected"] is False
    home = Path(os.environ["HOME"]) / ".runpod"
    home.mkdir(parents=True)
    (home / "config.toml").write_text(f'[default]\ns3_access_key = "{S3_ACCESS}"\ns3_secret_key = "{S3_SECRET}"\n')
    run(tmp_path / "cfg", manifest())  # the RunPod config file is the other place the S3 key may live
    assert record(tmp_path / "cfg")["run_folder"]["collected"] is True


def test_a_rejected_s3_key_or_a_volume_without_s3_is_refused_before_launch(fake, tmp_path):
    fake.volume_s3.delete_bucket(Bucket="nv-lake")
    with pytest.raises(ConfigError, match="RunPod S3 listing runs/.* on volume 'nv-lake': no such volume"):
        run(tmp_path, manifest())
    assert fake.created == []


def test_no_capacity_tries_the_next_allowed_gpu_type(fake, tmp_path):
    fake.gpus["NVIDIA GeForce RTX 4090"]["capacity"] = 0
    lines = []
    run(tmp_path, manifest(), lines)
    assert [b["gpu"]["id"] for b in fake.created] == ["NVIDIA RTX A6000"]
    assert any("no capacity, trying the next" in ln for ln in lines)
    assert record(tmp_path)["gpu_type"] == "NVIDIA RTX A6000"


def test_no_capacity_anywhere_is_said_plainly(fake, tmp_path):
    for gpu in fake.gpus.values():
        gpu["capacity"] = 0
    with pytest.raises(CapacityError, match="no capacity for any allowed GPU type"):
        run(tmp_path, manifest())
    assert fake.created == []


def test_402_insufficient_balance_stops_at_once(fake, tmp_path):
    fake.fault(
        "POST", "/v2/pods", 402, body={"title": "Payment Required", "status": 402, "detail": "Insufficient balance."}
    )
    with pytest.raises(InsufficientFundsError, match="insufficient balance"):
        run(tmp_path, manifest())
    assert len([r for r in fake.requests if r["method"] == "POST" and r["path"] == "/v2/pods"]) == 1
    assert record(tmp_path)["status"] == "refused"


def test_429_waits_for_retry_after(fake, tmp_path):
    fake.fault(
        "POST",
        "/v2/pods",
        429,
        headers={"Retry-After": "1"},
        body={"title": "Too Many Requests", "status": 429, "detail": "rate limited"},
    )
    run(tmp_path, manifest())
    creates = [r for r in fake.requests if r["method"] == "POST" and r["path"] == "/v2/pods"]
    assert len(creates) == 2 and creates[1]["time"] - creates[0]["time"] >= 0.95
    assert len(fake.created) == 1


def test_5xx_on_reads_is_retried_and_a_lost_create_answer_is_reconciled(fake, tmp_path):
    fake.fault("GET", "/v2/catalog/gpus", 503, body="<html>502 Bad Gateway</html>")
    fake.fault("POST", "/v2/pods", 500, then_create=True)  # the pod exists but the answer was lost
    run(tmp_path, manifest())
    assert len(fake.created) == 1  # found by its unique name, not created twice


def test_pod_vanishing_is_reported_and_nothing_is_left(fake, tmp_path):
    fake.script = "vanish"
    with pytest.raises(PodGone, match="vanished"):
        run(tmp_path, manifest())
    assert record(tmp_path)["status"] == "failed"


def test_heartbeat_loss_terminates_the_pod(fake, tmp_path):
    fake.script = "hang"
    started = time.monotonic()
    with pytest.raises(RunpodError, match="lost its heartbeat"):
        run(tmp_path, manifest(heartbeat_timeout_s=0.5))
    assert time.monotonic() - started < 10
    assert record(tmp_path)["terminated"] is True


def test_failed_run_on_the_pod_is_reported_and_the_pod_terminated(fake, tmp_path):
    fake.script = "fail"
    with pytest.raises(RunpodError, match=r"run failed on pod .* \(exit code 1"):
        run(tmp_path, manifest())


def test_budget_guards_refuse_before_any_pod_exists(fake, tmp_path):
    with pytest.raises(BudgetError, match="no budget limit is set"):
        run(tmp_path, manifest(max_cost_usd=None, max_hourly_usd=None, max_concurrent_pods=None))
    with pytest.raises(BudgetError, match=r"\$0.69/GPU-h x 1 x 10 h = \$6.90 > max_cost_usd \$5.00"):
        run(tmp_path, manifest(max_hours=10, gpu_types=["NVIDIA GeForce RTX 4090"]))
    # the user's config is stricter than the manifest: it wins
    Path(os.environ["TRADECORE_RUNPOD_CONFIG"]).parent.mkdir(parents=True, exist_ok=True)
    Path(os.environ["TRADECORE_RUNPOD_CONFIG"]).write_text("[budget]\nmax_hourly_usd = 0.4\n")
    with pytest.raises(BudgetError, match="max_hourly_usd"):
        run(tmp_path, manifest())
    assert fake.created == []


def test_max_concurrent_pods_counts_tradecore_pods_already_running(fake, tmp_path):
    fake.script = "hang"
    fake.pods["old"] = {
        "id": "old",
        "name": "tradecore-left-over",
        "status": "RUNNING",
        "cost": 0.49,
        "gpu": {"id": "NVIDIA RTX A6000", "count": 1},
        "polls": 9,
        "script": "hang",
        "logs": [],
        "price": 0.49,
    }
    with pytest.raises(BudgetError, match="1 tradecore pod.* already running, max_concurrent_pods is 1"):
        run(tmp_path, manifest(max_concurrent_pods=1))
    with pytest.raises(BudgetError, match="already burning > max_hourly_usd"):
        run(tmp_path, manifest(gpu_types=["NVIDIA GeForce RTX 4090"]))
    fake.pods["old"]["status"] = "TERMINATED"


def test_account_balance_and_spend_limit_are_checked_before_launch(fake, tmp_path):
    fake.account = {"clientBalance": 0.2, "currentSpendPerHr": 0.0, "spendLimit": 80.0}
    with pytest.raises(InsufficientFundsError, match=r"balance \$0.20 is below one hour"):
        run(tmp_path, manifest())
    fake.account = {"clientBalance": 100.0, "currentSpendPerHr": 79.9, "spendLimit": 80.0}
    with pytest.raises(InsufficientFundsError, match="spend limit"):
        run(tmp_path, manifest())
    fake.account = None  # GraphQL retired (410): the local limits still hold, and the user is told
    lines: list[str] = []
    run(tmp_path, manifest(), lines)
    warning = next(line for line in lines if "warning" in line)
    assert "balance and spend limit unknown" in warning and "410" in warning and "402" in warning


def test_a_plain_5xx_on_pod_creation_is_retried_once_the_name_shows_no_pod(fake, tmp_path):
    fake.fault("POST", "/v2/pods", 500, body={"title": "Internal Server Error", "status": 500, "detail": "oops"})
    lines: list[str] = []
    run(tmp_path, manifest(), lines)
    creates = [r for r in fake.requests if r["method"] == "POST" and r["path"] == "/v2/pods"]
    assert len(creates) == 2 and len(fake.created) == 1
    assert any("retrying (1/" in line for line in lines)


def test_pod_creation_failing_on_every_retry_is_one_error_and_leaves_no_pod(fake, tmp_path):
    fake.fault("POST", "/v2/pods", 503, times=20, body={"title": "Service Unavailable", "status": 503})
    with pytest.raises(RunpodError, match="failed to create the pod .* no pod was left running"):
        run(tmp_path, manifest())
    assert fake.live_pods() == [] and fake.created == []


def test_bad_input_is_one_line_naming_the_fix(fake, tmp_path, monkeypatch):
    with pytest.raises(ConfigError) as err:
        run(tmp_path, manifest(gpu_types=["RTX 9090"]))
    assert "unknown GPU type 'RTX 9090'; valid ids: NVIDIA GeForce RTX 4090, NVIDIA H100 80GB HBM3" in str(err.value)
    with pytest.raises(ConfigError, match="volume 'nv-lake' is in EU-RO-1, not in data_center_ids"):
        run(tmp_path, manifest(data_center_ids=["US-TX-3"]))
    with pytest.raises(ConfigError, match="network volume 'nv-gone' not found"):
        run(tmp_path, manifest(network_volume_id="nv-gone"))
    with pytest.raises(ManifestError, match="network volumes work only on SECURE cloud"):
        Runtime().resolve(manifest(cloud="COMMUNITY"))
    with pytest.raises(ManifestError, match="RUNPOD_API_KEY.*reserved"):
        Runtime().resolve(manifest(env={"RUNPOD_API_KEY": "x"}))
    monkeypatch.delenv("RUNPOD_API_KEY")
    with pytest.raises(AuthError, match=r"export RUNPOD_API_KEY=<key> .* \[default\] in .*\.runpod/config.toml"):
        run(tmp_path, manifest())
    home = Path(os.environ["HOME"]) / ".runpod"
    home.mkdir(parents=True)
    (home / "config.toml").write_text(f'[default]\napi_key = "{KEY}"\n')
    run(tmp_path, manifest())  # the RunPod config file is the other place a key may live
    assert fake.created


def test_the_key_is_redacted_even_when_the_server_echoes_it(fake, tmp_path):
    fake.echo_auth_in_errors = True
    fake.fault("POST", "/v2/pods", 400, body={"title": "Bad Request", "status": 400, "detail": "image not allowed"})
    fake.gpus["NVIDIA RTX A6000"]["capacity"] = 0
    with pytest.raises(RunpodError) as err:
        run(tmp_path, manifest(gpu_types=["NVIDIA GeForce RTX 4090"]))
    assert "[redacted]" in str(err.value)
    assert_no_key_anywhere(tmp_path, str(err.value))


def _cli(tmp_path, *args):
    env = {**os.environ}
    return subprocess.Popen(
        [sys.executable, "-m", "tradecore", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )


def test_ctrl_c_terminates_the_pod(fake, tmp_path):
    fake.script = "hang"
    path = tmp_path / "m.json"
    path.write_text(json.dumps(manifest(heartbeat_timeout_s=60)))
    proc = _cli(tmp_path, "run", str(path), "--runs-dir", str(tmp_path / "runs"))
    fake.wait_status("RUNNING")
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode in (1, 130) and "Traceback" not in err, err  # click reports "Aborted!"
    assert record(tmp_path)["status"] == "interrupted" and record(tmp_path)["terminated"] is True
    assert_no_key_anywhere(tmp_path, out, err)


def test_kill_9_then_cleanup_terminates_the_orphan(fake, tmp_path):
    fake.script = "hang"
    path = tmp_path / "m.json"
    path.write_text(json.dumps(manifest(heartbeat_timeout_s=60)))
    proc = _cli(tmp_path, "run", str(path), "--runs-dir", str(tmp_path / "runs"))
    pod = fake.wait_status("RUNNING")
    proc.kill()
    proc.communicate(timeout=10)
    assert [p["id"] for p in fake.live_pods()] == [pod["id"]]  # the orphan RunPod would keep billing
    listing = subprocess.run(
        [sys.executable, "-m", "tradecore", "runpod", "status", "--json"], capture_output=True, text=True, timeout=30
    )
    assert [p["id"] for p in json.loads(listing.stdout)] == [pod["id"]]
    cleanup = subprocess.run(
        [sys.executable, "-m", "tradecore", "runpod", "cleanup"], capture_output=True, text=True, timeout=30
    )
    assert cleanup.returncode == 0 and f"terminated 1 pod(s) named tradecore-*: {pod['id']}" in cleanup.stdout
    assert_no_key_anywhere(tmp_path, listing.stdout, listing.stderr, cleanup.stdout, cleanup.stderr)


def test_gpus_command_lists_types_and_prices(fake, tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "tradecore", "runpod", "gpus"], capture_output=True, text=True, timeout=30
    )
    assert out.returncode == 0, out.stderr
    assert "NVIDIA GeForce RTX 4090" in out.stdout and "0.69" in out.stdout and "EU-RO-1:HIGH" in out.stdout
    rows = json.loads(
        subprocess.run(
            [sys.executable, "-m", "tradecore", "runpod", "gpus", "--json", "--cloud", "COMMUNITY"],
            capture_output=True,
            text=True,
            timeout=30,
        ).stdout
    )
    assert {r["id"]: r["price_per_gpu_hr"] for r in rows}["NVIDIA RTX A6000"] == 0.33
