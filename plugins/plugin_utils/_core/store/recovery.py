# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs that died: the interrupted manifest of a dead run, and turning dead journals into manifests.

Only a run recovers (:func:`recover`, with its own ``keep``); readers replay a
dead journal in memory instead (:func:`recovered_manifest`) and never write or prune.
"""

from __future__ import annotations

import os

from .. import store
from ..errors import RelaunchError
from ..recorder import Manifest
from .files import remove_file
from .journal import dead_journals, replay
from .layout import MANIFEST

# publishing and validation are reached through the package (loaded on first use) only where a dead run is
# found: every run calls recover() at its start and almost always finds none.


def recovered_manifest(directory: str, run_id: str, journal: str) -> dict | Manifest | None:
    """The interrupted manifest of a dead run: the one it had written, or its journal replayed."""
    manifest: dict | Manifest | None = _written_manifest(directory, run_id)
    if manifest is None:
        recorder = replay(journal)
        if recorder.meta.get("run_id") == run_id:
            manifest = recorder.snapshot(complete=False, finished=None)
    return manifest


def _written_manifest(directory: str, run_id: str) -> dict | None:
    """The manifest a dead run had already written before it died while publishing, if any."""
    path = os.path.join(directory, run_id + MANIFEST)
    try:
        manifest = store.validation.read_manifest(path)
    except RelaunchError:
        return None
    return manifest if manifest.get("run_id") == run_id else None


def recover(directory: str, keep: int, limit_texts: store.limits.LimitTexts) -> list[str]:
    """Turn the journals of runs that died into interrupted manifests; returns their paths.

    ``limit_texts`` makes the limit files of a recovered run, as for :func:`store.publishing.publish`.
    """
    recovered = []
    for run_id, path, fd in dead_journals(directory):
        try:
            manifest = recovered_manifest(directory, run_id, path)
            if manifest is not None:
                try:
                    recovered.append(store.publishing.publish(directory, manifest, keep, limit_texts))
                except OSError:
                    continue  # a run that cannot write leaves the journal to one that can
            remove_file(path)
        finally:
            os.close(fd)
    return recovered
