# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bad input to the readers: whatever the bytes of a manifest or the value of an option,
the answer is a manifest that every reader can use, or one RelaunchError: a single line
naming the file or the option, with no other exception and no traceback chained to it."""

from __future__ import annotations

import json
import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.relaunch.status.plugins.plugin_utils._core import store
from ansible_collections.relaunch.status.plugins.plugin_utils._core.errors import RelaunchError
from ansible_collections.relaunch.status.plugins.plugin_utils._core.recorder import MESSAGE_MAX, STATUSES
from ansible_collections.relaunch.status.plugins.plugin_utils._core.selection import (
    CurrentHost,
    limit_file_texts,
    parse_statuses,
    select,
)
from ansible_collections.relaunch.status.plugins.plugin_utils._core.store import validation

from .manifests import host_entry, host_names, make_manifest


def assert_one_clear_error(exc: RelaunchError, *names: str) -> str:
    message = str(exc)
    assert exc.__class__ is RelaunchError  # exactly, not a subclass
    assert len(message.splitlines()) == 1, message
    assert exc.__cause__ is None and (exc.__suppress_context__ or exc.__context__ is None), (
        "a traceback would be chained"
    )
    for name in names:
        assert name in message, (name, message)
    assert len(message) < 1000 + sum(map(len, names)), "an unreadably long message"
    return message


def load_or_error(path: str):
    """load() gives a usable manifest or one clear error naming the file; nothing else escapes."""
    try:
        manifest = store.reading.load(path)
    except RelaunchError as exc:
        assert_one_clear_error(exc, path.replace("\n", " "))
        return None
    # Whatever load() accepts, the selection engine can use without crashing.
    names = [host["name"] for host in manifest["hosts"]]
    for status in STATUSES:
        try:
            select(
                [(path, manifest)],
                [status],
                [CurrentHost(name, "i") for name in names[::2]],
                ["all", "ungrouped"],
                allow_empty=True,
            )
        except RelaunchError as exc:
            assert_one_clear_error(exc)
    return manifest


@pytest.fixture(scope="module")
def manifest_path(tmp_path_factory):
    return str(tmp_path_factory.mktemp("fuzz") / "latest.json")


def valid_manifest() -> dict:
    return make_manifest(
        [
            host_entry("web1", ("failed",), "i-1"),
            host_entry("db1", ("ok", "changed")),
            host_entry("new", ("failed",), provisioned_by=["web1"]),
        ],
        limit="web,db",
        passwords=["become_password"],
    )


json_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from((10**400, -(10**400), 2**63, -1, 0, 1, 2, 999)),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(STATUSES),
    st.sampled_from(("", "failed", "FAILED", "not_run ", "x" * 5000)),
)
json_values = st.recursive(
    json_leaves,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


def paths_of(value, prefix=()):
    """Every path (tuple of keys/indexes) inside a JSON value."""
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths_of(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from paths_of(item, (*prefix, index))


@st.composite
def mutated_manifests(draw) -> bytes:
    """A valid manifest with a few values replaced, removed, or nested very deep."""
    manifest = valid_manifest()
    for _level in range(draw(st.integers(1, 3))):
        paths = [path for path in paths_of(manifest) if path]
        path = draw(st.sampled_from(paths))
        parent = manifest
        for key in path[:-1]:
            parent = parent[key]
        action = draw(st.sampled_from(("replace", "replace", "delete", "deep")))
        if action == "delete":
            del parent[path[-1]]
        elif action == "deep":
            # Nesting too deep to build as a Python value: splice it into the text.
            depth = draw(st.sampled_from((50, 900, 5000, 100_000)))
            parent[path[-1]] = "__DEEP__"
            text = json.dumps(manifest, allow_nan=True)
            return text.replace('"__DEEP__"', "[" * depth + "]" * depth, 1).encode()
        else:
            parent[path[-1]] = draw(json_values)
    return json.dumps(manifest, allow_nan=True).encode()


# Values that a quick check could take for valid ones: true for 1, 1.0 for 1, a message one character too long.
near_values = st.sampled_from((True, False, 1, 0, 1.0, 2.0, -1, None, "", [], {}, ["all"], "m" * (MESSAGE_MAX + 1)))


@st.composite
def host_entry_lists(draw) -> list:
    """Host entries as a large manifest holds them, many alike, some with a value replaced or a key removed."""
    entries = []
    for index in range(draw(st.integers(1, 6))):
        statuses = draw(st.sampled_from((("failed",), ("failed", "unreachable"), ("ok",), ("ok", "changed"))))
        host = host_entry(f"h{index}", statuses, draw(st.sampled_from((None, "i-1"))))
        if "failed" in host["statuses"]:
            host["counters"]["failures"] = 1
            host["first_failure"] = {
                "play": "p",
                "task": "t",
                "action": "a",
                "unreachable": "unreachable" in statuses,
                "message": draw(st.sampled_from((None, "boom", "m" * MESSAGE_MAX))),
            }
        for _change in range(draw(st.integers(0, 2))):
            path = draw(st.sampled_from([path for path in paths_of(host) if path]))
            parent = host
            for key in path[:-1]:
                parent = parent[key]
            if draw(st.integers(0, 4)) == 0:
                del parent[path[-1]]
            else:
                parent[path[-1]] = draw(st.one_of(near_values, json_values))
        entries.append(host)
    return entries


@given(host_entry_lists())
def test_the_quick_check_of_host_entries_accepts_only_what_every_rule_accepts(hosts):
    rules = validation._RULES[validation.SCHEMA_VERSION]
    seen = validation._Seen()
    for host in hosts:
        if validation._quick_host(host, seen):
            assert validation._host_problem(host, rules) is None, host
    # A manifest of them is refused for the first entry that breaks a rule, as the rules checked one by one say.
    problems = ((index, validation._host_problem(host, rules)) for index, host in enumerate(hosts))
    expected = next((f"hosts[{index}]{problem}" for index, problem in problems if problem), None)
    assert validation._hosts_problem(hosts, rules) == expected


def test_a_value_equal_to_one_found_valid_is_not_taken_for_it():
    good = host_entry("a", ("failed",))
    good["counters"]["failures"] = 1
    good["first_failure"] = {"play": "p", "task": "t", "action": "a", "unreachable": False, "message": "boom"}
    bad_counter = host_entry("b", ("failed",))
    bad_counter["counters"]["failures"] = True
    bad_failure = {**good, "name": "c", "first_failure": {**good["first_failure"], "unreachable": 0}}
    with pytest.raises(RelaunchError, match=r"hosts\[1\]\.counters is not a map"):
        validation.validate(make_manifest([good, bad_counter]), "m.json")
    with pytest.raises(RelaunchError, match=r"hosts\[1\]\.first_failure is not null or an object"):
        validation.validate(make_manifest([good, bad_failure]), "m.json")


def truncated() -> st.SearchStrategy[bytes]:
    data = store.encoding.encode(valid_manifest())
    return st.integers(0, len(data) - 1).map(lambda cut: data[:cut])


manifest_bytes = st.one_of(
    st.binary(max_size=300),
    truncated(),
    mutated_manifests(),
    st.builds(lambda value: json.dumps(value, allow_nan=True).encode(), json_values),
    st.builds(
        lambda data, junk: data + junk,
        st.just(store.encoding.encode(valid_manifest())),
        st.binary(min_size=1, max_size=10),
    ),
    st.builds(
        lambda text: text.encode("latin-1", "replace"),
        st.text(max_size=50).map(lambda text: json.dumps({"schema_version": 1, "run_id": "\u00e9" + text})),
    ),
)


@given(manifest_bytes)
def test_any_bytes_give_a_manifest_or_one_clear_error(manifest_path, data):
    with open(manifest_path, "wb") as handle:
        handle.write(data)
    load_or_error(manifest_path)


@given(st.one_of(st.integers(), st.sampled_from((0, 1, 2, -1, 2**63, 10**300))))
def test_schema_versions(manifest_path, version):
    manifest = valid_manifest()
    manifest["schema_version"] = version
    with open(manifest_path, "wb") as handle:
        handle.write(store.encoding.encode(manifest))
    if version == store.validation.SCHEMA_VERSION:
        assert store.reading.load(manifest_path)["schema_version"] == version
        return
    with pytest.raises(RelaunchError) as caught:
        store.reading.load(manifest_path)
    message = assert_one_clear_error(caught.value, manifest_path)
    if version > store.validation.SCHEMA_VERSION:
        assert "upgrade relaunch.status" in message
    elif version in store.validation.SCHEMA_VERSIONS:
        assert "is not a relaunch.status manifest" in message  # read by that older version's rules: keys it lacks
    else:
        assert "unknown schema version" in message


@given(
    st.lists(
        st.tuples(host_names, st.lists(st.sampled_from(STATUSES[1:]), max_size=3), st.none() | host_names),
        max_size=6,
        unique_by=lambda host: host[0],
    )
)
def test_encode_and_load_round_trip(manifest_path, hosts):
    manifest = make_manifest(
        [host_entry(name, statuses, identity) for name, statuses, identity in hosts],
        limit="".join(name for name, _s, _i in hosts),
    )
    with open(manifest_path, "wb") as handle:
        handle.write(store.encoding.encode(manifest))
    assert store.reading.load(manifest_path) == manifest


DEEP = [
    pytest.param(b"[" * 100_000 + b"]" * 100_000, id="deep list"),
    pytest.param(b'{"a":' * 100_000 + b"1" + b"}" * 100_000, id="deep object"),
    pytest.param(b'{"schema_version": 1, "hosts": ' + b"[" * 50_000 + b"]" * 50_000 + b"}", id="deep hosts"),
    pytest.param(b"9" * 5000, id="integer with 5000 digits"),
    pytest.param(b'{"schema_version": ' + b"9" * 5000 + b"}", id="schema version with 5000 digits"),
    pytest.param(b'{"schema_version": ' + b"9" * 400 + b"}", id="schema version too large for a float"),
    pytest.param(b'{"schema_version": -' + b"9" * 400 + b"}", id="schema version too small for a float"),
    pytest.param(b'{"schema_version": 1e999}', id="infinite schema version"),
    pytest.param(b'{"schema_version": NaN}', id="NaN schema version"),
    pytest.param(b'{"schema_version": 1.0}', id="float schema version"),
    pytest.param(b'{"schema_version": true}', id="boolean schema version"),
    pytest.param(b"\xff\xfe\x00\x00", id="bad UTF-32"),
    pytest.param(b"\xef\xbb\xbf{}", id="UTF-8 BOM"),
    pytest.param(b'{"schema_version": 1, "run_id": "\xe9"}', id="latin-1 text"),
    pytest.param(b"", id="empty file"),
    pytest.param(b"null", id="null"),
]


@pytest.mark.parametrize("data", DEEP)
def test_hostile_documents(manifest_path, data):
    with open(manifest_path, "wb") as handle:
        handle.write(data)
    with pytest.raises(RelaunchError) as caught:
        store.reading.load(manifest_path)
    assert_one_clear_error(caught.value, manifest_path)


@pytest.mark.parametrize(
    ("mutate", "words"),
    [
        pytest.param(
            lambda m: m["hosts"][0].update(statuses=["all", "exploded"]), "hosts[0].statuses", id="unknown host status"
        ),
        pytest.param(lambda m: m["retry_counts"].update(exploded=1), "retry_counts", id="unknown counted status"),
        pytest.param(lambda m: m["retry_counts"].update(failed=-1), "retry_counts", id="negative count"),
        pytest.param(lambda m: m["retry_counts"].update(failed="x" * 100_000), "retry_counts", id="huge bad count"),
        pytest.param(lambda m: m["retry_counts"].update({"x" * 100_000: 1}), "retry_counts", id="huge bad status"),
        pytest.param(lambda m: m["hosts"][1].pop("name"), "hosts[1].name", id="host without name"),
        pytest.param(lambda m: m["hosts"][1].update(name=""), "hosts[1].name", id="empty host name"),
        pytest.param(lambda m: m["hosts"][1].update(identity=5), "hosts[1].identity", id="numeric identity"),
        pytest.param(
            lambda m: m["hosts"][2].update(provisioned_by="web1"), "provisioned_by", id="provisioned_by a string"
        ),
        pytest.param(lambda m: m["hosts"][2].update(provisioned="yes"), "provisioned", id="provisioned a string"),
        pytest.param(lambda m: m["hosts"].append(None), "hosts[3]", id="null host"),
        pytest.param(lambda m: m.pop("hosts"), "hosts", id="no hosts"),
        pytest.param(lambda m: m["invocation"].pop("limit"), "invocation.limit", id="no limit"),
        pytest.param(lambda m: m.update(invocation=[]), "invocation", id="invocation a list"),
        pytest.param(
            lambda m: m.update(passwords_needed_to_start=[None]), "passwords_needed_to_start", id="null password name"
        ),
        pytest.param(lambda m: m.update(complete="false"), "complete", id="complete a string"),
    ],
)
def test_wrong_types_and_missing_keys(manifest_path, mutate, words):
    manifest = valid_manifest()
    mutate(manifest)
    with open(manifest_path, "w", encoding="utf-8") as handle:
        json.dump(manifest, handle)
    with pytest.raises(RelaunchError) as caught:
        store.reading.load(manifest_path)
    assert words in assert_one_clear_error(caught.value, manifest_path)


@pytest.mark.parametrize(
    "name", ["m.json", "with space.json", "new\nline.json", "sep\u2028ar.json", "tab\t.json", "\u00e9t\u00e9.json"]
)
def test_file_names_in_errors_stay_on_one_line(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"{not json")
    with pytest.raises(RelaunchError) as caught:
        store.reading.load(str(path))
    message = assert_one_clear_error(caught.value)
    assert str(tmp_path) in message and name.splitlines()[0] in message


@pytest.mark.parametrize("where", ["missing", "directory", "nul"])
def test_unreadable_paths(tmp_path, where):
    path = {"missing": str(tmp_path / "nope.json"), "directory": str(tmp_path), "nul": str(tmp_path / "a\x00b.json")}[
        where
    ]
    with pytest.raises(RelaunchError) as caught:
        store.reading.load(path)
    assert_one_clear_error(caught.value, str(tmp_path))


# --- options -------------------------------------------------------------------------------------

option_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(),
        st.binary(max_size=10),
        st.text(max_size=30),
        st.sampled_from(STATUSES),
        st.lists(st.sampled_from(STATUSES), max_size=4).map(",".join),
        st.lists(st.sampled_from((*STATUSES, " ", "", "FAILED", "fail", "all\n", "failed\u2028")), max_size=4).map(
            ", ".join
        ),
    ),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=5), inner, max_size=3)
        | st.sets(st.sampled_from(STATUSES))
    ),
    max_leaves=8,
)


@given(option_values, st.sampled_from(("hosts", "_terms", "relaunch_hosts")))
def test_statuses_option_gives_statuses_or_one_clear_error(value, option):
    try:
        statuses = parse_statuses(value, option)
    except RelaunchError as exc:
        assert_one_clear_error(exc, f"option {option}")
        return
    assert statuses and len(set(statuses)) == len(statuses)
    assert set(statuses) <= set(STATUSES)
    # Only what was given: every status appears, stripped, in the value.
    flat = value if isinstance(value, str) else ",".join(item for item in value)
    assert all(status in {part.strip() for part in flat.split(",")} for status in statuses)


# --- locate ----------------------------------------------------------------------------------------


def publish_run(root, stem: str) -> str:
    directory = os.path.join(root, stem)
    store.layout.ensure_run_directory(directory)
    return store.publishing.publish(
        directory,
        make_manifest([host_entry("a")], run_id=store.layout.new_run_id()),
        keep=5,
        limit_texts=limit_file_texts,
    )


def test_locate_missing_and_empty(tmp_path):
    for location, words in [
        ("", "option manifest"),
        (str(tmp_path / "missing"), "does not exist"),
        (str(tmp_path / "a\x00b"), "does not exist"),
        (str(tmp_path), "no manifest in"),
    ]:
        with pytest.raises(RelaunchError) as caught:
            store.reading.locate(location)
        assert words in assert_one_clear_error(caught.value)


def test_locate_file_run_directory_and_one_playbook(tmp_path):
    path = publish_run(tmp_path, "site")
    latest = str(tmp_path / "site" / "latest.json")
    assert store.reading.locate(path) == path
    assert store.reading.locate(str(tmp_path / "site")) == latest
    assert store.reading.locate(str(tmp_path)) == latest
    assert store.reading.locate(str(tmp_path), playbook="/srv/site.yml") == latest


def test_locate_several_playbooks_needs_a_choice(tmp_path):
    publish_run(tmp_path, "site")
    publish_run(tmp_path, "deploy")
    with pytest.raises(RelaunchError) as caught:
        store.reading.locate(str(tmp_path))
    message = assert_one_clear_error(caught.value, str(tmp_path))
    assert "deploy" in message and "site" in message
    assert store.reading.locate(str(tmp_path), playbook="deploy.yml") == str(tmp_path / "deploy" / "latest.json")
    with pytest.raises(RelaunchError) as caught:
        store.reading.locate(str(tmp_path), playbook="other.yml")
    assert "'other'" in assert_one_clear_error(caught.value, str(tmp_path))


@given(host_names.filter(lambda name: "/" not in name and name.strip() not in ("", ".", "..")))
def test_locate_any_missing_name(tmp_path_factory, name):
    root = tmp_path_factory.getbasetemp()
    location = os.path.join(str(root), "absent", name)
    with pytest.raises(RelaunchError) as caught:
        store.reading.locate(location)
    assert_one_clear_error(
        caught.value, location.translate(dict.fromkeys(map(ord, "\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"), " "))
    )
