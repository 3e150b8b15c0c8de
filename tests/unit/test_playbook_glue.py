# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which results of the relaunch selection narrowed a run (the ``narrowed`` of its result events), and which limit
files the relaunch command of a run's summary uses."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from ansible_collections.relaunch.status.plugins.plugin_utils._core.store.limits import empty_limit_text
from ansible_collections.relaunch.status.plugins.plugin_utils._playbook import (
    SELECTION_ACTION,
    narrowed,
    relaunch_files,
)


def task(action: str, resolved: str | None = None) -> SimpleNamespace:
    """The two attributes of a Task that narrowed() reads."""
    return SimpleNamespace(action=action, resolved_action=resolved)


def test_a_relaunch_info_result_that_limited_the_play_narrowed_it():
    assert narrowed(task(SELECTION_ACTION), {"manifest_found": True, "limited": True})
    assert narrowed(task("relaunch_info", resolved=SELECTION_ACTION), {"manifest_found": True, "limited": True})


@pytest.mark.parametrize(
    "data",
    [
        {"manifest_found": False, "limited": True},  # no manifest yet: every host runs
        {"manifest_found": True, "limited": False},  # status all of a run without --limit
        {"manifest_found": True},
        {},
    ],
)
def test_a_selection_that_kept_every_host_did_not_narrow(data):
    assert not narrowed(task(SELECTION_ACTION), data)


def test_another_action_never_narrowed():
    assert not narrowed(task("ansible.builtin.debug"), {"manifest_found": True, "limited": True})


RUN_ID = "20260101T000000000000Z-1-abcd"


def test_the_relaunch_uses_the_runs_own_pending_limit_file(tmp_path):
    pending = tmp_path / f"{RUN_ID}.pending.limit"
    pending.write_text("web1\n")
    assert relaunch_files(str(tmp_path), RUN_ID, {"failed": 1, "not_run": 1}) == ([str(pending)], True)
    # A rollout with nothing left: the store's file that selects no host.
    pending.write_text(empty_limit_text("pending", RUN_ID))
    assert relaunch_files(str(tmp_path), RUN_ID, {"failed": 0}) == ([str(pending)], False)


def test_without_a_pending_limit_file_the_runs_failed_hosts_or_the_unfinished_job(tmp_path):
    assert relaunch_files(str(tmp_path), RUN_ID, {"failed": 2}) == ([str(tmp_path / f"{RUN_ID}.failed.limit")], None)
    files, pending = relaunch_files(str(tmp_path), RUN_ID, {"failed": 1, "not_run": 2})
    assert files == [str(tmp_path / "failed.limit"), str(tmp_path / "not_run.limit")] and pending is None
