# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``ansible-relaunch report`` at scale: 20,000 hosts x 20 kept runs.

Measures the time of the command (text, --html and --junit written, as a user runs it; CPU time, the figure to
trust on a shared machine, and wall-clock time, the median of a few rounds), the size of the page,
and the time headless Chromium takes to render it (from navigation to the grid drawn), when Playwright and
/usr/bin/chromium are there. ``python -m bench.report_size [--hosts N] [--runs N]`` prints the figures as JSON;
``bench --only report`` adds them to results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .common import ROOT, ensure_collection, load_average, median, record_run

ensure_collection()

from ansible_collections.relaunch.status.plugins.plugin_utils._core import store  # noqa: E402
from ansible_collections.relaunch.status.plugins.plugin_utils._core.recorder import Recorder  # noqa: E402
from ansible_collections.relaunch.status.plugins.plugin_utils._core.selection import limit_file_texts  # noqa: E402

CLI = "ansible_collections.relaunch.status.plugins.plugin_utils._cli"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"]
MESSAGES = ("disk full on /var", "timeout after {n}s waiting for port 443", "package web-{n} not found")


def outcome_of(chance: random.Random) -> str:
    """Mostly ok or changed; 3 % failed, 0.5 % unreachable, as a large estate's day looks."""
    roll = chance.random()
    if roll < 0.03:
        return "failed"
    if roll < 0.035:
        return "unreachable"
    return "changed" if roll < 0.3 else "ok"


def publish_run(directory: Path, hosts: int, chance: random.Random) -> None:
    """One run of ``hosts`` hosts, recorded and published as the callback does it."""
    recorder = Recorder()
    names = [f"web{index:05d}.example.org" for index in range(hosts)]
    results = []
    for _name in names:  # drawn in this order, so that a seed gives the same runs as before
        outcome = outcome_of(chance)
        results.append((outcome, chance.choice(MESSAGES).format(n=chance.randrange(100))))
    record_run(
        recorder.apply,
        names,
        results,
        run_id=store.layout.new_run_id(),
        started=store.layout.utc_now(),
        playbook=str(directory.parent.parent / "site.yml"),
    )
    manifest = recorder.manifest(complete=True, finished=store.layout.utc_now())
    store.publishing.publish(str(directory), manifest, 20, lambda found: limit_file_texts(found, ["all"]))


def render_seconds(page_file: Path) -> float | None:
    """Seconds from navigation to the grid drawn in headless Chromium; None without Playwright or Chromium."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    if not os.access(CHROMIUM, os.X_OK):
        return None
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 820})
            begin = time.perf_counter()
            page.goto(page_file.as_uri())
            page.wait_for_selector("#grid-body .row")
            page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
            return round(time.perf_counter() - begin, 2)
        finally:
            browser.close()


def run(workroot: Path, hosts: int = 20000, runs: int = 20, rounds: int = 3) -> dict:
    """The figures of the report of ``runs`` kept runs of ``hosts`` hosts: the command run ``rounds`` times (medians,
    and every sample), then the page rendered once."""
    project = workroot / "report"
    directory = project / ".relaunch" / "site"
    directory.mkdir(parents=True, exist_ok=True)
    (project / "site.yml").write_text("- hosts: all\n  tasks: []\n")
    chance = random.Random(20000)
    for _number in range(runs):
        publish_run(directory, hosts, chance)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "build" / "collections")}
    command = [sys.executable, "-m", CLI, "report", str(directory), "--html", "report.html", "--junit", "report.xml"]
    load_before = load_average()
    walls, cpus = [], []
    for _round in range(rounds):
        cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        begin = time.perf_counter()
        subprocess.run(command, cwd=project, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        walls.append(time.perf_counter() - begin)
        cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append((cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime))
    return {
        "hosts": hosts,
        "runs": runs,
        "rounds": rounds,
        "command_s": round(median(walls), 2),
        "command_cpu_s": round(median(cpus), 2),  # less sensitive than wall time to other work on the machine
        "command_samples": [round(value, 2) for value in walls],
        "command_cpu_samples": [round(value, 2) for value in cpus],
        "load_average": [load_before, load_average()],
        "html_mb": round((project / "report.html").stat().st_size / 1e6, 2),
        "junit_mb": round((project / "report.xml").stat().st_size / 1e6, 2),
        "render_s": render_seconds(project / "report.html"),
        "targets": {"command_s": 5, "html_mb": 10, "render_s": 3},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.report_size", description=__doc__)
    parser.add_argument("--hosts", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3, help="times the command is run (default: %(default)s)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="relaunch-report-bench-") as tmp:
        print(json.dumps(run(Path(tmp), args.hosts, args.runs, args.rounds), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
