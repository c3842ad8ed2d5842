"""Bad requests get 4xx with one line per problem, never a 500; nothing outside the lake or runs root is read;
secrets never appear in answers; off loopback every call needs the token."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from tests.service.conftest import synthetic_job
from tradecore.service.app import create_app
from tradecore.service.settings import ServiceSettings


@pytest.fixture
def roots(tmp_path):
    runs = tmp_path / "runs"
    run = runs / "20260101T000000Z-secret"
    run.mkdir(parents=True)
    manifest = {"name": "secret", "source": {"type": "kraken", "params": {"api_key": "KEY-123", "symbol": "BTC/USD"}}}
    (run / "manifest.json").write_text(json.dumps(manifest))
    (run / "run.json").write_text(json.dumps({"name": "secret", "status": "complete", "env": {"TOKEN": "T-456"}}))
    (tmp_path / "outside.txt").write_text("CONTENT-OUTSIDE")
    (run / "link.txt").symlink_to(tmp_path / "outside.txt")
    (runs / "escape").symlink_to(tmp_path)
    return tmp_path / "lake", runs


@pytest.fixture
def client(roots):
    with TestClient(create_app(ServiceSettings(lake=roots[0], runs=roots[1], workers=1))) as c:
        yield c


@pytest.mark.parametrize(
    "body, fields",
    [
        ("{not json", ["body"]),
        ("[]", ["body"]),
        (json.dumps({"exchange": 1, "symbol": [], "timeframe": None}), ["exchange", "symbol", "timeframe"]),
        (json.dumps({**synthetic_job(), "exchange": "binance"}), ["exchange"]),
        (json.dumps({**synthetic_job(), "symbol": "../../etc"}), ["symbol"]),
        (json.dumps({**synthetic_job(), "timeframe": "7q"}), ["timeframe"]),
        (json.dumps({**synthetic_job(), "start_timestamp": "yesterday"}), ["start_timestamp"]),
        (json.dumps(synthetic_job("2024-01-01", "2023-01-01")), ["start_timestamp"]),
        (json.dumps(synthetic_job("2015-01-01", "2025-01-01", "1m")), ["end_timestamp"]),  # over the max range
        (json.dumps({**synthetic_job(), "surprise": 1}), ["surprise"]),
        (
            json.dumps(
                {"exchange": "kraken", "symbol": "DOGE/XYZ", "timeframe": "3m", "start_timestamp": "2024-01-01"}
            ),
            ["timeframe", "symbol"],
        ),  # fmt: skip
    ],
)
def test_bad_job_payloads_are_422_one_line_per_field(client, body, fields):
    answer = client.post("/api/data-jobs", content=body, headers={"content-type": "application/json"})
    assert answer.status_code == 422, answer.text
    errors = answer.json()["errors"]
    assert [e["field"] for e in errors] == fields
    assert all("\n" not in e["message"] and "Traceback" not in e["message"] for e in errors)


@pytest.mark.parametrize(
    "path, status",
    [
        ("/api/runs/..%2F..%2Fetc", 404),
        ("/api/runs/%2E%2E", 422),
        ("/api/runs/escape", 404),  # a symlink out of the runs root
        ("/api/runs/20260101T000000Z-secret/artifacts/..%2F..%2Foutside.txt", 422),
        ("/api/runs/20260101T000000Z-secret/artifacts/%2Fetc%2Fpasswd", 422),
        ("/api/runs/20260101T000000Z-secret/artifacts/link.txt", 404),  # a symlink out of the run folder
        ("/api/data/download?exchange=..&symbol=BTC/USD&timeframe=1h", 422),
        ("/api/data/download?exchange=kraken&symbol=..%2F..%2Fx&timeframe=1h", 422),
        ("/api/data-coverage?symbol=/etc/passwd", 422),
        ("/api/data-jobs/999", 404),
        ("/api/data-jobs/abc", 422),
        ("/api/compare?runs=20260101T000000Z-secret", 422),
    ],
)
def test_paths_never_escape_and_never_fail_with_500(client, path, status):
    answer = client.get(path)
    assert answer.status_code == status, answer.text
    assert "CONTENT-OUTSIDE" not in answer.text and "root:" not in answer.text


def test_secrets_never_appear_in_answers(client):
    for path in ("/api/runs/20260101T000000Z-secret", "/api/runs/20260101T000000Z-secret/artifacts/manifest.json"):
        text = client.get(path).text
        assert "KEY-123" not in text and "T-456" not in text and "***" in text


def test_off_loopback_every_call_needs_the_token(roots):
    with pytest.raises(Exception, match="--token"):
        create_app(ServiceSettings(lake=roots[0], runs=roots[1], host="0.0.0.0"))
    app = create_app(ServiceSettings(lake=roots[0], runs=roots[1], host="0.0.0.0", token="s3cret", workers=1))
    with TestClient(app) as c:
        assert c.get("/api/runs").status_code == 401
        assert c.get("/data").status_code == 401
        assert c.get("/api/runs", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert c.get("/api/runs", headers={"Authorization": "Bearer s3cret"}).status_code == 200
        assert c.get("/health").status_code == 200
        c.get("/data?token=s3cret")  # sets the cookie
        assert c.get("/api/runs").status_code == 200
