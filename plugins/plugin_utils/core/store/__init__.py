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

import importlib

# The names plugins use, each with the module that defines it, imported on first use (``store.publish``
# loads publishing then). ansible-core compiles a collection's modules from source on every run (it keeps
# no bytecode cache for them), so a run loads only what it uses, when it uses it.
_HOME = {
    "encode": "encoding",
    "encode_chunks": "encoding",
    "write_atomic": "files",
    "Journal": "journal",
    "replay": "journal",
    "FAILED_LIMIT": "layout",
    "JOURNAL": "layout",
    "LATEST": "layout",
    "LIMIT": "layout",
    "RUN_ID": "layout",
    "claim_run_directory": "layout",
    "ensure_run_directory": "layout",
    "manifest_root": "layout",
    "new_run_id": "layout",
    "playbook_stem": "layout",
    "run_directory": "layout",
    "run_limit_file": "layout",
    "same_playbook": "layout",
    "utc_now": "layout",
    "empty_limit_text": "limits",
    "limit_files": "limits",
    "promoted": "publishing",
    "prune": "publishing",
    "publish": "publishing",
    "check_playbook": "reading",
    "latest_manifest": "reading",
    "load": "reading",
    "locate": "reading",
    "recorded_playbook": "reading",
    "recover": "recovery",
    "SCHEMA_VERSION": "validation",
    "validate": "validation",
}


def __getattr__(name: str):
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_HOME[name]}", __name__), name)
    globals()[name] = value  # once: later reads do not come here
    return value
