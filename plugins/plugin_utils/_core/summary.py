# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The relaunch summary printed at the end of a run: counts, failures grouped by cause, the command."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable

from .errors import counted

# The statuses a host has when at least one of its tasks ended so (PLAY RECAP's counters above zero).
TASK_STATUSES = ("changed", "ok", "skipped", "rescued", "ignored")
# At most this many lines of failure groups, whatever the number of failed hosts.
FAILURE_LINES = 10
DRY_RUN = "dry run: --check; the rollout and its limit files are unchanged"


def failure_lines(
    hosts: Iterable[dict],
    recorded: list | None = None,
    group_command: Callable[[str], str | None] | None = None,
) -> list[str]:
    """The failed hosts grouped by cause, in at most FAILURE_LINES lines; a host's words (masked in the messages)
    are its name and its identity.

    ``recorded`` is the run's manifest's ``failure_groups``, which the recorder made of these very hosts with these
    very words: when its groups hold as many hosts as are failed, they are the lines' groups, and the messages of
    thousands of failed hosts are not masked and grouped a second time at the end of the run. With
    ``group_command`` (a failure group's id -> the command that relaunches exactly its hosts, None when there is
    none), each group shown also gives its id and that command.
    """
    hosts = [host for host in hosts if "failed" in host["statuses"]]
    if not hosts:
        return []
    from . import failures  # its patterns take a while to compile: only for a run that has failed hosts

    if isinstance(recorded, list) and all(isinstance(group, dict) for group in recorded):
        groups = [failures.FailureGroup.from_dict(group) for group in recorded]
        if sum(len(group.hosts) for group in groups) == len(hosts):
            return failures.summary_lines(groups, FAILURE_LINES, command_of=group_command)
    words = {host["name"]: tuple(word for word in (host["name"], host.get("identity")) if word) for host in hosts}
    groups = failures.group_failures(failures.failures_of(hosts, words))
    return failures.summary_lines(groups, FAILURE_LINES, command_of=group_command)


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


def _merged(head: dict) -> bool:
    """Whether the run was merged into the rollout (latest.json). A head without ``rollout`` (schema 1) was, unless
    it was a dry run: before rollouts, every run in which a host ran a task became latest.json."""
    if "rollout" in head:
        return head["rollout"] is not None
    return not head.get("check_mode")


def header(head: dict, directory: str, absolute_paths: bool = False) -> str:
    """The first line: the run's own manifest, and what became of the rollout."""
    line = f"RELAUNCH SUMMARY: {_shown(os.path.join(directory, head['run_id'] + '.json'), absolute_paths)}"
    if head.get("check_mode"):
        line += f" ({DRY_RUN})"
    elif _merged(head):
        line += f", merged into {_shown(os.path.join(directory, 'latest.json'), absolute_paths)}"
    return line + ("" if head["complete"] else " (interrupted)")


def relaunch_lines(counts: dict, command: str | None, rollout_pending: bool | None = None) -> list[str]:
    """The command that relaunches what is left to do, under a line that says what it selects.

    ``rollout_pending``: whether the rollout has pending hosts right after this run, as
    ``<run id>.pending.limit`` tells; None without that file, and then the command
    relaunches on this run's failed hosts, and its not_run ones too when there are.
    """
    if rollout_pending is None:
        statuses = [status for status in ("failed", "not_run") if counts.get(status)]
        if not statuses:
            return []
        what = "relaunch on the " + " and ".join(statuses) + " hosts"
        if "not_run" in statuses:
            what = "to finish the job, " + what
    elif rollout_pending:
        statuses = ["pending"]
        what = "to finish the rollout, relaunch on its pending hosts (failed or not run yet)"
    else:
        return []
    if command:
        return [f"  {what}:", f"    {command}"]
    return [
        f"  {what}: no --limit can select them (the implicit localhost, or hosts add_host created from it);",
        "    put the relaunch.status.select role at the top of each play and run with "
        f"-e relaunch_hosts={','.join(statuses)}",
    ]


def relaunch_summary(
    head: dict,
    hosts: Iterable[dict],
    directory: str,
    command: str | None,
    absolute_paths: bool = False,
    rollout_pending: bool | None = None,
    group_command: Callable[[str], str | None] | None = None,
) -> str:
    """The summary of a run's manifest (``head``, its keys but the hosts, and its failed hosts' entries).

    It names only files of the run's own: its manifest (and latest.json when the run was
    merged into the rollout), and ``command``, which relaunches through the run's own limit
    file (see :func:`relaunch_lines`); None when no limit file can select the hosts. A dry
    run (--check) offers no relaunch. A run in which no host ran a task never became
    latest.json: the summary says so and offers no relaunch. ``group_command`` gives the command of each failure
    group shown (see :func:`failure_lines`); None for none (a dry run).
    """
    if head.get("tasks_ran") is False:
        return _no_host_ran(head, directory, absolute_paths)
    counts = head["retry_counts"]
    hosts = list(hosts)
    failed_unreachable = sum(1 for host in hosts if "failed" in host["statuses"] and "unreachable" in host["statuses"])
    if head.get("check_mode"):
        group_command = None
    lines = [
        header(head, directory, absolute_paths),
        *counts_lines(counts, failed_unreachable),
        *failure_lines(hosts, head.get("failure_groups"), group_command),
    ]
    if not head.get("check_mode"):
        lines += relaunch_lines(counts, command, rollout_pending)
    return "\n".join(lines)
