# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The manifest store: where manifests live, how they are written, read and recovered.

Layout of a manifest directory::

    <dir>/<playbook stem>/<run id>.json      one manifest per run (the newest N are kept)
    <dir>/<playbook stem>/<run id>.journal   the append-only journal of a run in progress
    <dir>/<playbook stem>/<run id>.failed.limit  the failed hosts of that run, for the command its summary prints
    <dir>/<playbook stem>/latest.json        a copy of the newest finished or interrupted run in which a host ran a task
    <dir>/<playbook stem>/<status>.limit     limit files of latest.json, one per status
    <dir>/<playbook stem>/.playbook          the playbook that owns the directory
    <dir>/<playbook stem>/.lock              serialises publishing among concurrent runs

A run holds an exclusive lock on its journal while it runs, so a journal whose
lock can be taken belongs to a run that died; the next run turns it into an
interrupted manifest (:func:`recover`), and readers replay it in memory
without writing anything (:func:`locate`, :func:`load`). Every file is written
to a temporary name, flushed to disk and renamed into place, so no reader ever
sees half a file.

Its modules, one job each: ``layout`` (file names, run ids, run directories),
``encoding`` (a manifest as bytes), ``files`` (atomic writes, the directory lock),
``journal`` (the journal of a run in progress), ``limits`` (limit files),
``publishing`` (a run's files, latest.json, pruning), ``recovery`` (runs that
died), ``reading`` (locating and loading) and ``validation`` (the rules of a
valid manifest). Plugins use the names below: ``store.publish``, ``store.load``.
"""

from __future__ import annotations

from .encoding import encode, encode_chunks
from .files import write_atomic
from .journal import Journal, replay
from .layout import (
    FAILED_LIMIT,
    JOURNAL,
    LATEST,
    LIMIT,
    RUN_ID,
    claim_run_directory,
    ensure_run_directory,
    manifest_root,
    new_run_id,
    playbook_stem,
    run_directory,
    run_limit_file,
    same_playbook,
    utc_now,
)
from .limits import empty_limit_text, limit_files
from .publishing import promoted, prune, publish
from .reading import check_playbook, latest_manifest, load, locate, recorded_playbook
from .recovery import recover
from .validation import SCHEMA_VERSION, validate

__all__ = [
    "FAILED_LIMIT",
    "JOURNAL",
    "LATEST",
    "LIMIT",
    "RUN_ID",
    "SCHEMA_VERSION",
    "Journal",
    "check_playbook",
    "claim_run_directory",
    "empty_limit_text",
    "encode",
    "encode_chunks",
    "ensure_run_directory",
    "latest_manifest",
    "limit_files",
    "load",
    "locate",
    "manifest_root",
    "new_run_id",
    "playbook_stem",
    "promoted",
    "prune",
    "publish",
    "recorded_playbook",
    "recover",
    "replay",
    "run_directory",
    "run_limit_file",
    "same_playbook",
    "utc_now",
    "validate",
    "write_atomic",
]
