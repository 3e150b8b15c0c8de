# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The figures of the relaunch summary read right at a glance: each host once, then per outcome of its tasks; no
figures when no host ran a task, and never a summary of zeros."""

from __future__ import annotations

from ansible_collections.relaunch.status.plugins.plugin_utils._core import failures
from ansible_collections.relaunch.status.plugins.plugin_utils._core.failures import group_id
from ansible_collections.relaunch.status.plugins.plugin_utils._core.recorder import STATUSES, Recorder
from ansible_collections.relaunch.status.plugins.plugin_utils._core.summary import failure_lines, relaunch_summary

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


RUN_MANIFEST = f"{DIRECTORY}/20260101T000000000000Z-1-abcd.json"


def test_a_merged_run_names_its_own_manifest_and_the_rollout():
    merged = dict(head(all=2, failed=1, ok=1), rollout={"started_by": "x", "runs": 2})
    summary = relaunch_summary(merged, [failed("a")], DIRECTORY, "CMD", absolute_paths=True)
    assert summary.splitlines()[0] == f"RELAUNCH SUMMARY: {RUN_MANIFEST}, merged into {DIRECTORY}/latest.json"
    # A schema-1 head (no rollout key) became latest.json, as every run did before rollouts.
    plain = relaunch_summary(head(all=2, failed=1, ok=1), [failed("a")], DIRECTORY, "CMD", absolute_paths=True)
    assert plain.splitlines()[0] == summary.splitlines()[0]


def test_a_run_merged_into_no_rollout_does_not_name_latest_json():
    unmerged = dict(head(complete=False, all=2, failed=1), rollout=None)
    first = relaunch_summary(unmerged, [failed("a")], DIRECTORY, "CMD", absolute_paths=True).splitlines()[0]
    assert first == f"RELAUNCH SUMMARY: {RUN_MANIFEST} (interrupted)"


def test_a_dry_run_says_so_and_offers_no_relaunch():
    dry = dict(head(all=3, failed=2, ok=1, not_run=1), check_mode=True, rollout=None)
    summary = relaunch_summary(dry, [failed("a"), failed("b")], DIRECTORY, "CMD", absolute_paths=True)
    assert summary.splitlines()[0] == (
        f"RELAUNCH SUMMARY: {RUN_MANIFEST} (dry run: --check; the rollout and its limit files are unchanged)"
    )
    assert "relaunch" not in summary.split("\n", 1)[1] and "CMD" not in summary
    assert "  all=3  failed=2  not_run=1" in summary  # what the dry run found is still shown


def test_the_command_relaunches_on_the_rollouts_pending_hosts():
    rollout = dict(head(all=3, ok=3), rollout={"started_by": "x", "runs": 2})
    # This run failed nowhere, but the rollout still has hosts to do: its pending.limit says so.
    summary = relaunch_summary(rollout, [], DIRECTORY, "CMD @x.pending.limit", rollout_pending=True)
    assert summary.endswith(
        "  to finish the rollout, relaunch on its pending hosts (failed or not run yet):\n    CMD @x.pending.limit"
    )
    done = relaunch_summary(rollout, [], DIRECTORY, "CMD", rollout_pending=False)
    assert "relaunch on" not in done
    no_limit = relaunch_summary(rollout, [], DIRECTORY, None, rollout_pending=True)
    assert no_limit.endswith("-e relaunch_hosts=pending")


def test_sixty_hosts_fit_in_about_ten_lines_of_failure_groups():
    hosts = []
    for number in range(1, 61):
        name, address = f"web{number:02d}", f"10.0.{number // 16}.{number}"
        entry = {"name": name, "identity": f"id-{name}", "statuses": ["all"], "first_failure": None}
        if number <= 20:
            message = f"Failed to connect to the host via ssh: ssh: connect to host {address} port 22: timed out"
            entry["first_failure"] = {"task": "Gather facts", "unreachable": True, "message": message}
            entry["statuses"] += ["failed", "unreachable"]
        elif number <= 32:
            kind = ("disk full on {}", "package missing on {}", "service down on {}")[number % 3]
            entry["first_failure"] = {"task": f"Step {number % 7}", "unreachable": False, "message": kind.format(name)}
            entry["statuses"].append("failed")
        else:
            entry["statuses"].append("ok")
        hosts.append(entry)
    counts = {"all": 60, "failed": 32, "unreachable": 20, "ok": 28}
    failed_hosts = [host for host in hosts if "failed" in host["statuses"]]
    lines = relaunch_summary(head(**counts), failed_hosts, DIRECTORY, "CMD").splitlines()
    groups = lines[3 : lines.index("  relaunch on the failed hosts:")]
    assert 2 <= len(groups) <= 10, "\n".join(lines)
    # The 20 unreachable hosts are one group, addresses and names masked, names sorted naturally.
    assert (
        groups[0] == "  20 hosts unreachable at TASK [Gather facts]: Failed to connect to the host via ssh: ssh: "
        "connect to host <ip> port <n>: timed out"
    )
    assert groups[1].startswith("      web01, web02, web03, ") and groups[1].endswith(" and 10 more")
    assert all(len(line) <= 160 for line in groups)
    assert not any("web" in line for line in groups[::2]), "a host name left in a cause line"


def failed_at(name: str, task: str) -> dict:
    host = failed(name)
    host["first_failure"] = {"task": task, "action": "fail", "unreachable": False, "message": "boom"}
    return host


def test_each_failure_group_gives_its_id_and_the_command_that_relaunches_exactly_it():
    hosts = [failed_at(f"web{number}", "Deploy") for number in range(3)] + [
        failed_at(f"db{n}", f"T{n}") for n in "1234"
    ]
    deploy, first_task = group_id("Deploy", "fail", False, "boom"), group_id("T1", "fail", False, "boom")
    commands = {deploy: f"ansible-playbook site.yml --limit @.relaunch/site/failure-{deploy}.limit"}
    summary = relaunch_summary(head(all=7, failed=7), hosts, DIRECTORY, "CMD", group_command=commands.get)
    lines = summary.splitlines()
    groups = lines[3 : lines.index("  relaunch on the failed hosts:")]
    assert len(groups) <= 10, summary
    assert groups[:3] == [
        "  3 hosts failed at TASK [Deploy]: boom",
        "      web0, web1, web2",
        f"      group {deploy}: ansible-playbook site.yml --limit @.relaunch/site/failure-{deploy}.limit",
    ]
    # A group without a limit file (beyond the largest ones) still gives its id, and the way that selects it.
    assert (
        f"      group {first_task}: lookup('relaunch.status.limit', group='{first_task}') (it has no limit file)"
        in groups
    )
    assert groups[-1] == "  2 more failure groups of 2 hosts not shown"
    # A dry run offers no command, nor ids: nothing of it is in the rollout.
    dry = relaunch_summary(
        {**head(all=7, failed=7), "check_mode": True}, hosts, DIRECTORY, None, group_command=commands.get
    )
    assert "group " not in dry


def recorded_snapshot(messages: dict[str, tuple[str, str]]):
    """A run's snapshot in which each host of ``messages`` ended with its (outcome, message)."""
    recorder = Recorder()
    recorder.apply({"e": "start", "run_id": "20260101T000000000000Z-1-abcd", "playbook": "site.yml"})
    for name in messages:
        recorder.apply({"e": "host", "name": name, "identity": f"asset-{name}", "identity_var": "relaunch_id"})
    recorder.apply({"e": "play", "name": "p", "batch": list(messages), "pending": []})
    for name, (outcome, message) in messages.items():
        result = {"e": "result", "host": name, "outcome": outcome, "ignored": False, "rescued": False}
        recorder.apply({**result, "play": "p", "task": "Deploy", "action": "command", "msg": message})
    failed_names = [name for name, (outcome, _message) in messages.items() if outcome != "ok"]
    recorder.apply({"e": "verdict", "failed": failed_names})
    return recorder.snapshot(complete=True, finished="2026-01-01T00:01:00+00:00")


def test_the_summary_shows_the_groups_the_manifest_recorded_as_grouping_again_would(monkeypatch):
    messages = {
        f"web{number:02d}": (
            ("unreachable", f"ssh: connect to host web{number:02d} port 22: Connection timed out")
            if number % 3 == 0
            else ("failed", f"disk full on /var of asset-web{number:02d}: {90 + number % 9}% used")
            if number % 3 == 1
            else ("ok", "")
        )
        for number in range(1, 40)
    }
    snapshot = recorded_snapshot(messages)
    hosts = list(snapshot.hosts("failed"))
    assert len(snapshot.head["failure_groups"]) == 2
    regrouped = {key: value for key, value in snapshot.head.items() if key != "failure_groups"}
    assert relaunch_summary(snapshot.head, hosts, DIRECTORY, "CMD") == relaunch_summary(
        regrouped, hosts, DIRECTORY, "CMD"
    )
    regrouped_lines = failure_lines(hosts)
    monkeypatch.setattr(failures, "group_failures", None)  # the recorded groups are not made again
    recorded = failure_lines(hosts, snapshot.head["failure_groups"])
    assert recorded == regrouped_lines and len(recorded) == 4


def test_recorded_groups_of_other_hosts_are_not_shown():
    hosts = [failed("a"), failed("b")]
    other = [{"task": "t", "action": "a", "message": "m", "example": "m", "unreachable": False, "hosts": ["zz"]}]
    assert failure_lines(hosts, other) == failure_lines(hosts)
    assert failure_lines(hosts, []) == failure_lines(hosts) != []
    assert failure_lines(hosts, ["not a group"]) == failure_lines(hosts)
