# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The manifest store: where manifests live, how they are written, read and recovered.

Layout of a manifest directory::

    <dir>/<playbook stem>/<run id>.json      one manifest per run (the newest N are kept)
    <dir>/<playbook stem>/<run id>.journal   the append-only journal of a run in progress
    <dir>/<playbook stem>/<run id>.failed.limit   the failed hosts of that run
    <dir>/<playbook stem>/<run id>.pending.limit  the rollout's pending hosts right after that run, for its summary
    <dir>/<playbook stem>/latest.json        the rollout state: a first run and every relaunch made from it
    <dir>/<playbook stem>/<status>.limit     limit files of latest.json, one per status
    <dir>/<playbook stem>/failure-<id>.limit  limit files of latest.json, one per failure group (the largest 20)
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
died), ``reading`` (locating and loading), ``rollout`` (merging a run into the
rollout state) and ``validation`` (the rules of a valid manifest). Callers
reach them through the package: ``store.publishing.publish``, ``store.reading.load``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

# Each module is loaded on first use (``store.publishing`` loads publishing then). ansible-core compiles a
# collection's modules from source on every run and forks its workers after the callback started, so a run loads
# before the forks only what it uses there (docs/performance.md); tests/unit/test_layout.py checks which.
MODULES = (
    "encoding",
    "files",
    "journal",
    "layout",
    "limits",
    "publishing",
    "reading",
    "recovery",
    "rollout",
    "runs",
    "validation",
)

if TYPE_CHECKING:
    from . import (  # noqa: F401
        encoding,
        files,
        journal,
        layout,
        limits,
        publishing,
        reading,
        recovery,
        rollout,
        runs,
        validation,
    )


def __getattr__(name: str):
    if name not in MODULES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return importlib.import_module(f".{name}", __name__)  # also binds it here: later reads do not come back
