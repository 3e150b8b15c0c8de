# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How each host ended across the kept runs of a playbook: its outcomes, streaks and flips; flaky and chronic hosts.

Read from the run manifests (``<run id>.json``) oldest first. A host is followed by its identity when it has
one, else by its name, so a renamed host keeps its history; it is reported under its newest name. Runs in
check mode are left out (a dry run proves nothing), and so are runs in which no host ran a task of its own.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
from collections.abc import Iterable, Sequence

from . import store
from .errors import RelaunchError, brief
from .selection import CurrentHost, Finding, HostIndex

# A host's outcome in one run.
FAILED = "failed"
UNREACHABLE = "unreachable"
OK = "ok"  # the host ran and did not fail
NOT_RUN = "not_run"  # targeted, but it did not run (the select role ended it, the run stopped first, ...)
ABSENT = "absent"  # not in that run at all
FAILURES = frozenset((FAILED, UNREACHABLE))
RAN = FAILURES | {OK}

# The defaults suit a playbook run daily: ten runs are two working weeks; three flips in them (failed, ok,
# failed, ok) is no longer chance; three failures in a row is three days of a host that needs a person.
FLAKY_RUNS = 10
FLAKY_FLIPS = 3
CHRONIC_RUNS = 3


@dataclasses.dataclass(frozen=True)
class Thresholds:
    """Flaky: at least ``flaky_flips`` flips in the last ``flaky_runs`` runs; chronic: failed in each of
    the last ``chronic_runs`` runs that ran it, among the last ``window`` runs (flaky_runs, or chronic_runs if more):
    a host no recent run ran is no longer judged chronic."""

    flaky_runs: int = FLAKY_RUNS
    flaky_flips: int = FLAKY_FLIPS
    chronic_runs: int = CHRONIC_RUNS

    @property
    def window(self) -> int:
        """How many of the newest runs flaky and chronic look at."""
        return max(self.flaky_runs, self.chronic_runs)

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise RelaunchError(f"option {field.name}: {brief(value)} is not a whole number of at least 1")


@dataclasses.dataclass
class HostHistory:
    """One host across the runs (oldest first); ``name`` is its newest name."""

    name: str
    identity: str | None
    outcomes: list[str]
    last_success: dict | None = None  # {"run_id", "finished"} of the newest run it ran without failing
    failures_in_a_row: int = 0  # counted back from the newest run that ran it
    flips: int = 0  # between failed (or unreachable) and ok, in the last flaky_runs runs
    flaky: bool = False
    chronic: bool = False

    def report(self) -> dict:
        """What relaunch_info returns of it."""
        return {
            "outcomes": list(self.outcomes),
            "last_success": self.last_success,
            "failures_in_a_row": self.failures_in_a_row,
            "flips": self.flips,
            "flaky": self.flaky,
            "chronic": self.chronic,
        }


def counts_in_history(manifest: dict) -> bool:
    """Whether a run belongs in the history: not a dry run, and a host ran a task of its own."""
    return manifest.get("check_mode") is not True and manifest.get("tasks_ran", True) is not False


def outcome(entry: dict, run_id: object) -> str:
    """A host entry's outcome in the run ``run_id``.

    Schema 2 gives each entry the run whose outcome it is (null when the host did not run in this one);
    in schema 1 every listed host ran, unless it is ``not_run``.
    """
    if "run_id" in entry and entry.get("run_id") != run_id:
        return NOT_RUN
    statuses = entry.get("statuses") or ()
    if FAILED in statuses:
        first_failure = entry.get("first_failure") or {}
        return UNREACHABLE if first_failure.get("unreachable") else FAILED
    if NOT_RUN in statuses:
        return NOT_RUN
    return OK


def host_key(entry: dict) -> tuple[str, str]:
    identity = entry.get("identity")
    return ("identity", identity) if isinstance(identity, str) else ("name", entry["name"])


def histories(manifests: Iterable[dict], thresholds: Thresholds | None = None) -> list[HostHistory]:
    """The history of every host of ``manifests`` (run manifests, oldest first), sorted by name."""
    return newest_histories(reversed(list(manifests)), thresholds)


def newest_histories(
    manifests: Iterable[dict], thresholds: Thresholds | None = None, runs: int | None = None
) -> list[HostHistory]:
    """:func:`histories` of ``manifests`` given newest first, of the newest ``runs`` kept runs when given.

    Each manifest is read once as it comes and not kept, so a store's twenty runs of 20,000 hosts are never
    all in memory at once, and no run older than needed is read.
    """
    thresholds = thresholds or Thresholds()
    found: dict[tuple[str, str], HostHistory] = {}
    index = 0  # runs kept so far, newest first
    for manifest in manifests:
        if runs is not None and index >= runs:
            break
        if counts_in_history(manifest):
            _add_run(found, manifest, index)
            index += 1
    for history in found.values():
        history.outcomes.extend([ABSENT] * (index - len(history.outcomes)))
        history.outcomes.reverse()  # oldest first
        _judge(history, thresholds)
    return sorted(found.values(), key=lambda history: (history.name, history.identity or ""))


def _add_run(found: dict[tuple[str, str], HostHistory], manifest: dict, index: int) -> None:
    """Add the outcome of each host of the ``index``-th newest run kept (counted from 0); outcomes newest first."""
    run_id = manifest.get("run_id")
    for entry in manifest.get("hosts") or ():
        key = host_key(entry)
        history = found.get(key)
        if history is None:
            # Its newest run: the name it is reported under.
            history = found[key] = HostHistory(entry["name"], key[1] if key[0] == "identity" else None, [])
        elif len(history.outcomes) > index:
            continue  # two entries of one identity in one run: the first has the say, as in a selection
        if len(history.outcomes) < index:
            history.outcomes.extend([ABSENT] * (index - len(history.outcomes)))
        result = outcome(entry, run_id)
        history.outcomes.append(result)
        if result == OK and history.last_success is None:
            history.last_success = {"run_id": run_id, "finished": entry.get("finished") or manifest.get("finished")}


def _judge(history: HostHistory, thresholds: Thresholds) -> None:
    """Streak, flips, flaky and chronic from the outcomes; runs that did not run the host are passed over.

    Flaky and chronic look at the newest ``thresholds.window`` runs only, so that a reader of just those runs
    (the inventory groups) judges a host as a reader of every kept run does.
    """
    history.failures_in_a_row = _failures_in_a_row(history.outcomes)
    history.flips = _flips(history.outcomes, thresholds)
    history.flaky = history.flips >= thresholds.flaky_flips
    history.chronic = _is_chronic(history.outcomes, thresholds)


def flaky_and_chronic(outcomes: Sequence[str], thresholds: Thresholds) -> tuple[bool, bool]:
    """Whether a host of these outcomes (oldest first, one per kept run) is flaky, and whether it is chronic,
    judged as :func:`newest_histories` judges it."""
    return _flips(outcomes, thresholds) >= thresholds.flaky_flips, _is_chronic(outcomes, thresholds)


def _flips(outcomes: Sequence[str], thresholds: Thresholds) -> int:
    """The flips between failed (or unreachable) and ok in the newest ``thresholds.flaky_runs`` runs."""
    recent = [result in FAILURES for result in outcomes[-thresholds.flaky_runs :] if result in RAN]
    return sum(1 for before, after in itertools.pairwise(recent) if before != after)


def _is_chronic(outcomes: Sequence[str], thresholds: Thresholds) -> bool:
    return _failures_in_a_row(outcomes[-thresholds.window :]) >= thresholds.chronic_runs


def _failures_in_a_row(outcomes: Sequence[str]) -> int:
    """The failures counted back from the newest of ``outcomes`` that ran the host."""
    streak = 0
    for result in reversed(outcomes):
        if result in FAILURES:
            streak += 1
        elif result == OK:
            break
    return streak


def run_directories(paths: Iterable[str]) -> list[str]:
    """The run directories of manifest files (``latest.json``, ``<run id>.json``), each once, in order."""
    directories: list[str] = []
    for path in paths:
        directory = os.path.dirname(os.path.abspath(path))
        if directory not in directories:
            directories.append(directory)
    return directories


def of_manifests(paths: Iterable[str], thresholds: Thresholds, runs: int | None = None) -> list[HostHistory]:
    """The histories of the playbooks whose manifests ``paths`` are: their kept runs (the newest ``runs`` of them
    when given), directory by directory."""
    found: list[HostHistory] = []
    for directory in run_directories(paths):
        found.extend(newest_histories(store.runs.newest_run_manifests(directory), thresholds, runs))
    return found


def fewest_runs_to_judge(thresholds: Thresholds) -> int:
    """The fewest kept runs in which a host can be flaky or chronic: ``flaky_flips`` flips take one run more
    than there are flips, and chronic takes ``chronic_runs`` failures, each in a run of its own."""
    return min(thresholds.flaky_flips + 1, thresholds.chronic_runs)


def flagged_histories(paths: Iterable[str], thresholds: Thresholds) -> list[HostHistory]:
    """:func:`of_manifests` of the newest runs flaky and chronic look at, for finding those hosts only.

    A run directory that keeps fewer runs than :func:`fewest_runs_to_judge` can flag no host, so its
    manifests are not read at all (each takes as long to read as the manifest a selection reads): its hosts
    are left out, and none of those could have been flaky or chronic.
    """
    fewest = fewest_runs_to_judge(thresholds)
    found: list[HostHistory] = []
    for directory in run_directories(paths):
        if len(store.runs.run_ids(directory)) >= fewest:
            found.extend(newest_histories(store.runs.newest_run_manifests(directory), thresholds, thresholds.window))
    return found


def by_current_name(found: Iterable[HostHistory], current_hosts: Iterable[CurrentHost]) -> dict[str, HostHistory]:
    """The histories of current hosts under their current names, found as a selection finds them (by identity,
    else by name); recorded hosts no current host is are left out. When two histories find one current host
    (merged playbooks, or a host that gained an identity) the first has the say, those with an identity first."""
    finding = Finding(HostIndex(current_hosts), {})
    current: dict[str, HostHistory] = {}
    for history in sorted(found, key=lambda history: history.identity is None):
        name = finding.current_name(history.name, history.identity)
        if name is not None and name not in current:
            current[name] = history
    return current
