"""End to end in a real headless Chromium: ``wfm dashboard`` -> coverage heatmap -> what-if.

Starts ``wfm dashboard`` on a free localhost port (tiny scenario, plan
pre-computed in a private cache), opens the coverage page, checks that the
gap heatmap is drawn by vega-embed, moves the what-if volume slider, checks
the what-if KPIs change, and saves screenshots (pytest's tmp folder, copied
to ``tests/dashboards/artifacts/``, which git ignores).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("WFM_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wfm_executable() -> list[str]:
    exe = Path(sys.executable).with_name("wfm")
    return [str(exe)] if exe.is_file() else [sys.executable, "-m", "wfm"]


@pytest.fixture()
def server(tiny_scenario: Path, dashboard_cache: Path, tmp_path: Path):
    """``wfm dashboard`` running on a free port; yields its base URL."""
    if not CHROMIUM.is_file():
        pytest.skip(f"Chromium is not installed at {CHROMIUM} (Debian package 'chromium'; "
                    ".ci/run installs it when it runs as root)")
    pytest.importorskip("playwright.sync_api", reason="Playwright's Python package is needed")
    port = _free_port()
    env = dict(os.environ, HOME=str(tmp_path), STREAMLIT_BROWSER_GATHER_USAGE_STATS="false")
    log = open(tmp_path / "server.log", "wb")
    proc = subprocess.Popen(
        [*_wfm_executable(), "dashboard", "--port", str(port), "--address", "127.0.0.1",
         "--scenario", str(tiny_scenario), "--cache-dir", str(dashboard_cache)],
        stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail("wfm dashboard exited early:\n"
                            + (tmp_path / "server.log").read_text(errors="replace"))
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("wfm dashboard did not answer within 60 s")
            time.sleep(0.3)
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        log.close()


def _save(page, tmp_path: Path, name: str) -> Path:
    shot = tmp_path / name
    page.screenshot(path=str(shot), full_page=True)
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(shot, ARTIFACTS / name)
    return shot


def _wait_idle(page) -> None:
    """Wait until the script run is over (no 'Running...' status) and charts settled."""
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=30_000)
    page.wait_for_timeout(500)


def _metric_value(page, label: str) -> str:
    card = page.locator('[data-testid="stMetric"]', has_text=label).first
    return card.locator('[data-testid="stMetricValue"]').inner_text()


def test_coverage_heatmap_and_what_if_in_chromium(server: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                     args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 2000})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))

            page.goto(server, wait_until="domcontentloaded")
            expect(page.get_by_role("heading", name="Coverage gaps", exact=True)).to_be_visible(
                timeout=60_000)
            # vega-embed draws each heatmap into a canvas (or svg) inside the chart element
            charts = page.locator('[data-testid="stVegaLiteChart"]')
            expect(charts.first).to_be_visible(timeout=30_000)
            drawn = charts.first.locator("canvas, svg").first
            expect(drawn).to_be_visible(timeout=30_000)
            box = drawn.bounding_box()
            assert box is not None and box["width"] > 300 and box["height"] > 50
            expect(page.get_by_text("Service level achieved").first).to_be_visible()
            assert page.locator('[data-testid="stException"]').count() == 0
            _wait_idle(page)
            _save(page, tmp_path, "coverage.png")

            page.goto(f"{server}/what-if", wait_until="domcontentloaded")
            expect(page.get_by_role("heading", name="What-if", exact=True)).to_be_visible(
                timeout=30_000)
            expect(page.locator('[data-testid="stVegaLiteChart"] canvas, '
                                '[data-testid="stVegaLiteChart"] svg').first).to_be_visible(
                timeout=30_000)
            before = _metric_value(page, "Under-staffed agent-hours")
            slider = page.get_by_role("slider", name="Volume ×")
            slider.focus()
            for _ in range(6):  # 1.0 -> 1.3 in steps of 0.05
                slider.press("ArrowRight")
            expect(page.get_by_text("volume x1.3").first).to_be_visible(timeout=30_000)
            # the last element of the rerun: both heatmaps and the lines are redrawn
            expect(page.locator('[data-testid="stMarkdown"]',
                                has_text="What-if (volume x1.3)")).to_be_visible(timeout=30_000)
            _wait_idle(page)
            after = _metric_value(page, "Under-staffed agent-hours")
            assert after != before, (before, after)
            assert page.locator('[data-testid="stException"]').count() == 0
            _save(page, tmp_path, "what_if.png")
            assert not errors, errors
        finally:
            browser.close()
