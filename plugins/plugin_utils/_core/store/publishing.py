# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Publishing a run: its manifest and per-run limit files, the rollout state (latest.json) with the limit files,
and pruning.

A ``--check`` run (a dry run) and a run in which no host ran a task (other than the relaunch selection itself,
see the recorder's ``tasks_ran``) keep their ``<run id>.json`` but never touch latest.json or the limit files:
a dry run, a relaunch that was refused or one that failed before any host ran leaves the rollout as it was.
Every other run is merged into the rollout state under the directory lock (:mod:`.rollout`), whatever order
runs finish in.
"""

from __future__ import annotations

import os
import re
from collections.abc import Set as AbstractSet

from ..errors import RelaunchError
from ..recorder import STATUSES, Manifest, current_schema, gc_paused, manifest_parts
from .encoding import encode_chunks
from .files import DirectoryLock, read_chunks, refuse_foreign, remove_file, write_atomic
from .layout import FAILED_LIMIT, FAILURE_LIMIT, FAILURE_LIMIT_PREFIX, LATEST, LIMIT, PENDING_LIMIT, RUN_ID
from .limits import LimitTexts, limit_files
from .rollout import merge, state_of
from .validation import read_manifest

_RUN_ID_HEAD = re.compile(rb'"run_id":\s*"([^"]+)"')
_RUN_LIMITS = (FAILED_LIMIT, PENDING_LIMIT)  # the limit files of one run, pruned with it


def latest_run_id(directory: str) -> str | None:
    """The run id latest.json records, read from its head; None when there is none."""
    try:
        fd = os.open(os.path.join(directory, LATEST), os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        match = _RUN_ID_HEAD.search(os.read(fd, 512))
    finally:
        os.close(fd)
    return match.group(1).decode("utf-8", "replace") if match else None


def promoted(manifest: dict | Manifest) -> bool:
    """Whether a run is merged into its rollout: a host ran a task other than the relaunch selection, and it
    is not a dry run (``--check``).

    Manifests written before ``tasks_ran`` existed count as having run tasks.
    """
    head = manifest_parts(manifest)[0]
    return head.get("tasks_ran", True) is not False and head.get("check_mode") is not True


def publish(
    directory: str,
    manifest: dict | Manifest,
    keep: int | None,
    limit_texts: LimitTexts,
    inventory_names: AbstractSet[str] | None = None,
) -> str:
    """Write a run's manifest (and its limit files); merge it into the rollout state (latest.json, with the
    limit files) when :func:`promoted`; prune to ``keep`` runs (None: never).

    ``limit_texts`` makes the limit file texts of a manifest (``selection.limit_file_texts``, with the run's
    groups and hosts); it is called only for a run that is merged. ``inventory_names``, the hosts of the run's
    inventory, tells whether a run left pending hosts of the rollout aside (:func:`.rollout.starts_rollout`).
    Returns the path of the run's manifest.
    """
    with gc_paused():
        # A run that died while an older version published it is written again as this version writes it.
        return _publish(directory, current_schema(manifest), keep, limit_texts, inventory_names)


def _publish(
    directory: str,
    manifest: dict | Manifest,
    keep: int | None,
    limit_texts: LimitTexts,
    inventory_names: AbstractSet[str] | None,
) -> str:
    head = manifest_parts(manifest)[0]
    run_id = head["run_id"]
    path = os.path.join(directory, run_id + ".json")
    useful = promoted(manifest)
    with DirectoryLock(directory):
        state = None
        refused = None
        if useful:
            try:
                for name in (LATEST, *(status + LIMIT for status in STATUSES), *_failure_limits(directory)):
                    refuse_foreign(directory, name)  # before latest.json is read: a symlink is never followed
            except RelaunchError as exc:
                refused = exc  # the run's own manifest is written all the same
            else:
                state = merge(_read_state(directory, head["playbook"]), manifest, inventory_names)
        written = {}
        # A run that died while publishing had written its manifest whole (files are renamed into place): its
        # recovery publishes the rest, and leaves that file as the run wrote it.
        if not os.path.exists(path):
            written[run_id + ".json"] = encode_chunks(manifest)
        files = {}
        if state is not None:
            files = limit_files(state, limit_texts)
            failed = _run_failed_text(manifest, state, files, limit_texts)
            if failed is not None:
                written[run_id + FAILED_LIMIT] = failed.encode("utf-8")
            if "pending" in files:
                written[run_id + PENDING_LIMIT] = files["pending"].encode("utf-8")
        write_atomic(directory, written)
        if refused is not None:
            raise refused
        if state is not None:
            replaced = _state_limit_files(directory, files)
            # Renamed last. A rollout this run started is the run's own manifest: a copy of the file just written.
            replaced[LATEST] = read_chunks(path) if state.head is head else encode_chunks(state)
            write_atomic(directory, replaced)
        if keep is not None:
            prune(directory, keep, state.head["run_id"] if state is not None else latest_run_id(directory))
    return path


def _state_limit_files(directory: str, files: dict[str, str]) -> dict[str, bytes]:
    """The limit files of the rollout state to write (name -> data), from their texts (:func:`.limits.limit_files`);
    removes those it no longer has. A failure group's file goes once it is no longer a group: an old group is
    never relaunched by mistake."""
    replaced = {}
    for status in STATUSES:
        name = status + LIMIT
        if status in files:
            replaced[name] = files[status].encode("utf-8")
        else:
            remove_file(os.path.join(directory, name))
    for name in _failure_limits(directory):
        if name[: -len(LIMIT)] not in files:
            remove_file(os.path.join(directory, name))
    for stem, text in files.items():
        if stem.startswith(FAILURE_LIMIT_PREFIX):
            replaced[stem + LIMIT] = text.encode("utf-8")
    return replaced


def _failure_limits(directory: str) -> list[str]:
    """The names of the failure groups' limit files in a run directory (``failure-<id>.limit``)."""
    return sorted(name for name in os.listdir(directory) if FAILURE_LIMIT.match(name))


def _read_state(directory: str, playbook: str) -> Manifest | None:
    """The rollout state latest.json holds; None (a new rollout) when there is none, it cannot be read or it
    belongs to another playbook."""
    try:
        state = read_manifest(os.path.join(directory, LATEST))
    except RelaunchError:
        return None
    if os.path.normpath(state["playbook"]) != os.path.normpath(playbook):
        return None
    return state_of(state)


def _run_failed_text(
    run: dict | Manifest, state: Manifest, state_files: dict[str, str], limit_texts: LimitTexts
) -> str | None:
    """The text of ``<run id>.failed.limit``, the run's own failed hosts; None when it has none.

    A rollout the run just started holds the run's own hosts: its failed text is the state's. Otherwise only
    status failed of the run is selected, not every status (half the time to publish 20,000 hosts).
    """
    head, rows = manifest_parts(run)
    count = head["retry_counts"].get("failed")
    if not count:
        return None
    rollout = state.head["rollout"]
    if rollout["runs"] == 1 and rollout["started_by"] == head["run_id"]:
        return state_files.get("failed")
    # No failure groups: only the failed hosts' text is wanted.
    return limit_texts(Manifest({**head, "retry_counts": {"failed": count}, "failure_groups": []}, list(rows))).get(
        "failed"
    )


def prune(directory: str, keep: int, newest: str | None) -> None:
    """Keep the ``keep`` newest run manifests; never remove the newest one. A run's limit files go with it;
    latest.json holds its host entries itself, so it never depends on a run manifest.

    Also removes the temporary files of writers that died: every temporary file is
    created and renamed under the directory lock, which the caller holds.
    """
    names = os.listdir(directory)
    for name in names:
        if name.startswith(".") and name.endswith(".tmp"):
            remove_file(os.path.join(directory, name))
    runs = sorted(name[:-5] for name in names if name.endswith(".json") and RUN_ID.match(name[:-5]))
    kept = set(runs)
    for name in names:
        for suffix in _RUN_LIMITS:
            if name.endswith(suffix) and RUN_ID.match(name[: -len(suffix)]) and name[: -len(suffix)] not in kept:
                remove_file(os.path.join(directory, name))  # its run's manifest is gone
    for run_id in runs[: max(len(runs) - max(keep, 1), 0)]:
        if run_id != newest:
            remove_file(os.path.join(directory, run_id + ".json"))
            for suffix in _RUN_LIMITS:
                remove_file(os.path.join(directory, run_id + suffix))
