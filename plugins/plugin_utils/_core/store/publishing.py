# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Publishing a run: its manifest, its failed hosts' limit file, latest.json with the limit files, and pruning.

A run in which no host ran a task (other than the relaunch selection itself,
see the recorder's ``tasks_ran``) keeps its ``<run id>.json`` but never
replaces latest.json or the limit files: a relaunch that was refused or that
failed before any host ran leaves what the last useful run recorded.
"""

from __future__ import annotations

import os
import re

from ..recorder import STATUSES, Snapshot, gc_paused, manifest_parts
from .encoding import encode_chunks
from .files import DirectoryLock, read_chunks, refuse_foreign, remove_file, write_atomic
from .layout import FAILED_LIMIT, LATEST, LIMIT, RUN_ID
from .limits import LimitTexts, limit_files

_RUN_ID_HEAD = re.compile(rb'"run_id":\s*"([^"]+)"')


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


def promoted(manifest: dict | Snapshot) -> bool:
    """Whether a run may become latest.json: a host ran a task other than the relaunch selection.

    Manifests written before ``tasks_ran`` existed always could.
    """
    return manifest_parts(manifest)[0].get("tasks_ran", True) is not False


def publish(directory: str, manifest: dict | Snapshot, keep: int | None, limit_texts: LimitTexts) -> str:
    """Write a run's manifest (and its failed hosts' limit file); make it latest.json (with limit
    files) if it is the newest run in which a host ran a task; prune to ``keep`` runs (None: never).

    ``limit_texts`` makes the limit file texts of the manifest (``selection.limit_file_texts``,
    with the run's groups and hosts); it is called only for a run that may become latest.json.
    Returns the path of the run's manifest.
    """
    with gc_paused():
        return _publish(directory, manifest, keep, limit_texts)


def _publish(directory: str, manifest: dict | Snapshot, keep: int | None, limit_texts: LimitTexts) -> str:
    head = manifest_parts(manifest)[0]
    run_id = head["run_id"]
    path = os.path.join(directory, run_id + ".json")
    useful = promoted(manifest)
    files = limit_files(manifest, limit_texts) if useful else {}
    with DirectoryLock(directory):
        written = {run_id + ".json": encode_chunks(manifest)}
        if head["retry_counts"].get("failed") and "failed" in files:
            written[run_id + FAILED_LIMIT] = files["failed"].encode("utf-8")
        write_atomic(directory, written)
        latest = latest_run_id(directory)
        if useful and (latest is None or not RUN_ID.match(latest) or latest <= run_id):
            for name in (LATEST, *(status + LIMIT for status in STATUSES)):
                refuse_foreign(directory, name)
            replaced = {}
            for status in STATUSES:
                name = status + LIMIT
                if status in files:
                    replaced[name] = files[status].encode("utf-8")
                else:
                    remove_file(os.path.join(directory, name))
            replaced[LATEST] = read_chunks(path)  # a copy of the file just written, renamed last
            write_atomic(directory, replaced)
            latest = run_id
        if keep is not None:
            prune(directory, keep, latest)
    return path


def prune(directory: str, keep: int, newest: str) -> None:
    """Keep the ``keep`` newest run manifests; never remove the newest one.

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
        if (
            name.endswith(FAILED_LIMIT)
            and RUN_ID.match(name[: -len(FAILED_LIMIT)])
            and name[: -len(FAILED_LIMIT)] not in kept
        ):
            remove_file(os.path.join(directory, name))  # its run's manifest is gone
    for run_id in runs[: max(len(runs) - max(keep, 1), 0)]:
        if run_id != newest:
            remove_file(os.path.join(directory, run_id + ".json"))
            remove_file(os.path.join(directory, run_id + FAILED_LIMIT))
