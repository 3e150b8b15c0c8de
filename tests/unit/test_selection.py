# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The selection engine, case by case: statuses, patterns, merged limits, identities,
provisioned hosts and refusals. tests/property/ holds the properties over random input."""

from __future__ import annotations

import re

import pytest

from ansible_collections.relaunch.status.plugins.plugin_utils._core.errors import RelaunchError
from ansible_collections.relaunch.status.plugins.plugin_utils._core.failures import group_id
from ansible_collections.relaunch.status.plugins.plugin_utils._core.recorder import (
    STATUSES,
    Manifest,
    failure_groups,
    host_row,
    manifest_parts,
)
from ansible_collections.relaunch.status.plugins.plugin_utils._core.selection import (
    CurrentHost,
    FailureGroupChoice,
    RecordedHosts,
    host_patterns,
    limit_file_text,
    limit_string,
    merge_limits,
    needs_regex,
    parse_group,
    parse_statuses,
    regex_pattern,
    select,
)
from tests.property.manifests import host_entry, make_manifest

GROUPS = ["all", "ungrouped"]

# --- statuses --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("failed", ["failed"]),
        ("failed,not_run", ["failed", "not_run"]),
        (" failed , not_run ,", ["failed", "not_run"]),
        ("failed,failed", ["failed"]),
        (["failed", "unreachable"], ["failed", "unreachable"]),
        (("ok",), ["ok"]),
        (["failed,changed", "ok"], ["failed", "changed", "ok"]),
        (list(STATUSES), list(STATUSES)),
    ],
)
def test_parse_statuses(value, expected):
    assert parse_statuses(value) == expected


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("failled", "unknown status 'failled'"),
        ("FAILED", "unknown status 'FAILED'"),
        ("", "no status given"),
        (" , ", "no status given"),
        ([], "no status given"),
        ([None], "None is not a status"),
        ([["failed"]], "is not a status"),
        (None, "got NoneType"),
        (3, "got int"),
        ({"failed": True}, "got dict"),
        (b"failed", "got bytes"),
        ("x" * 10_000, "unknown status"),
    ],
)
def test_parse_statuses_refuses(value, words):
    with pytest.raises(RelaunchError) as caught:
        parse_statuses(value, option="relaunch_hosts")
    message = str(caught.value)
    assert message.startswith("option relaunch_hosts: ")
    assert words in message
    assert "use one or more of all, failed," in message
    assert len(message) < 300


# --- patterns --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "regex"),
    [
        ("web1", False),
        ("web1.example.com", False),
        ("a:b", False),  # limits always hold a comma, so they are never split on colons
        ("a b", False),
        ("!a", False),
        ("&a", False),
        ("all", False),
        ("\u00e9t\u00e9", False),
        ("a\u2028b", False),  # only the limit file's "\n" and str.strip() matter inside a name
        ("", True),
        ("a,b", True),
        ("@a", True),
        ("-a", True),
        (" a", True),
        ("a ", True),
        ("a\u3000", True),
        ("a\x85", True),
        ("\x1ca", True),
        ("a\nb", True),
        ("a\rb", True),
        ("a\x00b", True),
        # Exact only while the host exists: a stale limit file would glob, subscript or regex.
        ("w*", True),
        ("w?", True),
        ("b[1]", True),
        ("[::1]", True),
        ("~a", True),
    ],
)
def test_needs_regex(name, regex):
    assert needs_regex(name) is regex


@pytest.mark.parametrize(
    "name", ["a", "a.b", " a ", "a,b", "a\nb", "a\n", "\u00e9", "\U0001f600", "(x)|y", "\\", "$^", "x" * 3000]
)
def test_regex_pattern_matches_exactly_the_name(name):
    pattern = regex_pattern(name)
    assert pattern.startswith("~^")
    assert not re.search(r"[,\s]", pattern)
    compiled = re.compile(pattern[1:])
    assert compiled.match(name)
    for other in (name + "\n", name + "x", name[:-1], "x" + name, name.upper() if name.upper() != name else name + "A"):
        assert not compiled.match(other), other


def test_patterns_write_plain_names_as_themselves():
    assert host_patterns(["a", "b"], {"a", "b", "c"}, GROUPS) == ["a", "b"]


def test_patterns_write_absent_names_as_regexes():
    # Only hosts of the inventory are matched by exact name first: add_host creates these later.
    assert host_patterns(["new"], set(), GROUPS) == [r"~^new\Z"]


def test_patterns_lead_with_a_plain_pattern():
    # Only '!' or '&' patterns would make ansible-core add "all".
    assert host_patterns(["!a", "&b"], {"!a", "&b"}, GROUPS) == [r"~^\x21a\Z", "&b"]


def test_patterns_lead_with_a_pattern_matching_nothing_when_a_group_has_the_name():
    assert host_patterns(["!a"], {"!a"}, [*GROUPS, "!a"]) == ["~(?!)", "!a"]


def test_patterns_never_equal_another_host_name():
    patterns = host_patterns([" a"], {" a", r"~^\x20a\Z"}, GROUPS)
    assert patterns == [r"~^(?:)\x20a\Z"]


def test_patterns_refuse_a_regex_that_matches_a_group():
    with pytest.raises(RelaunchError, match=r"host 'web' cannot be selected exactly: .* group 'web'"):
        host_patterns(["web"], set(), [*GROUPS, "web"])


@pytest.mark.parametrize(
    ("patterns", "inline", "text"),
    [
        ([], "", ""),
        (["a"], "a,", "a\n"),
        (["a", "b"], "a,b", "a\nb\n"),
        ([r"~^a\Z"], r"~^a\Z,", "~^a\\Z\n"),
    ],
)
def test_limit_string_and_file(patterns, inline, text):
    assert limit_string(patterns) == inline
    assert limit_file_text(patterns) == text


# --- merged limits ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("limits", "merged"),
    [
        ({"web"}, "web"),
        ({"!web"}, "!web"),
        ({"a b"}, "a b"),
        ({"", "web"}, ""),
        ({",", "web"}, ""),  # no pattern at all: the run had no limit
        ({"web", "db"}, "db,web"),
        ({"web,", "db,app"}, "db,app,web"),
        ({"@/srv/a.limit", "db"}, "@/srv/a.limit,db"),
        ({"web", "!db"}, None),
        ({"web", "a,&db"}, None),
        ({"web", "a, !db"}, None),
        ({"web", "a:b"}, None),  # ansible-core splits a comma-less limit on colons ...
        ({"web", "a b"}, None),  # ... and on spaces
        ({"web", "web[0:2]"}, None),
    ],
)
def test_merge_limits(limits, merged):
    assert merge_limits(limits) == merged


# --- select ----------------------------------------------------------------------------------


def selected(hosts, current, statuses=("failed",), limit="", **options):
    manifest = make_manifest(hosts, limit=limit)
    return select([("/runs/site/latest.json", manifest)], list(statuses), current, GROUPS, **options)


def test_renamed_host_is_selected_by_its_current_name():
    selection = selected(
        [host_entry("foobar", identity="id-1")], [CurrentHost("foo", "id-1"), CurrentHost("foobar", None)]
    )
    assert selection.hosts == ["foo"]
    assert selection.renamed == {"foobar": "foo"}
    assert selection.limit == "foo,"


def test_same_name_other_identity_is_another_machine():
    selection = selected(
        [host_entry("web1", identity="id-1"), host_entry("web2")], [CurrentHost("web1", "id-9"), CurrentHost("web2")]
    )
    assert selection.hosts == ["web2"]
    assert selection.unresolved == [
        {
            "name": "web1",
            "identity": "id-1",
            "reason": "current host 'web1' has identity 'id-9', not 'id-1': a different machine",
        }
    ]
    assert any("not selecting 'web1'" in warning for warning in selection.warnings)


def test_identity_held_by_several_hosts_is_not_guessed():
    selection = selected(
        [host_entry("a", identity="dup"), host_entry("b")],
        [CurrentHost("a", "dup"), CurrentHost("a2", "dup"), CurrentHost("b")],
    )
    assert selection.hosts == ["b"]
    assert "held by 2 current hosts" in selection.unresolved[0]["reason"]


def test_missing_host_is_reported_not_dropped():
    selection = selected([host_entry("gone"), host_entry("b")], [CurrentHost("b")])
    assert selection.hosts == ["b"]
    assert selection.unresolved == [{"name": "gone", "identity": None, "reason": "not in the current inventory"}]


def test_statuses_are_a_union():
    hosts = [host_entry("f"), host_entry("n", ("not_run",)), host_entry("o", ("ok",))]
    current = [CurrentHost(name) for name in "fno"]
    assert selected(hosts, current, ("failed", "not_run")).hosts == ["f", "n"]


def test_provisioned_hosts_select_their_provisioners():
    hosts = [
        host_entry("vm1", provisioned_by=["builder"]),
        host_entry("builder", ("ok",)),
        host_entry("other", ("ok",)),
    ]
    selection = selected(hosts, [CurrentHost("builder"), CurrentHost("other")])
    assert selection.hosts == ["builder"]
    assert selection.provisioned == ["vm1"]
    assert selection.limit == r"builder,~^vm1\Z"


def test_provisioner_renamed_since():
    hosts = [host_entry("vm1", provisioned_by=["builder"]), host_entry("builder", ("ok",), identity="b-1")]
    assert selected(hosts, [CurrentHost("builder2", "b-1"), CurrentHost("builder", "b-9")]).hosts == ["builder2"]


def test_only_implicit_localhost_provisioned_is_refused_for_a_limit():
    hosts = [host_entry("vm1", provisioned_by=["localhost"])]
    with pytest.raises(RelaunchError) as caught:
        selected(hosts, [CurrentHost("web")])
    message = str(caught.value)
    assert "implicit localhost" in message and "relaunch.status.select role" in message
    assert "/runs/site/latest.json" in message and "failed=1" in message


def test_only_implicit_localhost_provisioned_is_fine_in_a_play():
    selection = selected([host_entry("vm1", provisioned_by=["localhost"])], [CurrentHost("web")], in_play=True)
    assert selection.targets() == ["localhost", "vm1"]


def test_implicit_localhost_beside_a_real_host():
    hosts = [host_entry("web"), host_entry("vm1", provisioned_by=["localhost"])]
    assert selected(hosts, [CurrentHost("web")]).limit == r"web,~^vm1\Z,localhost"


def test_implicit_localhost_is_not_named_when_an_inventory_host_would_answer_to_it():
    # ansible-core resolves "localhost" to a localhost-like inventory host: that host was never asked for.
    hosts = [host_entry("web"), host_entry("vm1", provisioned_by=["localhost"])]
    selection = selected(hosts, [CurrentHost("web"), CurrentHost("127.0.0.1")])
    assert selection.limit == r"web,~^vm1\Z"
    assert any("inventory host '127.0.0.1'" in warning for warning in selection.warnings)


def test_implicit_localhost_is_not_named_when_a_group_has_its_name():
    hosts = [host_entry("web"), host_entry("vm1", provisioned_by=["localhost"])]
    selection = select([("m.json", make_manifest(hosts))], ["failed"], [CurrentHost("web")], [*GROUPS, "localhost"])
    assert selection.limit == r"web,~^vm1\Z"
    assert any("group 'localhost'" in warning for warning in selection.warnings)


@pytest.mark.parametrize(
    ("limit", "expected"), [("", ""), ("web", "web"), ("!db", "!db"), ("@/srv/x.limit", "@/srv/x.limit")]
)
def test_all_relaunches_with_the_original_limit(limit, expected):
    selection = selected([host_entry("web", ("ok",))], [CurrentHost("web")], ("all",), limit=limit)
    assert selection.original_limit == limit
    assert selection.limit == expected
    # No limit is not "all" (which skips plays on the implicit localhost): the relaunch is not limited either.
    assert selection.limited == bool(limit)
    assert selection.patterns == []


def test_all_refuses_limits_that_cannot_be_merged():
    first = make_manifest([host_entry("a", ("ok",))], limit="web")
    second = make_manifest([host_entry("b", ("ok",))], limit="!db")
    with pytest.raises(
        RelaunchError,
        match=r"^status all: the manifests /m/1\.json, /m/2\.json were run with limits that cannot be merged",
    ):
        select([("/m/1.json", first), ("/m/2.json", second)], ["all"], [CurrentHost("a"), CurrentHost("b")], GROUPS)


def test_merged_manifests():
    first = make_manifest([host_entry("a"), host_entry("x", ("ok",))], passwords=["become_password"])
    second = make_manifest([host_entry("b"), host_entry("y", ("ok",))], passwords=["vault_password"])
    selection = select(
        [("/m/1.json", first), ("/m/2.json", second)], ["failed"], [CurrentHost(name) for name in "abxy"], GROUPS
    )
    assert selection.hosts == ["a", "b"]
    assert selection.retry_counts["failed"] == 2 and selection.retry_counts["all"] == 4
    assert selection.passwords_needed_to_start == ["become_password", "vault_password"]


def test_empty_selection_is_refused_with_status_manifest_and_counts():
    with pytest.raises(RelaunchError) as caught:
        selected([host_entry("a", ("ok",))], [CurrentHost("a")], ("failed", "unreachable"))
    message = str(caught.value)
    assert message.startswith("status failed,unreachable selects 0 hosts in /runs/site/latest.json (")
    assert "all=1, failed=0" in message and message.endswith("nothing to relaunch")


def test_empty_selection_names_the_unresolved_hosts():
    with pytest.raises(RelaunchError, match="; 1 recorded host is not in the current inventory;"):
        selected([host_entry("gone")], [CurrentHost("a")])


def test_allow_empty_returns_an_empty_selection_without_a_limit():
    selection = selected([host_entry("a", ("ok",))], [CurrentHost("a")], allow_empty=True)
    assert selection.hosts == [] and selection.limit == "" and selection.patterns == []


# --- failure groups ----------------------------------------------------------------------------


def failing(name: str, task: str, identity: str | None = None, message: str = "boom") -> dict:
    host = host_entry(name, identity=identity)
    host["first_failure"] = {"play": "Site", "task": task, "action": "fail", "unreachable": False, "message": message}
    return host


def grouped_manifest(*hosts: dict) -> dict:
    """A manifest whose failure_groups are those the recorder writes."""
    manifest = make_manifest(list(hosts))
    manifest["failure_groups"] = failure_groups(map(host_row, manifest["hosts"]))
    return manifest


DEPLOY = group_id("Deploy", "fail", False, "boom")
MIGRATE = group_id("Migrate", "fail", False, "boom")


@pytest.mark.parametrize("value", ["3f9a2c1b", " 3F9A2C1B ", "00000000"])
def test_parse_group(value):
    assert parse_group(value) == value.strip().lower()


@pytest.mark.parametrize("value", ["", "3f9a2c1", "3f9a2c1b0", "failure-3f9a2c1b", "3f9a2c1g", None, 3, ["3f9a2c1b"]])
def test_parse_group_refuses_in_one_line_that_says_where_ids_are(value):
    with pytest.raises(RelaunchError, match=r"^option group: .* is not a failure group id .*ansible-relaunch report"):
        parse_group(value)


def test_a_group_selects_its_hosts_by_identity_and_nothing_else():
    manifest = grouped_manifest(
        failing("web1", "Deploy", "id-1"),
        failing("web2", "Deploy"),
        failing("db1", "Migrate"),
        host_entry("ok1", ("ok",)),
    )
    current = [CurrentHost("web-one", "id-1"), CurrentHost("web2"), CurrentHost("db1"), CurrentHost("ok1")]
    selection = select([("/m/latest.json", manifest)], FailureGroupChoice(DEPLOY), current, GROUPS)
    assert selection.group == DEPLOY and selection.statuses == []
    assert selection.hosts == ["web-one", "web2"] and selection.renamed == {"web1": "web-one"}
    assert selection.limit == "web-one,web2"
    assert select([("/m/latest.json", manifest)], FailureGroupChoice(MIGRATE), current, GROUPS).limit == "db1,"


def test_an_unknown_group_is_refused_in_one_line_never_widened():
    manifest = grouped_manifest(failing("web1", "Deploy"), failing("db1", "Migrate"))
    with pytest.raises(RelaunchError) as caught:
        select([("/m/latest.json", manifest)], FailureGroupChoice("0badc0de"), [CurrentHost("web1")], GROUPS)
    message = str(caught.value)
    assert message.startswith("failure group 0badc0de is not in /m/latest.json")
    assert f"its failure groups are {', '.join(sorted((DEPLOY, MIGRATE)))}" in message
    assert "ansible-relaunch report" in message and "\n" not in message
    with pytest.raises(RelaunchError, match="it has no failure group"):
        select([("/m/latest.json", make_manifest([host_entry("a", ("ok",))]))], FailureGroupChoice(DEPLOY), [], GROUPS)


def test_a_group_of_hosts_no_longer_in_the_inventory_is_refused_like_an_empty_status():
    manifest = grouped_manifest(failing("gone", "Deploy"), failing("db1", "Migrate"))
    with pytest.raises(RelaunchError) as caught:
        select([("/m/latest.json", manifest)], FailureGroupChoice(DEPLOY), [CurrentHost("db1")], GROUPS)
    assert str(caught.value).startswith(f"failure group {DEPLOY} selects 0 hosts in /m/latest.json (")
    assert "1 recorded host is not in the current inventory" in str(caught.value)
    empty = select(
        [("/m/latest.json", manifest)], FailureGroupChoice(DEPLOY), [CurrentHost("db1")], GROUPS, allow_empty=True
    )
    assert empty.hosts == [] and empty.limit == ""


def test_groups_of_manifests_without_ids_or_groups_are_computed():
    manifest = grouped_manifest(failing("web1", "Deploy"), failing("db1", "Migrate"))
    for group in manifest["failure_groups"]:
        del group["id"]  # written before groups had ids
    current = [CurrentHost("web1"), CurrentHost("db1")]
    assert select([("/m/a.json", manifest)], FailureGroupChoice(DEPLOY), current, GROUPS).hosts == ["web1"]
    old = {key: value for key, value in manifest.items() if key not in ("narrowed", "rollout", "failure_groups")}
    old["schema_version"] = 1  # no failure_groups at all
    for host in old["hosts"]:
        del host["run_id"], host["finished"]
        host["statuses"].remove("pending")
    del old["retry_counts"]["pending"]
    assert select([("/m/b.json", old)], FailureGroupChoice(MIGRATE), current, GROUPS).hosts == ["db1"]


def test_merged_manifests_each_have_the_say_on_their_own_hosts():
    first = grouped_manifest(failing("a", "Deploy"), failing("both", "Migrate"))
    second = grouped_manifest(failing("b", "Deploy"), failing("both", "Deploy"))
    current = [CurrentHost(name) for name in ("a", "b", "both")]
    manifests = [("/m/1.json", first), ("/m/2.json", second)]
    assert select(manifests, FailureGroupChoice(DEPLOY), current, GROUPS).hosts == ["a", "b"]
    assert select(manifests, FailureGroupChoice(MIGRATE), current, GROUPS).hosts == ["both"]


def test_an_id_two_failures_of_one_manifest_share_is_refused():
    manifest = grouped_manifest(failing("web1", "Deploy"), failing("db1", "Migrate"))
    manifest["failure_groups"][1]["id"] = manifest["failure_groups"][0]["id"]
    with pytest.raises(RelaunchError, match="names two different failures"):
        select([("/m/1.json", manifest)], FailureGroupChoice(DEPLOY), [CurrentHost("web1"), CurrentHost("db1")])


def test_recorded_hosts_are_read_alike_from_a_manifest_its_rows_and_its_schema_1_form() -> None:
    hosts = [
        host_entry("web1", ("failed",), "i-1"),
        host_entry("db1", ("ok", "changed")),
        host_entry("new", ("failed",), provisioned_by=["web1"]),
    ]
    manifest = make_manifest(hosts)
    head, rows = manifest_parts(manifest)
    schema_1 = {**manifest, "schema_version": 1}
    for key in ("narrowed", "rollout", "failure_groups"):
        del schema_1[key]
    schema_1["retry_counts"] = {
        status: count for status, count in manifest["retry_counts"].items() if status != "pending"
    }
    schema_1["hosts"] = [
        {**{key: value for key, value in host.items() if key not in ("run_id", "finished")}, "statuses": statuses}
        for host, statuses in zip(manifest["hosts"], (["all", "failed"], ["all", "changed", "ok"], ["all", "failed"]))
    ]
    expected = {
        "web1": ("i-1", ["all", "failed", "pending"], None),
        "db1": (None, ["all", "changed", "ok"], None),
        "new": (None, ["all", "failed", "pending"], ["web1"]),
    }
    for form in (manifest, Manifest(head, list(rows)), schema_1):
        recorded = RecordedHosts([("m.json", form)])
        assert {
            name: (identity, list(statuses), by and list(by))
            for name, (identity, statuses, by) in recorded.hosts.items()
        } == expected
        assert recorded.by_status["pending"] == ["web1", "new"]
