# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The benchmark harness at a tiny size, so that it cannot rot. Never asserts on timings."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT


def test_harness_runs_and_writes_its_results(tmp_path):
    out = tmp_path / "results"
    completed = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
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
