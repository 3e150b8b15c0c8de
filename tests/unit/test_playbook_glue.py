# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which results of the relaunch selection narrowed a run (the ``narrowed`` of its result events)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from ansible_collections.relaunch.status.plugins.plugin_utils._playbook import SELECTION_ACTION, narrowed


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
