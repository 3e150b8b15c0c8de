# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The attempts of ``ansible-relaunch run``: what the command line asks, the record of each attempt, the verdict,
the summary and its JSON document. Plain Python: the command's front end (plugin_utils/_cli.py) runs
ansible-playbook and reads the inventory; everything it decides is decided here.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from . import store
from .errors import RelaunchError, counted

# What is still to do in a rollout, when --retry does not narrow it.
PENDING_STATUSES = ("failed", "unreachable", "not_run")
CALLBACK = "relaunch.status.manifest"

# ansible-playbook's options that prompt, by the name command.passwords_needed_to_start gives the password.
PROMPT_FLAGS = {
    "-k": "ssh_password",
    "--ask-pass": "ssh_password",
    "-K": "become_password",
    "--ask-become-pass": "become_password",
    "-J": "vault_password",
    "--ask-vault-pass": "vault_password",
    "--ask-vault-password": "vault_password",
}
# ansible-playbook's options that take a value (the value is never read as an option of its own).
VALUE_OPTIONS = frozenset(
    (
        "-i", "--inventory", "--inventory-file", "-l", "--limit", "-e", "--extra-vars", "-t", "--tags",
        "--skip-tags", "-f", "--forks", "-u", "--user", "-c", "--connection", "-T", "--timeout", "-M",
        "--module-path", "--private-key", "--key-file", "--ssh-common-args", "--sftp-extra-args",
        "--scp-extra-args", "--ssh-extra-args", "--become-method", "--become-user", "--become-password-file",
        "--connection-password-file", "--vault-password-file", "--vault-pass-file", "--start-at-task",
    )
)  # fmt: skip
# Asked again on every attempt unless the environment turns the ansible.cfg default off.
PROMPT_SETTINGS = ("ANSIBLE_ASK_PASS", "ANSIBLE_BECOME_ASK_PASS", "ANSIBLE_ASK_VAULT_PASS")


def parse_retry(text: str) -> list[str]:
    """The statuses of ``--retry``: a comma-separated subset of :data:`PENDING_STATUSES`."""
    statuses = [part.strip() for part in text.split(",") if part.strip()]
    wrong = [status for status in statuses if status not in PENDING_STATUSES]
    if not statuses or wrong:
        raise RelaunchError(f"--retry {text!r}: give one or more of {','.join(PENDING_STATUSES)}, separated by commas")
    return list(dict.fromkeys(statuses))


def delays(delay: float, backoff: float) -> Iterator[float]:
    """The wait before each further attempt: delay, delay*backoff, delay*backoff**2, ..."""
    wait = delay
    while True:
        yield wait
        wait *= backoff


def callbacks_enabled(enabled: Iterable[str]) -> str:
    """ANSIBLE_CALLBACKS_ENABLED for the attempts: the callbacks already enabled, plus the manifest callback."""
    names = [str(name).strip() for name in enabled if str(name).strip()]
    if CALLBACK not in names:
        names.append(CALLBACK)
    return ",".join(names)


def option_value(args: list[str], names: tuple[str, ...]) -> str | None:
    """The value of the last of ``names`` in ``args`` (``-l web``, ``--limit=web``, ``-lweb``), None if absent."""
    found = None
    skip = False
    for index, word in enumerate(args):
        if skip:
            skip = False
            continue
        for name in names:
            if word == name and index + 1 < len(args):
                found, skip = args[index + 1], True
            elif name.startswith("--") and word.startswith(name + "="):
                found = word[len(name) + 1 :]
            elif not name.startswith("--") and word.startswith(name) and len(word) > len(name):
                found = word[len(name) :]
        if not skip and word in VALUE_OPTIONS:
            skip = True
    return found


def without_prompts(args: list[str]) -> list[str]:
    """``args`` without the options that make ansible-playbook prompt: the command asks once and hands the
    passwords over itself. ``--vault-id`` values whose source is ``prompt`` go; other vault ids stay."""
    kept: list[str] = []
    index = 0
    while index < len(args):
        word = args[index]
        index += 1
        if word in PROMPT_FLAGS:
            continue
        if word == "--vault-id" and index < len(args):
            if not _prompts(args[index]):
                kept += [word, args[index]]
            index += 1
            continue
        if word.startswith("--vault-id=") and _prompts(word.split("=", 1)[1]):
            continue
        kept.append(word)
        if word in VALUE_OPTIONS and index < len(args):
            kept.append(args[index])
            index += 1
    return kept


def _prompts(vault_id: str) -> bool:
    """Whether a vault id prompts (ansible-core splits it on its first ``@``: label, then source)."""
    source = vault_id.partition("@")[2] if "@" in vault_id else vault_id
    return source in ("prompt", "prompt_ask_vault_pass")


def without_prompt_vault_ids(vault_ids: Iterable[str]) -> list[str]:
    """A vault identity list without the ids that prompt (for ANSIBLE_VAULT_IDENTITY_LIST)."""
    return [vault_id for vault_id in vault_ids if not _prompts(vault_id)]


def prompt_text(name: str) -> str:
    """The prompt ansible-playbook itself shows for a password of :func:`command.passwords_needed_to_start`."""
    if name == "ssh_password":
        return "SSH password: "
    if name == "become_password":
        return "BECOME password: "
    if name == "vault_password":
        return "Vault password: "
    return f"Vault password ({name.partition('.')[2]}): "


def password_option(name: str, path: str) -> list[str]:
    """The ansible-playbook option that reads the password ``name`` from ``path`` (a pipe; 2.16 to 2.21)."""
    if name == "ssh_password":
        return ["--connection-password-file", path]
    if name == "become_password":
        return ["--become-password-file", path]
    if name == "vault_password":
        return ["--vault-password-file", path]
    return ["--vault-id", f"{name.partition('.')[2]}@{path}"]


@dataclass
class Attempt:
    """One ansible-playbook run of the loop."""

    number: int
    command: list[str]
    rc: int | None = None
    run_id: str | None = None
    manifest: dict | None = None
    interrupted: bool = False
    targeted: list[str] | None = None  # the hosts its limit named; None for a run as given

    def hosts(self) -> dict[str, dict]:
        """The host entries of its run manifest, by identity (the name when a host has none)."""
        entries = (self.manifest or {}).get("hosts") or []
        return {host_key(entry): entry for entry in entries}


def host_key(entry: dict) -> str:
    """What follows a host across renames: its identity, else its name."""
    identity = entry.get("identity")
    return f"id:{identity}" if identity else f"name:{entry['name']}"


def pending_in(entry: dict, statuses: Iterable[str] = PENDING_STATUSES) -> bool:
    return any(status in entry.get("statuses", ()) for status in statuses)


def new_run_manifests(directory: str, before: set[str]) -> list[str]:
    """The run manifests (``<run id>.json``) of ``directory`` that are not in ``before``, oldest first."""
    return sorted(set(run_manifests(directory)) - before)


def run_manifests(directory: str) -> list[str]:
    """The names of a run directory's run manifests, oldest first."""
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    return sorted(name for name in names if store.layout.run_id_of(name, store.layout.MANIFEST))


@dataclass
class HostOutcome:
    """How one host of the rollout fared over the attempts."""

    name: str
    statuses: list[str]
    first_failure: dict | None = None
    failed_on: int | None = None  # the first attempt that left it pending
    recovered_on: int | None = None  # the attempt that ran it fine after that


@dataclass
class Rollout:
    """The attempts of one ``ansible-relaunch run``, in order."""

    playbook: str
    run_directory: str
    statuses: list[str]
    resumed: bool = False
    attempts: list[Attempt] = field(default_factory=list)
    interrupted: bool = False  # Ctrl-C, during an attempt or between two

    def outcomes(self) -> list[HostOutcome]:
        """Each host any attempt ran: its latest statuses, first failure and recovery, by current name."""
        outcomes: dict[str, HostOutcome] = {}
        for attempt in self.attempts:
            for key, entry in attempt.hosts().items():
                outcome = outcomes.get(key)
                if outcome is None:
                    outcome = outcomes[key] = HostOutcome(entry["name"], list(entry["statuses"]))
                outcome.name, outcome.statuses = entry["name"], list(entry["statuses"])
                if pending_in(entry):
                    if outcome.failed_on is None:
                        outcome.failed_on = attempt.number
                        outcome.first_failure = entry.get("first_failure")
                    outcome.recovered_on = None
                elif outcome.failed_on is not None:
                    outcome.recovered_on = attempt.number
        return sorted(outcomes.values(), key=lambda outcome: outcome.name)

    def pending(self) -> list[HostOutcome]:
        return [outcome for outcome in self.outcomes() if pending_in({"statuses": outcome.statuses})]

    def recovered(self) -> list[HostOutcome]:
        return [outcome for outcome in self.outcomes() if outcome.recovered_on is not None]

    def exit_code(self) -> int:
        """0 when no host is left failed, unreachable or not_run; else the exit code of the last attempt that did
        not succeed (ansible-playbook's 2, 4, ...), so CI fails."""
        if self.interrupted:
            return 130
        if self.attempts and self.attempts[-1].manifest is None:
            return self.attempts[-1].rc or 1  # it stopped before recording anything: its own error
        if not self.pending():
            return 0
        failing = [attempt.rc for attempt in self.attempts if attempt.rc]
        return failing[-1] if failing else 1


def first_failure_text(failure: dict | None) -> str:
    """A host's first failure on one line: where, then what."""
    if not failure:
        return "no failure recorded (not run)"
    where = f"TASK [{failure.get('task') or '?'}]"
    kind = "unreachable" if failure.get("unreachable") else "failed"
    message = " ".join(str(failure.get("message") or "").split())
    if len(message) > 160:
        message = message[:157] + "..."
    return f"{kind} at {where}: {message}" if message else f"{kind} at {where}"


def counts_text(manifest: dict | None) -> str:
    """The status counts of a run manifest (those above 0), e.g. ``all=3 failed=1 ok=2``."""
    counts = (manifest or {}).get("retry_counts") or {}
    return " ".join(f"{status}={count}" for status, count in counts.items() if count)


def continue_command(args: list[str], options: list[str]) -> str:
    """The command that continues the rollout: ``ansible-relaunch run --resume`` with the same options and ARGS."""
    words = ["ansible-relaunch", "run", "--resume", *options, "--", *args]
    return " ".join(shlex.quote(word) for word in words)


def summary_lines(rollout: Rollout, continue_with: str) -> list[str]:
    """The summary printed after the last attempt."""
    lines = [f"RELAUNCH ROLLOUT: {rollout.playbook} ({counted(len(rollout.attempts), 'attempt')})"]
    for attempt in rollout.attempts:
        hosts = sorted(entry["name"] for entry in attempt.hosts().values())
        state = "interrupted" if attempt.interrupted else f"rc={attempt.rc}"
        shown = ", ".join(hosts[:10]) + (f" and {len(hosts) - 10} more" if len(hosts) > 10 else "")
        lines.append(f"  attempt {attempt.number}: {state}, {counted(len(hosts), 'host')}: {shown or '-'}")
        if attempt.manifest:
            lines.append(f"    {counts_text(attempt.manifest)}  ({attempt.run_id})")
    recovered = rollout.recovered()
    if recovered:
        lines.append(f"  recovered: {counted(len(recovered), 'host')}")
        lines += [f"    {outcome.name} on attempt {outcome.recovered_on}" for outcome in recovered]
    pending = rollout.pending()
    if pending:
        lines.append(f"  still pending: {counted(len(pending), 'host')}")
        for outcome in pending:
            left = ",".join(status for status in outcome.statuses if status in PENDING_STATUSES)
            lines.append(f"    {outcome.name} ({left}): {first_failure_text(outcome.first_failure)}")
        lines.append(f"  continue with: {continue_with}")
    else:
        lines.append("  nothing pending")
    return lines


def document(rollout: Rollout, continue_with: str) -> dict:
    """The summary as a JSON document for CI (docs/command.md lists its keys)."""
    return {
        "playbook": rollout.playbook,
        "run_directory": rollout.run_directory,
        "retry": rollout.statuses,
        "resumed": rollout.resumed,
        "exit_code": rollout.exit_code(),
        "attempts": [
            {
                "number": attempt.number,
                "rc": attempt.rc,
                "interrupted": attempt.interrupted,
                "run_id": attempt.run_id,
                "hosts": sorted(entry["name"] for entry in attempt.hosts().values()),
                "counts": dict((attempt.manifest or {}).get("retry_counts") or {}),
            }
            for attempt in rollout.attempts
        ],
        "recovered": [{"name": outcome.name, "attempt": outcome.recovered_on} for outcome in rollout.recovered()],
        "pending": [
            {
                "name": outcome.name,
                "statuses": [status for status in outcome.statuses if status in PENDING_STATUSES],
                "attempt": outcome.failed_on,
                "first_failure": outcome.first_failure,
            }
            for outcome in rollout.pending()
        ],
        "interrupted": rollout.interrupted,
        "continue": continue_with if rollout.pending() or rollout.interrupted else None,
    }
