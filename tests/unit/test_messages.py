# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a user reads: the relaunch summary and the selection messages, in the right number for one host or many."""

from __future__ import annotations

import pytest

from ansible_collections.relaunch.status.plugins.plugin_utils._core.errors import counted
from ansible_collections.relaunch.status.plugins.plugin_utils._core.recorder import STATUSES
from ansible_collections.relaunch.status.plugins.plugin_utils._core.selection import Selection
from ansible_collections.relaunch.status.plugins.plugin_utils._core.summary import relaunch_summary
from ansible_collections.relaunch.status.plugins.plugin_utils._selector import limit_messages, renames


def head(complete=True, **counts):
    return {
        "run_id": "20260101T000000000000Z-1-abcd",
        "complete": complete,
        "retry_counts": {status: counts.get(status, 0) for status in STATUSES},
    }


def failed_host(name, failure=None):
    return {"name": name, "statuses": ["all", "failed"], "first_failure": failure}


def test_counted():
    assert [counted(n, "host") for n in (0, 1, 2)] == ["0 hosts", "1 host", "2 hosts"]


def test_summary_says_host_and_hosts():
    failure = {"task": "Deploy", "unreachable": False, "message": "boom"}
    hosts = [failed_host("a", failure), failed_host("b"), failed_host("c"), failed_host("d", failure)]
    summary = relaunch_summary(head(all=4, failed=4), hosts, "/srv/.relaunch/site", "CMD")
    assert "  2 hosts failed at TASK [Deploy]: boom\n      a, d\n" in summary
    assert (
        "  2 hosts failed because of other hosts (any_errors_fatal, max_fail_percentage or a failed run_once task)\n"
        in summary
    )
    one = relaunch_summary(head(all=1, failed=1), [failed_host("b")], "/srv/.relaunch/site", "CMD")
    assert "  1 host failed because of other hosts (" in one
    assert one.endswith("  relaunch on the failed hosts:\n    CMD")


@pytest.mark.parametrize(
    ("counts", "heading"),
    [
        ({"failed": 1, "not_run": 2}, "to finish the job, relaunch on the failed and not_run hosts:"),
        ({"not_run": 2}, "to finish the job, relaunch on the not_run hosts:"),
    ],
)
def test_summary_of_an_unfinished_job_says_how_to_finish_it(counts, heading):
    summary = relaunch_summary(head(complete=False, all=3, **counts), [], "/srv/.relaunch/site", "CMD")
    assert summary.splitlines()[0].endswith(" (interrupted)")
    assert summary.endswith(f"  {heading}\n    CMD")
    without_limit = relaunch_summary(head(complete=False, all=3, **counts), [], "/srv/.relaunch/site", None)
    assert (
        f"-e relaunch_hosts={','.join(status for status in ('failed', 'not_run') if status in counts)}" in without_limit
    )


def test_nothing_to_relaunch_says_nothing():
    assert "relaunch on" not in relaunch_summary(head(all=2, ok=2), [], "/srv/.relaunch/site", None)


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (1, "1 recorded host is not selected because it cannot be found"),
        (2, "2 recorded hosts are not selected because they cannot be found"),
    ],
)
def test_unresolved_hosts_message(count, expected):
    selection = Selection()
    selection.unresolved = [{"name": f"h{index}", "reason": "no current host has that name"} for index in range(count)]
    assert limit_messages(selection)[0].startswith(expected)


@pytest.mark.parametrize(
    ("provisioned", "expected"),
    [
        (
            ["new1"],
            "host new1 was provisioned by the implicit localhost; "
            "the limit names localhost beside the other hosts so that the relaunch re-creates it",
        ),
        (
            ["new1", "new2"],
            "hosts new1, new2 were provisioned by the implicit localhost; "
            "the limit names localhost beside the other hosts so that the relaunch re-creates them",
        ),
    ],
)
def test_implicit_provisioned_message(provisioned, expected):
    selection = Selection()
    selection.hosts, selection.provisioned, selection.implicit_provisioners, selection.limit = (
        ["a"],
        provisioned,
        ["localhost"],
        "a,localhost",
    )
    assert limit_messages(selection) == [expected]


@pytest.mark.parametrize(
    ("renamed", "expected"),
    [
        ({"old": "new"}, "1 host was renamed since the run and is selected by its current name: old -> new"),
        (
            {"a": "b", "c": "d"},
            "2 hosts were renamed since the run and are selected by their current names: a -> b, c -> d",
        ),
    ],
)
def test_renamed_message(renamed, expected):
    selection = Selection()
    selection.renamed = renamed
    assert renames(selection) == expected
