"""Real-browser test fixtures: Playwright driving the system's Chromium (Debian's ``/usr/bin/chromium``).

Playwright's own browser download does not work offline, so the browser is the one
``scripts/install-browser.sh`` installs (or ``TRADECORE_CHROMIUM`` names). Tests using these fixtures
skip, with the reason, only when Playwright or a launchable Chromium is missing.

- ``browser_context`` (session): one headless Chromium with a fresh profile; it may load only
  ``file:``, ``data:`` and ``blob:`` URLs and servers on 127.0.0.1/localhost -- anything else is
  blocked and recorded, so a page that would need the internet fails its test.
- ``browser_page``: a :class:`BrowserPage` -- a new tab plus the console errors, page errors and
  blocked requests seen while the test ran; call ``assert_clean()`` after driving it.

tests/conftest.py re-exports both, so every test under tests/ can ask for ``browser_page``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

CHROMIUM = "/usr/bin/chromium"
#: headless, no GPU, and nothing that phones home (updates, sync, QUIC probes)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}
VIEWPORT = {"width": 1280, "height": 900}


def chromium_executable() -> str | None:
    """``TRADECORE_CHROMIUM``, else Debian's Chromium, else one on PATH."""
    named = os.environ.get("TRADECORE_CHROMIUM")
    if named:
        return named
    if Path(CHROMIUM).is_file():
        return CHROMIUM
    return shutil.which("chromium") or shutil.which("chromium-browser")


def is_local(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("file", "data", "blob", "about") or parts.hostname in LOCAL_HOSTS


@dataclass
class BrowserPage:
    """A tab and what went wrong in it: console errors, uncaught page errors, blocked (non-local) requests."""

    page: Any
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    blocked_requests: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        problems = (
            [f"console: {m}" for m in self.console_errors]
            + [f"page error: {m}" for m in self.page_errors]
            + [f"blocked request: {u}" for u in self.blocked_requests]
        )
        assert not problems, "\n".join(problems)


# Module scope, not session: Playwright's sync API keeps an asyncio loop running in this thread until it
# stops, and later tests that call asyncio.run() (the streaming tests, say) fail while it runs.
@pytest.fixture(scope="module")
def browser_context(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed: pip install -e '.[test]'")
    executable = chromium_executable()
    if executable is None:
        pytest.skip(f"no Chromium at {CHROMIUM} or on PATH: run scripts/install-browser.sh (or set TRADECORE_CHROMIUM)")
    manager = sync_playwright().start()
    try:
        context = manager.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=executable,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport=VIEWPORT,
        )
    except Error as exc:
        manager.stop()
        pytest.skip(f"Chromium at {executable} does not launch: {str(exc).splitlines()[0]}")
    try:
        yield context
    finally:
        context.close()
        manager.stop()


@pytest.fixture
def browser_page(browser_context: Any) -> Iterator[BrowserPage]:
    page = browser_context.new_page()
    seen = BrowserPage(page)
    page.on("console", lambda m: seen.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: seen.page_errors.append(str(exc)))

    def only_local(route: Any) -> None:
        if is_local(route.request.url):
            route.continue_()
        else:
            seen.blocked_requests.append(route.request.url)
            route.abort()

    page.route("**/*", only_local)
    try:
        yield seen
    finally:
        page.close()
