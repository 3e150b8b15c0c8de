# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The published JSON Schema and the reader accept and reject the same documents.

Documents start as valid manifests and get random edits anywhere in them (a value
replaced, a key removed or added); docs/manifest.schema.json, checked by a real
JSON Schema validator, and the collection's reader (``manifest.validate``) must
agree on every one, and the reader may only refuse with its one-line error.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.relaunch.status.plugins.plugin_utils._core import failures
from ansible_collections.relaunch.status.plugins.plugin_utils._core.errors import RelaunchError
from ansible_collections.relaunch.status.plugins.plugin_utils._core.recorder import (
    COUNTERS,
    FAILURE_KEYS,
    HOST_KEYS,
    MESSAGE_MAX,
    STATUSES,
)
from ansible_collections.relaunch.status.plugins.plugin_utils._core.store import validation
from ansible_collections.relaunch.status.plugins.plugin_utils._core.store.layout import RUN_ID_PATTERN
from ansible_collections.relaunch.status.plugins.plugin_utils._core.store.validation import validate

from .manifests import host_entry, make_manifest

SCHEMA = json.loads((Path(__file__).parents[2] / "docs" / "manifest.schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)

# Values near the rules' edges: names the rules know, numbers on both sides of 0, integral floats, near-timestamps.
EDGE_TEXT = (
    *STATUSES,
    *COUNTERS,
    "",
    "x",
    "ALL",
    "ssh_password",
    "become_password",
    "vault_password",
    "vault_password.prod",
    "vault_password.",
    "ssh_password\n",
    "my-secret",
    "2026-01-01T00:00:00+00:00",
    "2026-01-01T00:00:00Z",
    "2026-01-01T00:00:00.5+01:00",
    "2026-01-01T00:00:00",
    "2026-01-01 00:00:00+00:00",
    "20260101T000000000000Z-1-abcd",
    "20260101T000000000000Z-1-ABCD",
    "x" * 301,
    "limit_given",
    "play",
    "message",
    "id",
    "0badc0de",
    "0BADC0DE",
    "0badc0de0",
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-2, max_value=3),
    st.sampled_from((2.0, -1.0, 0.5, 1.0, -0.0, 1e300)),
    st.sampled_from(EDGE_TEXT),
    st.text(max_size=8),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(EDGE_TEXT) | st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)


def valid_manifest(limit_given: bool, failure_message: str | None, group_id: bool = True) -> dict:
    hosts = [
        host_entry("web1", ("ok", "changed"), "id-1"),
        host_entry("web2", ("failed",)),
        host_entry("vm", ("ok",), None, ["web1"]),
    ]
    hosts[1]["first_failure"] = {
        "play": "Site",
        "task": "Deploy",
        "action": "fail",
        "unreachable": False,
        "message": failure_message,
    }
    hosts[0]["counters"]["ok"] = 2
    manifest = make_manifest(hosts, limit="web1,web2", passwords=["become_password", "vault_password.prod"])
    if limit_given:
        manifest["invocation"]["limit_given"] = "@failed.limit"
    group = {"task": "Deploy", "action": "fail", "message": failure_message, "example": failure_message}
    group.update(unreachable=False, hosts=["web2"])
    if group_id:  # manifests of earlier versions have none
        group["id"] = failures.group_id("Deploy", "fail", False, failure_message)
    manifest["failure_groups"] = [group]
    return manifest


def reader_accepts(document: object) -> bool:
    try:
        validate(document, "m.json")
    except RelaunchError as exc:
        assert "\n" not in str(exc)
        return False
    return True


@st.composite
def edited_manifests(draw) -> dict:
    document = valid_manifest(
        draw(st.booleans()), draw(st.sampled_from((None, "boom", "x" * 300))), group_id=draw(st.booleans())
    )
    for _edit in range(draw(st.integers(min_value=1, max_value=3))):
        # Walk down to a random place, then change what is there.
        parent: dict | list | None = None
        key: object = None
        node: object = document
        while isinstance(node, (dict, list)) and node and draw(st.integers(min_value=0, max_value=3)):
            parent, key = node, draw(st.sampled_from(sorted(node) if isinstance(node, dict) else range(len(node))))
            node = node[key]
        action = draw(st.sampled_from(("replace", "remove", "add")))
        if parent is None:
            if isinstance(document, dict) and action != "replace":
                target = document
            else:
                return draw(values)
        elif action == "replace":
            parent[key] = draw(values)
            continue
        else:
            target = parent
        if action == "remove" and target:
            if isinstance(target, dict):
                del target[draw(st.sampled_from(sorted(target)))]
            else:
                del target[draw(st.integers(min_value=0, max_value=len(target) - 1))]
        elif isinstance(target, dict):
            target[draw(st.sampled_from(EDGE_TEXT) | st.text(max_size=4))] = draw(values)
        else:
            target.append(
                copy.deepcopy(draw(st.sampled_from(target)) if target and draw(st.booleans()) else draw(values))
            )
    return document


def is_schema_1(document: object) -> bool:
    """A document that claims schema version 1, which the reader still reads by that version's rules."""
    version = document.get("schema_version") if isinstance(document, dict) else None
    return not isinstance(version, bool) and version == 1


@given(edited_manifests())
def test_schema_and_reader_accept_the_same_documents(document):
    if is_schema_1(document):
        # The published schema states version 2, the one written; readers judge a version-1 manifest by its rules.
        assert not VALIDATOR.is_valid(document)
        return
    assert reader_accepts(document) == VALIDATOR.is_valid(document), [
        error.message for error in VALIDATOR.iter_errors(document)
    ][:3]


@given(st.booleans(), st.sampled_from((None, "boom", "x" * 300)))
def test_valid_manifests_pass_both(limit_given, message):
    document = valid_manifest(limit_given, message)
    assert reader_accepts(document) and VALIDATOR.is_valid(document)


def test_a_schema_1_manifest_is_still_read():
    document = valid_manifest(True, "boom")
    document["schema_version"] = 1
    for key in ("narrowed", "rollout", "failure_groups"):
        del document[key]
    del document["retry_counts"]["pending"]
    for host in document["hosts"]:
        del host["run_id"], host["finished"]
        host["statuses"].remove("pending") if "pending" in host["statuses"] else None
    assert reader_accepts(document)
    document["hosts"][0]["statuses"].append("pending")  # a status schema 1 did not have
    assert not reader_accepts(document)


def test_the_schema_states_the_rules_the_collection_states_once():
    # Each rule is stated once in the code (the store's run id, the recorder's names and limits); the published
    # schema must state the same, so a name or pattern changed on one side only fails here, not in a user's hands.
    defs, host = SCHEMA["$defs"], SCHEMA["$defs"]["host"]
    failure = host["properties"]["first_failure"]["oneOf"][1]
    assert SCHEMA["properties"]["run_id"]["pattern"] == RUN_ID_PATTERN
    group = SCHEMA["properties"]["failure_groups"]["items"]
    assert group["properties"]["id"]["pattern"] == failures.ID_PATTERN == validation._GROUP_ID.pattern
    assert set(group["required"]) == validation._GROUP_KEYS == set(group["properties"]) - {"id"}
    assert set(SCHEMA["required"]) == validation._TOP_KEYS
    assert set(SCHEMA["properties"]) == validation._TOP_KEYS | validation._TOP_OPTIONAL
    assert defs["timestamp"]["pattern"] == validation._TIMESTAMP.pattern
    assert SCHEMA["properties"]["passwords_needed_to_start"]["items"]["pattern"] == validation._PASSWORD.pattern
    assert defs["status"]["enum"] == list(STATUSES) == SCHEMA["properties"]["retry_counts"]["required"]
    assert host["required"] == list(HOST_KEYS)
    assert host["properties"]["counters"]["required"] == list(COUNTERS)
    assert failure["required"] == list(FAILURE_KEYS)
    assert failure["properties"]["message"]["maxLength"] == MESSAGE_MAX
