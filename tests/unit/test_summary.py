# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The figures of the relaunch summary read right at a glance: each host once, then per outcome of its tasks; no
figures when no host ran a task, and never a summary of zeros."""

from __future__ import annotations

from ansible_collections.relaunch.status.plugins.plugin_utils._core.recorder import STATUSES
from ansible_collections.relaunch.status.plugins.plugin_utils._core.summary import relaunch_summary

DIRECTORY = "/srv/.relaunch/site"


def head(complete=True, tasks_ran=True, **counts):
    return {
        "run_id": "20260101T000000000000Z-1-abcd",
        "complete": complete,
        "tasks_ran": tasks_ran,
        "retry_counts": {status: counts.get(status, 0) for status in STATUSES},
    }


def failed(name, *statuses):
    return {"name": name, "statuses": ["all", "failed", *statuses], "first_failure": None}


def test_failed_says_how_many_of_them_were_unreachable_and_task_outcomes_have_their_own_line():
    counts = {"all": 7, "failed": 3, "unreachable": 1, "changed": 2, "ok": 6, "skipped": 4}
    hosts = [failed("a", "ok"), failed("b", "ok", "changed"), failed("dead", "unreachable")]
    lines = relaunch_summary(head(**counts), hosts, DIRECTORY, "CMD").splitlines()
    assert lines[1] == "  all=7  failed=3 (1 unreachable)  not_run=0"
    assert lines[2] == "  hosts with at least one task: changed=2  ok=6  skipped=4  rescued=0  ignored=0"


def test_no_unreachable_host_is_not_mentioned():
    summary = relaunch_summary(head(all=2, failed=1, ok=2), [failed("a", "ok")], DIRECTORY, "CMD")
    assert "  all=2  failed=1  not_run=0\n" in summary and "unreachable" not in summary


def test_a_refused_relaunch_shows_no_failures_of_the_hosts():
    # The select role failed on every host: the selection's failure, not the hosts'.
    summary = relaunch_summary(head(tasks_ran=False, all=7, failed=7), [failed("a")] * 7, DIRECTORY, None, True)
    assert "failed=" not in summary and "=" not in summary.split("\n", 1)[1]
    assert "none of the 7 hosts ran a task but the relaunch selection" in summary
    assert summary.splitlines()[0] == "RELAUNCH SUMMARY: /srv/.relaunch/site/20260101T000000000000Z-1-abcd.json"
    assert summary.endswith("latest.json and its limit files are unchanged")


def test_a_run_that_saw_no_host_is_one_line_and_no_zeros():
    summary = relaunch_summary(head(complete=False, tasks_ran=False), [], DIRECTORY, None, absolute_paths=True)
    assert summary == (
        "RELAUNCH SUMMARY: no host ran (interrupted); /srv/.relaunch/site/latest.json and its limit files are unchanged"
    )
