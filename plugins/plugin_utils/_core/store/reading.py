# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Finding and reading manifests: the file a user named, a run directory's latest manifest, and loading it.

Nothing here writes: a journal of a run that died is replayed in memory.
"""

from __future__ import annotations

import json
import os
import re

from ..errors import RelaunchError
from ..recorder import Manifest, manifest_parts
from . import rollout
from .journal import dead_journals
from .layout import JOURNAL, LATEST, playbook_stem, run_directory, run_id_of, same_playbook
from .publishing import promoted
from .recovery import recovered_manifest
from .validation import not_a_manifest, read_manifest, validate

_PLAYBOOK_HEAD = re.compile(rb'"playbook":\s*("(?:[^"\\]|\\.)*")')


def latest_manifest(directory: str) -> str | None:
    """The file that holds a run directory's latest manifest, None when there is none.

    latest.json, the rollout state, which :func:`load` reads merged with the runs that died since (their
    journals replayed in memory); with no latest.json yet, the newest journal of a dead run in which a host
    ran a task. Nothing is written, so a reader never removes or prunes anything.
    """
    latest = os.path.join(directory, LATEST)
    if os.path.isfile(latest):
        return latest
    found = None
    for run_id, path, fd in dead_journals(directory):
        try:
            manifest = recovered_manifest(directory, run_id, path)
            if manifest is not None and promoted(manifest):
                found = path  # the newest such journal wins
        finally:
            os.close(fd)
    return found


def locate(location: str, playbook: str | None = None) -> str:
    """The manifest file a user named: a file, a run directory, or a manifest directory.

    A manifest directory holding several playbooks needs ``playbook`` to choose.
    """
    if not location:
        raise RelaunchError("option manifest: empty; give a manifest file or a manifest directory")
    path = os.path.abspath(os.path.expanduser(location))
    if os.path.isfile(path):
        return path
    if not os.path.isdir(path):
        raise RelaunchError(
            f"manifest {path} does not exist; run the playbook with the relaunch.status.manifest callback enabled first"
        )
    found = latest_manifest(path)
    if found is not None:
        return found
    if playbook:
        found = latest_manifest(run_directory(path, playbook))
        if found is not None:
            return found
        raise RelaunchError(
            f"no manifest for playbook {playbook_stem(playbook)!r} in {path}; "
            "run it with the relaunch.status.manifest callback enabled first"
        )
    found_in = {}
    for name in sorted(os.listdir(path)):
        if os.path.isdir(os.path.join(path, name)):
            # A playbook whose only run died has a journal, no latest.json.
            found = latest_manifest(os.path.join(path, name))
            if found is not None:
                found_in[name] = found
    if len(found_in) == 1:
        return next(iter(found_in.values()))
    if not found_in:
        raise RelaunchError(
            f"no manifest in {path}; run the playbook with the relaunch.status.manifest callback enabled first"
        )
    stems = sorted(found_in)
    raise RelaunchError(
        f"manifest directory {path} holds several playbooks ({', '.join(stems[:5])}); "
        f"name one, e.g. {os.path.join(path, stems[0])}"
    )


def recorded_playbook(path: str) -> str | None:
    """The ``playbook`` a manifest (or journal) records, read from its head; None when it names none."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except (OSError, ValueError):
        return None
    try:
        match = _PLAYBOOK_HEAD.search(os.read(fd, 65536))
    finally:
        os.close(fd)
    try:
        return json.loads(match.group(1)) if match else None
    except ValueError:
        return None


def check_playbook(path: str, root: str, playbook: str) -> None:
    """Refuse the manifest found for the running playbook when it records another playbook."""
    recorded = recorded_playbook(path)
    if isinstance(recorded, str) and recorded and not same_playbook(root, recorded, playbook):
        raise RelaunchError(
            f"manifest {path} was written by playbook {recorded}, not {os.path.abspath(playbook)}; "
            "run this playbook with the callback first, or name that manifest explicitly to use it anyway"
        )


def load(path: str) -> dict:
    """Read and validate a manifest; any problem is one RelaunchError naming the file.

    A journal (``<run id>.journal``) is replayed in memory into the interrupted manifest of its run.
    """
    run_id = run_id_of(os.path.basename(path), JOURNAL)
    if run_id is not None:
        return _load_journal(path, run_id)
    manifest = read_manifest(path)
    if os.path.basename(path) == LATEST:
        return _with_dead_runs(manifest, os.path.dirname(path), path)
    return manifest


def _with_dead_runs(latest: dict, directory: str, path: str) -> dict:
    """The rollout state of latest.json with the runs that died since merged in, in memory, as the next run
    of the playbook will merge them when it recovers them."""
    state = None
    for run_id, journal, fd in dead_journals(directory):
        try:
            try:
                manifest = recovered_manifest(directory, run_id, journal)
            except OSError:
                continue
            if manifest is None or not promoted(manifest):
                continue
            previous = state if state is not None else rollout.state_of(latest)
            if previous is not None and manifest_parts(manifest)[0].get("playbook") != previous.head["playbook"]:
                continue
            state = rollout.merge(previous, manifest)
        finally:
            os.close(fd)
    if state is None:
        return latest
    merged = state.manifest()
    validate(merged, path)
    return merged


def _load_journal(path: str, run_id: str) -> dict:
    try:
        manifest = recovered_manifest(os.path.dirname(path), run_id, path)
    except OSError as exc:
        raise RelaunchError(f"manifest {path} cannot be read: {exc.strerror}") from None
    if manifest is None:
        raise not_a_manifest(path, "the journal does not start with its run")
    manifest = manifest.manifest() if isinstance(manifest, Manifest) else manifest
    validate(manifest, path)
    return manifest
