# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The benchmark harness at a tiny size, so that it cannot rot. Never asserts on timings."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT


def run_bench(tmp_path, *options: str):
    """``python -m bench --smoke OPTIONS``; its results directory. Fails with the end of its stderr."""
    out = tmp_path / "results"
    completed = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", *options, "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return out


def test_harness_runs_and_writes_its_results(tmp_path):
    out = run_bench(tmp_path)
    results = json.loads((out / "results.json").read_text())
    # Every part ran and measured each of its arms and paths, on the ansible-core of this venv.
    from ansible.release import __version__

    line = ".".join(__version__.split(".")[:2])
    assert results["cores"][line]["ansible_core"] == __version__
    overhead = results["overhead"]["sizes"][0]["cores"][line]
    assert set(overhead["arms"]) == {"none", "relaunch"}
    assert overhead["relaunch_manifest_written"] is True
    assert [entry["hosts"] for entry in results["core"]["speed"]] == [200, 400]
    assert results["core"]["speed"][0]["limit_files"], "publish wrote no limit file"
    paths = set(results["selection"]["sizes"][0]["cores"][line]["paths"])
    assert {"none", "limit_file", "naive_file", "naive_list"} <= paths
    for plugin in ("groups", "lookup"):
        assert plugin in paths or any(note.startswith(plugin) for note in results["selection"]["notes"])
    assert "### Targets" in (out / "results.md").read_text()
    assert (out / "performance.png").stat().st_size > 0


def test_the_median_interval_is_the_order_statistics_the_binomial_gives():
    from bench.common import median_interval

    assert median_interval([float(value) for value in range(15)]) == [3.0, 11.0]  # the 4th and the 12th of 15
    assert median_interval([float(value) for value in range(40)]) == [13.0, 26.0]  # the 14th and the 27th of 40
    assert median_interval([1.0, 2.0, 3.0, 4.0, 5.0]) == []  # 5 samples give no 95% interval


def test_a_target_is_met_or_missed_only_when_the_interval_says_so():
    from bench.report import _verdict

    def arm(median, low, high):
        return {"cpu_ratio": median, "cpu_ratio_ci": [low, high]}

    assert _verdict(arm(1.01, 1.00, 1.019), "cpu", 1.02) == "met"
    assert _verdict(arm(1.03, 1.021, 1.04), "cpu", 1.02) == "**missed**"
    assert _verdict(arm(1.01, 0.99, 1.03), "cpu", 1.02) == "not resolved (median met)"
    assert _verdict(arm(1.03, 1.01, 1.05), "cpu", 1.02) == "not resolved (median **missed**)"


def test_the_command_benchmark_runs_both_cases(tmp_path):
    out = run_bench(tmp_path, "--only", "command")
    figures = json.loads((out / "results.json").read_text())["command"]
    for case in ("clean", "retry"):
        assert figures[case]["runs"] == 1 and figures[case]["wall_s"] > 0
    assert "ansible-relaunch run, retry" in (out / "results.md").read_text()


def test_the_report_and_grouping_benchmarks_run(tmp_path):
    out = run_bench(tmp_path, "--only", "report,grouping")
    results = json.loads((out / "results.json").read_text())
    assert results["report"]["rounds"] == 1 and results["report"]["html_mb"] >= 0
    for case in ("first", "relaunch"):
        entry = results["grouping"]["cases"][case]
        assert len(entry["cpu_samples"]) == len(entry["no_grouping_cpu_samples"]) == 1
        assert entry["summary_lines"] > 0
    text = (out / "results.md").read_text()
    assert "ansible-relaunch report at 50 hosts" in text and "failure grouping at the end of a relaunch run" in text


def test_a_recorded_run_has_the_events_the_callback_sends():
    from bench.common import record_run

    events = []
    record_run(events.append, ["a", "b"], [("ok", ""), ("unreachable", "gone")], run_id="r", started="s")
    assert [event["e"] for event in events] == ["start", "host", "host", "play", "result", "result", "verdict"]
    assert events[-1]["failed"] == ["b"] and events[1]["identity"] == "asset-00000"
