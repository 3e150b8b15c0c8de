# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Eight runs of one playbook at once into one manifest directory, with pruning down to 3 racing the writes."""

from __future__ import annotations

import json
import threading

from ansible_collections.relaunch.status.plugins.plugin_utils._core import store
from tests.fixtures import one_breaks_two, play
from tests.reliability.conftest import Live, check_manifest, check_store
from tests.runner import write_files

RUNS = 8
KEEP = 3

FILES = {"site.yml": play("together", "all", one_breaks_two("sleep 0.3"))}
INVENTORY = "[web]\n" + "".join(f"h{index} ansible_connection=local\n" for index in range(1, 5))


class Watcher(threading.Thread):
    """Reads latest.json and every manifest over and over while the runs go on."""

    def __init__(self, run_dir) -> None:
        super().__init__(daemon=True)
        self.run_dir = run_dir
        self.stop = threading.Event()
        self.run_ids: set[str] = set()  # from journals and manifests seen
        self.manifests: dict[str, dict] = {}  # run id -> manifest as first seen
        self.latest_reads = 0
        self.errors: list[str] = []

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self.look()
            except Exception as exc:  # recorded, reported by the test
                self.errors.append(f"{type(exc).__name__}: {exc}")
            self.stop.wait(0.002)

    def look(self) -> None:
        if not self.run_dir.is_dir():
            return
        try:
            data = (self.run_dir / "latest.json").read_bytes()
        except FileNotFoundError:
            pass
        else:
            check_manifest(data, "latest.json")  # never torn
            self.latest_reads += 1
        for path in self.run_dir.iterdir():
            name = path.name
            if name.endswith(store.layout.JOURNAL) and store.layout.RUN_ID.match(name[: -len(store.layout.JOURNAL)]):
                self.run_ids.add(name[: -len(store.layout.JOURNAL)])
            elif name.endswith(".json") and store.layout.RUN_ID.match(path.stem) and path.stem not in self.manifests:
                try:
                    data = path.read_bytes()
                except FileNotFoundError:
                    continue  # pruned meanwhile
                self.manifests[path.stem] = check_manifest(data, name)
                self.run_ids.add(path.stem)


def test_eight_runs_at_once_into_one_directory(tmp_path):
    write_files(tmp_path, FILES)
    for index in range(RUNS):
        (tmp_path / f"inventory{index}.ini").write_text(INVENTORY)  # tells the runs' manifests apart
    manifest_dir = tmp_path / "manifests"
    run_dir = manifest_dir / "site"
    watcher = Watcher(run_dir)
    watcher.start()
    env = {"RELAUNCH_MANIFEST_DIR": str(manifest_dir), "RELAUNCH_KEEP": str(KEEP)}
    runs = [Live(tmp_path, "-i", f"inventory{index}.ini", env=env, name=f"run{index}") for index in range(RUNS)]
    codes = [run.wait() for run in runs]
    watcher.stop.set()
    watcher.join()
    watcher.look()  # one last look after every run ended

    assert not watcher.errors, watcher.errors[:5]
    assert watcher.latest_reads > 0
    for run, rc in zip(runs, codes):
        assert rc == 2, run.stdout + run.stderr
        assert "WARNING" not in run.stderr and "Traceback" not in run.stderr, run.stderr
        assert "RELAUNCH SUMMARY" in run.stdout  # its own manifest was published
    # Each run was seen, by its pid in the run id.
    by_pid = {run_id.split("-")[1]: run_id for run_id in watcher.run_ids}
    assert sorted(by_pid) == sorted(str(run.pid) for run in runs)
    assert len(watcher.run_ids) == RUNS
    # Every manifest seen was complete and of its own run.
    for run_id, manifest in watcher.manifests.items():
        assert manifest["run_id"] == run_id and manifest["complete"] is True
        assert manifest["retry_counts"]["failed"] == 1 and manifest["retry_counts"]["all"] == 4
    inventories = {manifest["invocation"]["inventory"][0] for manifest in watcher.manifests.values()}
    assert len(inventories) == len(watcher.manifests)

    # In the end: latest.json names the newest run, exactly KEEP manifests remain, the newest among them.
    latest = check_store(run_dir)
    newest = max(watcher.run_ids)
    assert latest["run_id"] == newest
    remaining = sorted(path.stem for path in run_dir.glob("*.json") if store.layout.RUN_ID.match(path.stem))
    assert remaining == sorted(watcher.run_ids)[-KEEP:]
    assert not list(run_dir.glob("*" + store.layout.JOURNAL)) and not list(run_dir.glob(".*.tmp"))
    assert (run_dir / "failed.limit").read_text().split() == ["h2"]
    # latest.json is the rollout's state: every host's entry from the newest run, which ran them all; a run that
    # began before it and finished after it was merged into it (runs > 1) without replacing those entries.
    own = json.loads((run_dir / f"{latest['run_id']}.json").read_text())
    assert latest["hosts"] == own["hosts"] and latest["retry_counts"] == own["retry_counts"]
