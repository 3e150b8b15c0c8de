# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kept run manifests (``<run id>.json``) of a run directory, oldest first: the history of a playbook."""

from __future__ import annotations

import os
from collections.abc import Iterator

from ..errors import RelaunchError
from .layout import MANIFEST, run_id_of
from .validation import read_manifest


def run_ids(directory: str) -> list[str]:
    """The run ids of the run manifests in ``directory``, oldest first (run ids sort by start time)."""
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    return sorted(run_id for run_id in (run_id_of(name, MANIFEST) for name in names) if run_id is not None)


def run_manifests(directory: str, limit: int | None = None) -> Iterator[dict]:
    """The valid run manifests of ``directory``, oldest first; of the newest ``limit`` runs only, when given.

    One at a time: a reader that does not keep them holds one manifest in memory, not twenty. A manifest that
    cannot be read or is not valid (damaged, pruned meanwhile, of a newer schema) is passed over: one bad
    file must not hide the history of the others.
    """
    found = run_ids(directory)
    if limit is not None:
        found = found[-limit:] if limit > 0 else []
    for run_id in found:
        manifest = _run_manifest(directory, run_id)
        if manifest is not None:
            yield manifest


def newest_run_manifests(directory: str) -> Iterator[dict]:
    """:func:`run_manifests` newest first, one at a time: a reader of the newest runs stops when it has enough."""
    for run_id in reversed(run_ids(directory)):
        manifest = _run_manifest(directory, run_id)
        if manifest is not None:
            yield manifest


def _run_manifest(directory: str, run_id: str) -> dict | None:
    try:
        manifest = read_manifest(os.path.join(directory, run_id + MANIFEST))
    except RelaunchError:
        return None
    return manifest if manifest.get("run_id") == run_id else None  # a copy under another run's name is not that run
