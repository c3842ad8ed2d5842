"""The dashboard in a real browser (Playwright driving Debian's Chromium) against a live ``tradecore serve``:
submit a fetch and watch its card complete, see the coverage row, open a run and its charts, compare two runs.

``TRADECORE_SCREENSHOTS=docs/images`` also saves the screenshots the README shows.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from tests.service.conftest import LiveServer

pytestmark = pytest.mark.slow
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "quickstart-fast.json"


def tiny_manifest() -> dict:
    """The fast quickstart, small enough to train in seconds."""
    manifest = json.loads(EXAMPLE.read_text())
    manifest.pop("$schema")
    manifest["name"] = "tiny"
    manifest["source"]["params"]["bars"] = 3000
    trainer = manifest["trainer"]["params"]
    trainer.update(total_timesteps=8192, n_envs=32, n_steps=64, eval_freq=4096, checkpoint_freq=8192)
    return manifest


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A live server whose runs root holds two finished runs, the first started through the API."""
    root = tmp_path_factory.mktemp("dashboard")
    live = LiveServer(root / "lake", root / "runs")
    try:
        launch = live.client.post("/api/runs", json={"manifest": tiny_manifest()})
        assert launch.status_code == 202, launch.text
        deadline = time.time() + 300
        while time.time() < deadline:
            answer = live.client.get("/api/runs").json()
            state = answer["launches"][0]
            if state["status"] != "running" and state["status"] != "queued":
                break
            time.sleep(0.5)
        assert state["status"] == "exited" and state["run"], state
        first = root / "runs" / state["run"]
        shutil.copytree(first, first.with_name(first.name + "-again"))
        live.runs_names = [first.name, first.name + "-again"]
        yield live
    finally:
        live.stop()


def screenshot(page, name: str) -> None:
    folder = os.environ.get("TRADECORE_SCREENSHOTS")
    if folder:
        page.screenshot(path=str(Path(folder) / name), full_page=False)


def test_submit_a_fetch_see_the_card_complete_and_the_coverage_row(server, browser_page):
    page = browser_page.page
    page.goto(f"{server.url}/data")
    page.select_option("#exchange", "synthetic")
    page.fill("#symbol-free", "SYN/USD")
    page.select_option("#timeframe", "1h")
    page.fill("#start", "2023-01-01T00:00")
    page.fill("#end", "2023-03-01T00:00")
    page.click("#submit")
    page.wait_for_selector(".job [data-role=status]:text('completed')", timeout=60_000)
    row = page.wait_for_selector("tr[data-series='synthetic SYN/USD 1h']", timeout=10_000)
    assert "1,416" in row.inner_text()
    row.query_selector("button[data-gaps]").click()  # the series' holes, as `tradecore data gaps` reports them
    page.wait_for_selector("#gaps-summary:text('1,416 candles, 0 gaps')", timeout=30_000)
    page.click(".job button[data-action=validate]")
    page.wait_for_selector(".job [data-role=note]:text('validation: passed')", timeout=30_000)
    screenshot(page, "dashboard-data.png")
    browser_page.assert_clean()


def test_open_a_run_its_charts_render(server, browser_page):
    page = browser_page.page
    page.goto(f"{server.url}/runs")
    page.click(f"a:text('{server.runs_names[0]}')")
    page.wait_for_selector("#status:text('complete')")
    page.wait_for_function("document.querySelectorAll('#charts .chart .main-svg').length >= 4", timeout=30_000)
    assert page.locator("#charts .chart g.trace").count() >= 4  # drawn with data, not empty axes
    assert page.locator("#evaluation tbody tr").count() >= 2
    screenshot(page, "dashboard-run.png")
    browser_page.assert_clean()


def test_compare_two_runs(server, browser_page):
    page = browser_page.page
    page.goto(f"{server.url}/runs")
    for name in server.runs_names:
        page.check(f"input[data-pick='{name}']")
    page.click("#compare")
    page.wait_for_function("document.querySelectorAll('#charts .chart g.trace').length >= 2", timeout=30_000)
    assert page.locator("#summary thead th").count() == 3
    screenshot(page, "dashboard-compare.png")
    browser_page.assert_clean()
