# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A manifest file is its dict form through the standard JSON encoder, one host a line: pinned byte for byte.

The store formats host lines itself, from host rows, for speed (store/encoding.py). The
expected bytes here come from ``json.dumps`` alone, applied to the dict form of the same
manifest: a Snapshot's ``manifest()``, or a manifest as a reader holds it.
"""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.relaunch.status.plugins.plugin_utils._core import store
from ansible_collections.relaunch.status.plugins.plugin_utils._core.recorder import (
    HOST_KEYS,
    OUTCOMES,
    Recorder,
    host_entry,
    host_row,
)

START = {
    "e": "start",
    "run_id": "20260101T000000000000Z-1-abcd",
    "playbook": "/srv/sité.yml",
    "started": "2026-01-01T00:00:00+00:00",
    "check_mode": False,
    "ansible_version": "2.21.0",
    "invocation": {
        "limit": "web,db",
        "limit_given": "web,db",
        "inventory": ["inventory.ini"],
        "tags": [],
        "skip_tags": [],
    },
    "passwords_needed_to_start": ["become_password"],
}
TEXT = st.text(max_size=12)  # quotes, backslashes, control characters, any unicode
NAMES = st.text(min_size=1, max_size=10)


@st.composite
def runs(draw) -> list[dict]:
    """Events of a run: hosts with or without identities, results of every kind, hosts add_host created."""
    names = draw(st.lists(NAMES, max_size=8, unique=True))
    events = [START]
    for name in names:
        identity = draw(st.none() | TEXT)
        events.append(
            {"e": "host", "name": name, "identity": identity, "identity_var": None if identity is None else draw(TEXT)}
        )
    events.append({"e": "play", "name": "p", "batch": names, "pending": []})
    for name in draw(st.lists(st.sampled_from(names), max_size=20)) if names else ():
        event = {"e": "result", "host": name, "outcome": draw(st.sampled_from(OUTCOMES))}
        if event["outcome"] in ("failed", "unreachable"):
            event.update(
                ignored=draw(st.booleans()),
                rescued=draw(st.booleans()),
                play="p",
                task=draw(st.none() | TEXT),
                action="a",
                msg=draw(st.none() | TEXT),
            )
        events.append(event)
    for host, by in draw(st.lists(st.tuples(NAMES, st.sampled_from([*names, "localhost"])), max_size=3)):
        events.append(
            {
                "e": "provision",
                "host": host,
                "by": by,
                "identity": draw(st.none() | TEXT),
                "identity_var": "relaunch_id",
            }
        )
    if names and draw(st.booleans()):
        events.append({"e": "verdict", "failed": draw(st.lists(st.sampled_from(names), unique=True))})
    return events


def recorded(events: list[dict]) -> Recorder:
    recorder = Recorder()
    for event in events:
        recorder.apply(event)
    return recorder


def json_file(manifest: dict) -> bytes:
    """The file of a manifest, written with json.dumps alone: its other keys, then one host entry a line."""
    head = json.dumps({key: value for key, value in manifest.items() if key != "hosts"}, ensure_ascii=False)[:-1]
    lines = [json.dumps(host, ensure_ascii=False) for host in manifest["hosts"]]
    if not lines:
        return (head + ', "hosts": []}\n').encode("utf-8")
    return (head + ', "hosts": [\n' + ",\n".join(lines) + "\n]}\n").encode("utf-8")


@settings(max_examples=300, deadline=None)
@given(runs(), st.booleans())
def test_a_manifest_is_written_as_json_dumps_writes_its_dict(events, complete):
    snapshot = recorded(events).snapshot(complete, "2026-01-01T00:01:00+00:00" if complete else None)
    manifest = snapshot.manifest()
    expected = json_file(manifest)
    assert store.encoding.encode(snapshot) == expected
    assert store.encoding.encode(manifest) == expected
    assert b"".join(store.encoding.encode_chunks(snapshot, hosts_per_chunk=2)) == expected


@settings(max_examples=100, deadline=None)
@given(runs())
def test_rows_and_entries_are_one_definition(events):
    snapshot = recorded(events).snapshot(True, None)
    entries = list(snapshot.hosts())
    assert [host_entry(row) for row in snapshot.rows()] == entries
    assert [host_entry(host_row(entry)) for entry in entries] == entries
    assert all(list(entry) == list(HOST_KEYS) for entry in entries)


def test_a_host_line_pinned():
    events = [
        START,
        {"e": "host", "name": 'wéb "1"', "identity": "i-\u2028", "identity_var": "relaunch_id"},
        {"e": "play", "name": "p", "batch": ['wéb "1"'], "pending": []},
        {
            "e": "result",
            "host": 'wéb "1"',
            "outcome": "failed",
            "play": "p",
            "task": "Deploy",
            "action": "fail",
            "msg": "disk\\full 🚀",
        },
        {"e": "provision", "host": "vm", "by": 'wéb "1"', "identity": None, "identity_var": None},
        {"e": "play", "name": "p2", "batch": ["vm"], "pending": []},
    ]
    lines = store.encoding.encode(recorded(events).snapshot(True, None)).decode("utf-8").split("\n")
    assert lines[1:] == [
        '{"name": "vm", "identity": null, "identity_var": null, "statuses": ["all"], '
        '"counters": {"ok": 0, "changed": 0, "failures": 0, "unreachable": 0, "skipped": 0, "rescued": 0, '
        '"ignored": 0}, "provisioned": true, "provisioned_by": ["wéb \\"1\\""], "first_failure": null, '
        '"run_id": "' + START["run_id"] + '", "finished": null},',
        '{"name": "wéb \\"1\\"", "identity": "i-\u2028", "identity_var": "relaunch_id", '
        '"statuses": ["all", "failed", "pending"], '
        '"counters": {"ok": 0, "changed": 0, "failures": 1, "unreachable": 0, "skipped": 0, "rescued": 0, '
        '"ignored": 0}, "provisioned": false, "provisioned_by": [], '
        '"first_failure": {"play": "p", "task": "Deploy", "action": "fail", "unreachable": false, '
        '"message": "disk\\\\full 🚀"}, "run_id": "' + START["run_id"] + '", "finished": null}',
        "]}",
        "",
    ]
