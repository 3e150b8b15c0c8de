# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A Snapshot, the manifest built host by host, is written exactly as the manifest dict would be.

The callback publishes a Snapshot (a 100,000-host manifest is never whole in memory);
readers, tests and the summary know the dict. Both must give the same files, and the
limit files made in one pass over the hosts must be what select() gives status by status.
"""

from __future__ import annotations

import functools
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.relaunch.status.plugins.plugin_utils._core import store
from ansible_collections.relaunch.status.plugins.plugin_utils._core.errors import RelaunchError
from ansible_collections.relaunch.status.plugins.plugin_utils._core.recorder import OUTCOMES, STATUSES, Recorder
from ansible_collections.relaunch.status.plugins.plugin_utils._core.selection import (
    GROUP_LIMIT_FILES,
    CurrentHost,
    FailureGroupChoice,
    limit_file_text,
    limit_file_texts,
    select,
)
from tests.unit.test_recorder import EVENTS, NAMES

START = {
    "e": "start",
    "run_id": "20260101T000000000000Z-1-abcd",
    "playbook": "/srv/site.yml",
    "started": "2026-01-01T00:00:00+00:00",
    "check_mode": False,
    "ansible_version": "2.19.14",
    "invocation": {"limit": "", "inventory": ["inventory.ini"], "tags": [], "skip_tags": []},
    "passwords_needed_to_start": [],
}
IDENTITIES = st.builds(
    lambda name, identity: {
        "e": "host",
        "name": name,
        "identity": identity,
        "identity_var": None if identity is None else "relaunch_id",
    },
    NAMES,
    st.sampled_from([None, "i-1", "i-2"]),  # two hosts may share one: neither is then selected by it
)
GROUPS = st.lists(st.sampled_from(["a", "web", "x", "all", "ungrouped"]), max_size=3, unique=True)


def recorded(events: list[dict]) -> Recorder:
    recorder = Recorder()
    for event in [START, *events]:
        recorder.apply(event)
    return recorder


def limit_files_by_select(manifest: dict, group_names: list[str], inventory_names: set[str] | None) -> dict[str, str]:
    """The limit files as plain select() gives them, one status at a time: the reference."""
    current = [
        CurrentHost(host["name"], host["identity"])
        for host in manifest["hosts"]
        if not host["provisioned"] and (inventory_names is None or host["name"] in inventory_names)
    ]
    files = {}
    for status in STATUSES:
        if status == "all":
            continue
        if not manifest["retry_counts"][status]:
            files[status] = store.limits.empty_limit_text(status, manifest["run_id"])
            continue
        try:
            files[status] = limit_file_text(select([("", manifest)], [status], current, group_names).patterns)
        except RelaunchError:
            continue
    for group in manifest["failure_groups"][:GROUP_LIMIT_FILES]:  # largest first, as the recorder writes them
        try:
            selection = select([("", manifest)], FailureGroupChoice(group["id"]), current, group_names)
        except RelaunchError:
            continue
        files[f"failure-{group['id']}"] = limit_file_text(selection.patterns)
    return files


@settings(max_examples=300, deadline=None)
@given(st.lists(EVENTS | IDENTITIES, max_size=30), st.booleans(), GROUPS, st.none() | st.sets(NAMES))
def test_a_snapshot_writes_what_its_manifest_dict_writes(events, complete, group_names, inventory_names):
    snapshot = recorded(events).snapshot(complete, "2026-01-01T00:01:00+00:00")
    manifest = snapshot.manifest()
    data = store.encoding.encode(snapshot)
    assert data == store.encoding.encode(manifest)
    assert json.loads(data) == manifest
    store.validation.validate(manifest, "<snapshot>")
    expected = limit_files_by_select(manifest, group_names, inventory_names)
    texts = functools.partial(limit_file_texts, group_names=group_names, inventory_names=inventory_names)
    assert store.limits.limit_files(snapshot, texts) == expected
    assert store.limits.limit_files(manifest, texts) == expected


@settings(max_examples=50, deadline=None)
@given(st.lists(EVENTS, max_size=30), st.integers(min_value=1, max_value=4))
def test_the_file_is_the_same_whatever_the_chunk_size(events, hosts_per_chunk):
    snapshot = recorded(events).snapshot(True, None)
    assert b"".join(store.encoding.encode_chunks(snapshot, hosts_per_chunk)) == store.encoding.encode(
        snapshot.manifest()
    )


def test_the_manifest_dict_has_lists_of_its_own():
    recorder = recorded([{"e": "play", "name": "p", "batch": ["a", "b"], "pending": []}])
    snapshot = recorder.snapshot(True, None)
    first, second = snapshot.manifest()["hosts"]
    first["statuses"].append("changed")
    assert second["statuses"] == ["all"]
    assert [host["statuses"] for host in snapshot.hosts()] == [["all"]] * 2


def test_published_snapshot_and_its_dict_give_the_same_files(tmp_path):
    events = [
        {"e": "host", "name": "web 1", "identity": "i-1", "identity_var": "relaunch_id"},
        {"e": "play", "name": "p", "batch": ["web 1", "db,2", "!x"], "pending": []},
        {
            "e": "result",
            "host": "web 1",
            "outcome": "failed",
            "play": "p",
            "task": "t",
            "action": "fail",
            "msg": "boom",
        },
        {"e": "result", "host": "db,2", "outcome": "changed"},
        {
            "e": "result",
            "host": "!x",
            "outcome": "unreachable",
            "play": "p",
            "task": "t",
            "action": "ping",
            "msg": None,
        },
    ]
    snapshot = recorded(events).snapshot(True, None)
    written = {}
    for name, manifest in (("snapshot", snapshot), ("dict", snapshot.manifest())):
        directory = tmp_path / name
        store.layout.ensure_run_directory(str(directory))
        store.publishing.publish(
            str(directory),
            manifest,
            keep=5,
            limit_texts=lambda manifest: limit_file_texts(manifest, ["all", "ungrouped"]),
        )
        written[name] = {path.name: path.read_bytes() for path in directory.iterdir() if not path.name.startswith(".")}
    assert written["snapshot"] == written["dict"]
    run_files = {START["run_id"] + suffix for suffix in (".json", ".failed.limit", ".pending.limit")}
    groups = {f"failure-{group['id']}.limit" for group in snapshot.manifest()["failure_groups"]}
    assert len(groups) == 2  # web 1 failed, !x was unreachable
    assert set(written["dict"]) == run_files | {"latest.json"} | groups | {
        f"{status}.limit" for status in STATUSES if status != "all"
    }
    assert written["dict"]["failed.limit"] == b"!x\nweb 1\n"


TEXT = st.text(max_size=12)  # quotes, backslashes, control characters, any unicode


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(TEXT, st.none() | TEXT, st.sampled_from(OUTCOMES), st.none() | TEXT, st.none() | TEXT), max_size=8
    ),
    st.lists(st.tuples(TEXT, TEXT), max_size=3),
)
def test_any_text_is_written_as_json_writes_it(results, provisions):
    """Host lines of a Snapshot are formatted by hand: the same bytes as the C encoder, for any text."""
    events = [{"e": "play", "name": "p", "batch": sorted({name for name, *_rest in results}), "pending": []}]
    for name, identity, outcome, task, message in results:
        events.append({"e": "host", "name": name, "identity": identity, "identity_var": 'var \u00e9"\\'})
        events.append(
            {"e": "result", "host": name, "outcome": outcome, "play": "p", "task": task, "action": "a", "msg": message}
        )
    events += [{"e": "provision", "host": host, "by": by} for host, by in provisions]
    snapshot = recorded(events).snapshot(False, None)
    manifest = snapshot.manifest()
    assert store.encoding.encode(snapshot) == store.encoding.encode(manifest)
    assert json.loads(store.encoding.encode(snapshot)) == manifest
