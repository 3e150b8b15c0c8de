# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The recorded hosts a selection reads: read again whenever a manifest file or a dead run's journal changes them."""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.relaunch.status.plugins.plugin_utils import _selector
from ansible_collections.relaunch.status.plugins.plugin_utils._core import store
from tests.property.manifests import host_entry, make_manifest

RUN_ID = "20260101T000001000000Z-101-abcd"


@pytest.fixture
def loads(monkeypatch) -> list[str]:
    """The paths store.reading.load reads, in order."""
    read: list[str] = []
    load = store.reading.load

    def counting(path: str) -> dict:
        read.append(path)
        return load(path)

    monkeypatch.setattr(store.reading, "load", counting)
    return read


def write(path: str, failed: str, ok: str) -> None:
    manifest = make_manifest([host_entry(failed, ("failed",)), host_entry(ok, ("ok",))], run_id=RUN_ID)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(manifest, handle)
    os.replace(tmp, path)  # as the store writes it


def test_a_second_selection_from_unchanged_files_does_not_read_them_again(tmp_path, loads) -> None:
    run_dir = str(tmp_path / "site")
    store.layout.ensure_run_directory(run_dir)
    latest = os.path.join(run_dir, store.layout.LATEST)
    write(latest, "web1", "db1")
    first = _selector.recorded_hosts([latest])
    assert _selector.recorded_hosts([latest]) is first
    assert loads == [latest]
    # Other bytes of the same length: read again.
    write(latest, "web2", "db2")
    second = _selector.recorded_hosts([latest])
    assert loads == [latest, latest]
    assert list(second.hosts) == ["web2", "db2"] and list(first.hosts) == ["web1", "db1"]


def test_a_latest_manifest_beside_a_dead_runs_journal_is_read_every_time(tmp_path, loads) -> None:
    run_dir = str(tmp_path / "site")
    store.layout.ensure_run_directory(run_dir)
    latest = os.path.join(run_dir, store.layout.LATEST)
    write(latest, "web1", "db1")
    journal = store.journal.Journal(run_dir, "20260101T000002000000Z-102-abcd")
    journal.append({"e": "start", "run_id": "20260101T000002000000Z-102-abcd"})
    _selector.recorded_hosts([latest])
    _selector.recorded_hosts([latest])
    assert loads == [latest]  # its run is alive: loading reads latest.json alone
    journal.close(remove=False)  # the run died: loading merges its journal in
    _selector.recorded_hosts([latest])
    _selector.recorded_hosts([latest])
    assert loads == [latest] * 3
