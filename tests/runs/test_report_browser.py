"""report.html in a real Chromium: every chart drawn offline, no console error, hover labels, dates on the x axis."""

from __future__ import annotations

import re

import pytest

# a (token) training run and a browser; the browser first, so a machine without one skips at once
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("browser_context")]

MONTH_DAY = re.compile(r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{1,2}")
HOUR_UTC = re.compile(r"2020-0[23]-\d\d \d\d:00 UTC")  # the tiny run's test bars: Feb 21 to Mar 3, 2020


def test_report_charts_render_offline_with_hover_and_dates(tiny_run_dir, browser_page):
    page = browser_page.page
    page.goto((tiny_run_dir / "report.html").as_uri())
    ids = page.evaluate("FIGURES.map(f => f.id)")
    assert ids == ["price", "equity", "drawdown", "exposure", "reward_terms", "training"]
    page.wait_for_function(f"document.querySelectorAll('.js-plotly-plot').length === {len(ids)}")
    for chart in ids:
        drawn = page.locator(f"#chart-{chart} .main-svg").count()
        paths = page.locator(f"#chart-{chart} .mlayer .trace path").count()
        assert drawn >= 1 and paths >= 1, f"{chart}: {drawn} svg layers, {paths} trace paths drawn"
    assert page.locator("#chart-price .boxlayer:not(.rangeplot) .trace path").count() > 100  # the candles

    # hover the middle of the equity plot: a unified label naming the agent and the bar's UTC hour
    page.locator("#chart-equity").scroll_into_view_if_needed()
    area = page.locator("#chart-equity .nsewdrag").first.bounding_box()
    page.mouse.move(area["x"] + area["width"] / 2, area["y"] + area["height"] / 2)
    label = page.locator("#chart-equity .hoverlayer .legend")
    label.wait_for(timeout=5000)
    text = label.text_content()
    assert "agent" in text and HOUR_UTC.search(text), text

    ticks = page.locator("#chart-equity .xtick text").all_text_contents()
    assert ticks and all(MONTH_DAY.search(t) for t in ticks), ticks
    browser_page.assert_clean()  # no console or page error, nothing fetched from the network
