# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The relaunch summary printed at the end of a run: counts, failures grouped by cause, the command."""

from __future__ import annotations

import os
from collections.abc import Iterable

from .errors import counted

NAMES_SHOWN = 10
# The statuses a host has when at least one of its tasks ended so (PLAY RECAP's counters above zero).
TASK_STATUSES = ("changed", "ok", "skipped", "rescued", "ignored")
# Said of one host or many: "1 host failed because of ...", "2 hosts failed because of ...".
FAILED_BECAUSE_OF_OTHERS = (
    "failed because of other hosts (any_errors_fatal, max_fail_percentage or a failed run_once task)"
)


def failure_groups(hosts: Iterable[dict]) -> list[tuple[str, list[str]]]:
    """Failed hosts grouped by their first failure (task and message), largest group first."""
    groups: dict[str, list[str]] = {}
    for host in hosts:
        if "failed" not in host["statuses"]:
            continue
        failure = host.get("first_failure")
        if failure:
            kind = "unreachable" if failure.get("unreachable") else "failed"
            cause = f"{kind} at TASK [{failure.get('task')}]"
            if failure.get("message"):
                cause += f": {failure['message']}"
        else:
            cause = FAILED_BECAUSE_OF_OTHERS
        groups.setdefault(cause, []).append(host["name"])
    return sorted(groups.items(), key=lambda item: (-len(item[1]), item[0]))


def _shown(path: str, absolute: bool) -> str:
    """A path as the summary prints it: relative to the current directory, or absolute when that is not the
    user's (under ansible-runner or ansible-navigator)."""
    return os.path.abspath(path) if absolute else os.path.relpath(path)


def not_written_summary(why: str) -> str:
    """The one line printed in place of the summary when the run's manifest could not be written."""
    return f"RELAUNCH SUMMARY: no manifest written: {why}"


def counts_lines(counts: dict, failed_unreachable: int) -> list[str]:
    """The counts of a summary: each host once on the first line (failed, of them unreachable, not run), then how
    many hosts had at least one task of each outcome, as PLAY RECAP counts tasks (a host is in several)."""
    failed = f"failed={counts.get('failed', 0)}"
    if failed_unreachable:
        failed += f" ({failed_unreachable} unreachable)"
    return [
        f"  all={counts.get('all', 0)}  {failed}  not_run={counts.get('not_run', 0)}",
        "  hosts with at least one task: " + "  ".join(f"{status}={counts.get(status, 0)}" for status in TASK_STATUSES),
    ]


def _no_host_ran(head: dict, directory: str, absolute_paths: bool) -> str:
    """A run in which no host ran a task but the relaunch selection: its failures, if any, are the selection's
    own (a refused relaunch), not the hosts', so no counts; one line when no host was even seen."""
    interrupted = "" if head["complete"] else " (interrupted)"
    latest = f"{_shown(os.path.join(directory, 'latest.json'), absolute_paths)} and its limit files are unchanged"
    if not head["retry_counts"].get("all"):
        return f"RELAUNCH SUMMARY: no host ran{interrupted}; {latest}"
    return "\n".join(
        [
            f"RELAUNCH SUMMARY: {_shown(os.path.join(directory, head['run_id'] + '.json'), absolute_paths)}"
            + interrupted,
            f"  none of the {counted(head['retry_counts']['all'], 'host')} ran a task but the relaunch selection"
            " (refused, nothing to relaunch, or stopped before any host ran):",
            f"    {latest}",
        ]
    )


def relaunch_summary(
    head: dict, hosts: Iterable[dict], directory: str, command: str | None, absolute_paths: bool = False
) -> str:
    """The summary of a manifest (``head``, its keys but the hosts, and its failed hosts' entries).

    ``command`` relaunches on the failed hosts, and on the not_run ones too when
    there are: that finishes the job. It is None when no limit file can select them.
    A run in which no host ran a task never became latest.json: the summary says
    so and offers no relaunch.
    """
    if head.get("tasks_ran") is False:
        return _no_host_ran(head, directory, absolute_paths)
    counts = head["retry_counts"]
    hosts = list(hosts)
    failed_unreachable = sum(1 for host in hosts if "failed" in host["statuses"] and "unreachable" in host["statuses"])
    lines = [
        f"RELAUNCH SUMMARY: {_shown(os.path.join(directory, 'latest.json'), absolute_paths)}"
        + ("" if head["complete"] else " (interrupted)"),
        *counts_lines(counts, failed_unreachable),
    ]
    for cause, names in failure_groups(hosts):
        shown = ", ".join(names[:NAMES_SHOWN]) + (
            f" and {len(names) - NAMES_SHOWN} more" if len(names) > NAMES_SHOWN else ""
        )
        lines.append(f"  {counted(len(names), 'host')} {cause}")
        lines.append(f"      {shown}")
    statuses = [status for status in ("failed", "not_run") if counts.get(status)]
    if not statuses:
        return "\n".join(lines)
    what = "relaunch on the " + " and ".join(statuses) + " hosts"
    if "not_run" in statuses:
        what = "to finish the job, " + what
    if command:
        lines.append(f"  {what}:")
        lines.append(f"    {command}")
    else:
        lines.append(
            f"  {what}: no --limit can select them (the implicit localhost, or hosts add_host created from it);"
        )
        lines.append(
            "    put the relaunch.status.select role at the top of each play and run with "
            f"-e relaunch_hosts={','.join(statuses)}"
        )
    return "\n".join(lines)
