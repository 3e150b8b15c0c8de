# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A run's life in plain Python (_core/run.py): the claim of its directory, the recovery of a run that died, the
journal, and the manifest its finish publishes; no Ansible involved."""

from __future__ import annotations

import atexit
import json
import os
import signal
import stat
from pathlib import Path

import pytest

from ansible_collections.relaunch.status.plugins.plugin_utils._core import store
from ansible_collections.relaunch.status.plugins.plugin_utils._core.errors import RelaunchError
from ansible_collections.relaunch.status.plugins.plugin_utils._core.run import PlaybookRun, Runs

KEEP = 5


@pytest.fixture
def runs():
    """Runs whose interrupt handler only counts its calls; the SIGTERM handler and atexit hook are undone after."""
    previous_sigterm = signal.getsignal(signal.SIGTERM)
    interrupts: list[bool] = []
    runs = Runs(interrupts.append)
    runs.interrupts = interrupts
    yield runs
    atexit.unregister(runs._at_exit)
    signal.signal(signal.SIGTERM, previous_sigterm)


@pytest.fixture
def playbook(tmp_path: Path) -> str:
    path = tmp_path / "project" / "site.yml"
    path.parent.mkdir()
    path.write_text("- hosts: all\n  tasks: []\n")
    return str(path)


def record_a_failure(run: PlaybookRun) -> None:
    run.emit(
        {
            "e": "start",
            "run_id": run.run_id,
            "playbook": run.playbook,
            "started": store.layout.utc_now(),
            "invocation": {"limit": "", "inventory": ["inventory"], "tags": ["all"], "skip_tags": []},
            "passwords_needed_to_start": [],
            "check_mode": False,
            "ansible_version": "2.21.0",
        }
    )
    for name in ("web1", "web2"):
        run.emit({"e": "host", "name": name, "identity": None, "identity_var": None})
    run.emit({"e": "play", "name": "play", "batch": ["web1", "web2"], "pending": []})
    run.emit({"e": "result", "host": "web1", "outcome": "changed"})
    run.emit(
        {
            "e": "result",
            "host": "web2",
            "outcome": "failed",
            "ignored": False,
            "rescued": False,
            "play": "play",
            "task": "Deploy",
            "action": "fail",
            "msg": "boom",
        }
    )


def manifest(run: PlaybookRun) -> dict:
    return json.loads(Path(run.directory, run.run_id + ".json").read_text())


def test_open_claims_a_private_run_directory_and_starts_a_journal(runs: Runs, playbook: str, tmp_path: Path):
    run = runs.open(str(tmp_path / "manifests"), playbook, KEEP)
    assert run.directory == str(tmp_path / "manifests" / "site")
    assert stat.S_IMODE(os.stat(run.directory).st_mode) == 0o700
    assert store.layout.RUN_ID.match(run.run_id)
    assert os.path.isfile(run.journal.path) and run.journal.path.startswith(run.directory + os.sep)
    assert run.playbook == playbook and runs.in_this_process()


def test_finish_publishes_the_manifest_and_removes_the_journal(runs: Runs, playbook: str, tmp_path: Path):
    run = runs.open(str(tmp_path / "manifests"), playbook, KEEP)
    record_a_failure(run)
    snapshot, warning = run.finish(True, KEEP, ["all", "web"], {"web1", "web2"})
    assert warning is None and snapshot.head["retry_counts"]["failed"] == 1
    assert not os.path.exists(run.journal.path)
    written = manifest(run)
    assert written["complete"] is True and written["tasks_ran"] is True
    assert json.loads(Path(run.directory, "latest.json").read_text())["run_id"] == run.run_id
    assert Path(run.directory, "failed.limit").read_text() == "web2\n"


def test_an_interrupted_finish_writes_an_incomplete_manifest(runs: Runs, playbook: str, tmp_path: Path):
    run = runs.open(str(tmp_path / "manifests"), playbook, KEEP)
    record_a_failure(run)
    snapshot, warning = run.finish(False, KEEP, [], None)
    assert warning is None and snapshot.head["complete"] is False
    assert manifest(run)["complete"] is False
    assert not os.path.exists(run.journal.path)


def test_the_next_run_recovers_the_journal_of_a_run_that_died(runs: Runs, playbook: str, tmp_path: Path):
    dead = runs.open(str(tmp_path / "manifests"), playbook, KEEP)
    record_a_failure(dead)
    dead.journal.close(remove=False)  # what the kernel does when its process dies: the lock is released
    assert not os.path.exists(os.path.join(dead.directory, dead.run_id + ".json"))

    after = runs.open(str(tmp_path / "manifests"), playbook, KEEP)
    assert after.directory == dead.directory and after.run_id != dead.run_id
    recovered = manifest(dead)
    assert recovered["complete"] is False and recovered["retry_counts"]["failed"] == 1
    assert not os.path.exists(dead.journal.path)
    assert os.path.exists(after.journal.path)


def test_a_live_run_is_not_recovered_by_another(runs: Runs, playbook: str, tmp_path: Path):
    alive = runs.open(str(tmp_path / "manifests"), playbook, KEEP)
    record_a_failure(alive)
    runs.open(str(tmp_path / "manifests"), playbook, KEEP)
    assert os.path.exists(alive.journal.path)
    assert not os.path.exists(os.path.join(alive.directory, alive.run_id + ".json"))


@pytest.mark.parametrize("under", ["", "relaunch"])
def test_an_unwritable_manifest_directory_is_one_line_that_says_what_to_do(
    runs: Runs, playbook: str, tmp_path: Path, under: str
):
    blocker = tmp_path / "blocker"
    blocker.write_text("not a directory\n")
    with pytest.raises(RelaunchError) as raised:
        runs.open(str(blocker / under if under else blocker), playbook, KEEP)
    message = str(raised.value)
    assert str(blocker) in message and "RELAUNCH_MANIFEST_DIR" in message and "\n" not in message
    assert blocker.read_text() == "not a directory\n"


def test_a_directory_lost_before_the_finish_is_a_warning_not_an_error(runs: Runs, playbook: str, tmp_path: Path):
    run = runs.open(str(tmp_path / "manifests"), playbook, KEEP)
    record_a_failure(run)
    for name in os.listdir(run.directory):
        os.unlink(os.path.join(run.directory, name))
    os.rmdir(run.directory)
    Path(run.directory).write_text("in the way\n")
    snapshot, warning = run.finish(True, KEEP, [], None)
    assert snapshot is None
    assert warning.startswith("manifest not written: ") and run.directory in warning and "\n" not in warning
    assert run.not_written and run.not_written in warning  # what the summary's place says
