# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The page of ``ansible-relaunch report --html`` in a real headless Chromium, driven by Playwright.

Debian's ``chromium`` package is used as it is (never ``playwright install``, which downloads a browser). Without
Chromium or Playwright the test skips, unless CI is set: then it fails, so that CI cannot skip it silently.
``RELAUNCH_UPDATE_SCREENSHOT=1`` saves the page as docs/report.png.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.e2e.test_report import HOSTS, four_runs, report

CHROMIUM = os.environ.get("RELAUNCH_CHROMIUM", "/usr/bin/chromium")
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
OUTCOME_OF = {"chronic": "failed", "flaky": "ok", "gone": "unreachable", "ok1": "ok"}  # in the newest run


def sync_playwright():
    """Playwright's entry point; skips (fails under CI) when Playwright or Chromium is missing."""
    missing = []
    try:
        from playwright.sync_api import sync_playwright as entry
    except ImportError:
        entry = None
        missing.append("the playwright package (pip install -r requirements-test.txt)")
    if not os.access(CHROMIUM, os.X_OK):
        missing.append(f"{CHROMIUM} (apt-get install -y chromium)")
    if missing:
        reason = "the browser test needs " + " and ".join(missing)
        if os.environ.get("CI"):
            pytest.fail(reason + "; CI is set, so it is not skipped")
        pytest.skip(reason)
    return entry


def test_the_page_renders_offline_and_shows_each_cell(tmp_path):
    entry = sync_playwright()
    run_ids = four_runs(tmp_path)
    done = report(tmp_path, "site.yml", "--html", "report.html")
    assert done.returncode == 0, done.stderr
    url = (tmp_path / "report.html").as_uri()
    requests: list[str] = []
    errors: list[str] = []

    def only_the_page(route) -> None:
        requests.append(route.request.url)
        if route.request.url == url:
            route.continue_()
        else:
            route.abort()

    with entry() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 820})
            page.route("**/*", only_the_page)
            page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(url)
            page.wait_for_selector("#grid-body .row")

            names = page.locator("#grid-body .row .name").all_inner_texts()
            assert names == HOSTS
            for name in HOSTS:
                cells = page.locator(f'#grid-body .row[data-name="{name}"] .cell')
                titles = [cells.nth(index).get_attribute("title") for index in range(cells.count())]
                assert [title.split(" \u00b7 ")[1] for title in titles] == run_ids  # every run, oldest first
                newest = cells.nth(len(run_ids) - 1)
                newest.hover()
                assert newest.get_attribute("title") == f"{name} \u00b7 {run_ids[-1]} \u00b7 {OUTCOME_OF[name]}"

            page.locator('#grid-body .row[data-name="gone"] .cell').nth(2).click()
            detail = page.locator("#detail")
            assert detail.is_visible()
            assert page.locator("#d-host").inner_text() == "gone"
            assert page.locator("#d-run").inner_text() == run_ids[2]
            assert page.locator("#d-outcome").inner_text() == "unreachable"
            assert page.locator("#d-time").inner_text().startswith("20")
            assert "ssh" in page.locator("#d-message").inner_text().lower()
            assert "done 2" in page.locator("#rollout").inner_text().replace("\n", " ")
            if os.environ.get("RELAUNCH_UPDATE_SCREENSHOT") == "1":
                page.screenshot(path=str(Path(ROOT) / "docs" / "report.png"), full_page=True)
        finally:
            browser.close()
    assert errors == []
    assert requests == [url]  # nothing but the page itself: no font, stylesheet or script from anywhere
