# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Exactness: for any host names, ansible-core itself selects exactly the chosen hosts.

The limit a selection builds is evaluated by a real InventoryManager the three
ways a user passes it: inline ``--limit``, ``--limit @file``, and a play's
``hosts:``. The oracle is ansible-core, never the engine's own pattern logic.
"""

from __future__ import annotations

import functools

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from ansible_collections.relaunch.status.plugins.plugin_utils._core.errors import RelaunchError
from ansible_collections.relaunch.status.plugins.plugin_utils._core.selection import (
    CurrentHost,
    limit_file_text,
    limit_string,
    select,
)

from .manifests import KEYWORDS, build_inventory, derived_names, host_entry, host_names, make_manifest

LOCALHOST_NAMES = ("localhost", "127.0.0.1", "::1")


@pytest.fixture(scope="module")
def limit_path(tmp_path_factory):
    return tmp_path_factory.mktemp("limit") / "failed.limit"


# Every inventory host, even when a host is named "all" (its exact name would win over the group).
EVERY_HOST = "~(?s).*"


def evaluate(how: str, limit: str, text: str, limit_path, names, groups, pattern: str = EVERY_HOST) -> list[str]:
    """The host names ansible-core selects with ``limit`` (or the limit file ``text``).

    As a limit, it restricts what a play's ``hosts: pattern`` selects; as
    ``hosts:`` (``how="hosts"``), it is the pattern.
    """
    inventory = build_inventory(names, groups)  # fresh: InventoryManager caches patterns
    if how == "inline":
        inventory.subset(limit)
    elif how == "file":
        limit_path.write_text(text, encoding="utf-8")
        inventory.subset("@" + str(limit_path))
    else:
        pattern = limit
    return sorted(host.name for host in inventory.get_hosts(pattern))


@functools.cache
def _playbook_parser():
    from ansible.cli.playbook import PlaybookCLI

    cli = PlaybookCLI(["ansible-playbook", "site.yml"])
    cli.init_parser()
    cli.parser.exit = cli.parser.error = _refuse  # report instead of printing usage and exiting
    return cli.parser


def cli_limit(limit: str) -> str:
    """What ansible-playbook's own argument parser makes of ``--limit LIMIT``."""
    return _playbook_parser().parse_args(["--limit", limit, "site.yml"]).subset


def _refuse(*args: object, **kwargs: object) -> None:
    raise AssertionError(f"ansible-playbook refuses the arguments: {args}")


def check_exact(
    limit_path,
    inventory: list[str],
    groups: dict[str, list[str]],
    failed: list[str],
    provisioned: dict[str, list[str]],
    others=(),
):
    """Select ``failed`` (and the ``provisioned`` hosts: name -> provisioners) and check every context."""
    entries = [host_entry(name) for name in failed]
    entries += [host_entry(name, provisioned_by=by) for name, by in provisioned.items()]
    entries += [host_entry(name, statuses=("ok",)) for name in others]
    manifest = make_manifest(entries)
    group_names = ["all", "ungrouped", *groups]
    expected = set(failed) | {by for bys in provisioned.values() for by in bys if by in inventory}
    implicit = {by for bys in provisioned.values() for by in bys if by not in inventory}
    try:
        selection = select(
            [("failed.json", manifest)], ["failed"], [CurrentHost(name) for name in inventory], group_names
        )
    except RelaunchError as exc:
        message = str(exc)
        if "cannot be selected exactly" in message:
            # An anchored regex matches only its own name, so it clashes only with a group of that very name.
            assert set(group_names) & (set(expected) | set(provisioned)), message
            return "clash"
        # Only hosts the implicit localhost provisions: a --limit cannot say that.
        assert not expected and implicit, message
        assert "implicit localhost" in message
        return "refused"
    assert set(selection.hosts) == expected
    assert set(selection.provisioned) == set(provisioned)
    assert set(selection.implicit_provisioners) == implicit
    limit, text = selection.limit, limit_file_text(selection.patterns)
    assert limit == limit_string(selection.patterns)
    assert "\x00" not in limit  # a command-line argument cannot hold it
    assert cli_limit(limit) == limit
    # The implicit localhost is named only beside a real host, and never when a group has its name.
    reachable = {name for name in implicit if name not in group_names} if expected else set()
    for name in implicit - reachable if expected else ():
        assert any(repr(name) in warning for warning in selection.warnings), selection.warnings
    for how in ("inline", "file"):
        assert evaluate(how, limit, text, limit_path, inventory, groups) == sorted(expected), how
        for name in reachable:
            # The implicit localhost is never in "all"; the limit lets a "hosts: localhost" play run.
            assert evaluate(how, limit, text, limit_path, inventory, groups, name) == [name], how
    now = sorted(expected | reachable)
    assert evaluate("hosts", limit, text, limit_path, inventory, groups) == now
    if expected:
        check_stale(limit, text, limit_path, inventory, groups, expected)
    if provisioned:
        # The relaunch re-creates them with add_host; from then on the same limit selects them too.
        later = sorted(expected | set(provisioned))
        for how in ("inline", "file", "hosts"):
            assert set(evaluate(how, limit, text, limit_path, [*inventory, *provisioned], groups)) - reachable == set(
                later
            ), how
    return "exact"


@given(st.data())
def test_limit_is_exact_for_any_names(limit_path, data):
    base = data.draw(st.lists(host_names, min_size=1, max_size=6, unique=True), label="base")
    names = list(dict.fromkeys(base + data.draw(st.lists(derived_names(base), max_size=4), label="derived")))
    inventory = data.draw(st.lists(st.sampled_from(names), min_size=1, unique=True), label="inventory")
    absent = [name for name in names if name not in inventory]
    group_pool = st.one_of(st.sampled_from(names), st.sampled_from(KEYWORDS), host_names).filter(
        lambda name: name not in ("all", "ungrouped")
    )
    group_list = data.draw(st.lists(group_pool, max_size=3, unique=True), label="groups")
    groups = {
        group: data.draw(st.lists(st.sampled_from(inventory), unique=True), label=f"members of {group!r}")
        for group in group_list
    }
    failed = data.draw(st.lists(st.sampled_from(inventory), unique=True), label="failed")
    provisioned = {}
    if absent:
        local_ok = not any(name in LOCALHOST_NAMES for name in names)
        provisioner = (
            st.sampled_from(inventory) if not local_ok else st.one_of(st.sampled_from(inventory), st.just("localhost"))
        )
        for name in data.draw(st.lists(st.sampled_from(absent), unique=True), label="provisioned"):
            provisioned[name] = data.draw(
                st.lists(provisioner, min_size=1, max_size=2, unique=True), label=f"provisioners of {name!r}"
            )
    assume(failed or provisioned)
    others = [name for name in inventory if name not in failed]
    check_exact(limit_path, inventory, groups, failed, provisioned, others)


def check_stale(
    limit: str, text: str, limit_path, inventory: list[str], groups: dict[str, list[str]], gone: set[str]
) -> None:
    """A limit file outlives the inventory it was written for. Once its hosts are gone, it
    selects no other host, but for the members of a group named exactly like a gone host (no host
    pattern can avoid those: the callback refuses such a file, test_never_widen checks that)."""
    rest = [name for name in inventory if name not in gone]
    rest_groups = {group: [member for member in members if member not in gone] for group, members in groups.items()}
    now = build_inventory(rest, rest_groups)
    allowed = {host.name for name in gone if name in now.groups for host in now.groups[name].get_hosts()}
    for how in ("inline", "file"):
        selected = set(evaluate(how, limit, text, limit_path, rest, rest_groups))
        assert selected <= allowed, (how, selected - allowed)


# Table of names that once were, or easily could be, written wrongly.
CASES = [
    pytest.param(["a", "b", "all"], {}, ["all"], {}, id="host named all"),
    pytest.param(["localhost", "a"], {}, ["localhost"], {}, id="host named localhost"),
    pytest.param(["localhost", "a", "127.0.0.1"], {}, ["localhost"], {}, id="host named localhost beside 127.0.0.1"),
    pytest.param(["::1", "a", "localhost"], {}, ["::1", "a"], {}, id="host named ::1 beside localhost"),
    pytest.param(["a", "ungrouped"], {}, ["ungrouped"], {}, id="host named ungrouped"),
    pytest.param(["web", "w1"], {"web": ["w1"]}, ["web"], {}, id="host named like a group"),
    pytest.param(["a", "a1", "ab"], {}, ["a"], {}, id="prefix of other names"),
    pytest.param(["a b", "a", "b"], {}, ["a b"], {}, id="space"),
    pytest.param(["a:b", "a", "b"], {}, ["a:b"], {}, id="colon"),
    pytest.param(["a,b", "a", "b"], {}, ["a,b"], {}, id="comma"),
    pytest.param(["b[1]", "b", "b1"], {}, ["b[1]"], {}, id="brackets"),
    pytest.param(["w*", "w1", "w2"], {}, ["w*"], {}, id="star"),
    pytest.param(["w?", "w1"], {}, ["w?"], {}, id="question mark"),
    pytest.param(["!a", "a"], {}, ["!a"], {}, id="leading bang alone"),
    pytest.param(["&a", "a"], {}, ["&a"], {}, id="leading ampersand alone"),
    pytest.param(["!", "b", "c"], {}, ["!", "b"], {}, id="a lone bang beside another host"),
    pytest.param(["&", "b", "c"], {"b": ["c"]}, ["&", "b"], {}, id="a lone ampersand beside another host"),
    pytest.param(["!", "a"], {}, [], {"0": ["!"]}, id="a lone bang provisions a host"),
    pytest.param(["!a", "b"], {"!a": ["b"]}, ["!a"], {}, id="leading bang alone, group of that name"),
    pytest.param(["~a", "a", "ab"], {}, ["~a"], {}, id="leading tilde"),
    pytest.param(["@a", "a"], {}, ["@a"], {}, id="leading at"),
    pytest.param(["-b", "b"], {}, ["-b"], {}, id="leading dash (an option to argparse)"),
    pytest.param([" a", "a"], {}, [" a"], {}, id="leading space"),
    pytest.param(["a\u3000", "a"], {}, ["a\u3000"], {}, id="trailing ideographic space"),
    pytest.param(["a\x85", "a"], {}, ["a\x85"], {}, id="trailing NEL (str.strip whitespace)"),
    pytest.param(["a\u2028b", "a"], {}, ["a\u2028b"], {}, id="inner line separator"),
    pytest.param(["a\rb", "a", "b"], {}, ["a\rb"], {}, id="inner carriage return"),
    pytest.param(["a\nb", "a", "b"], {}, ["a\nb"], {}, id="inner newline"),
    pytest.param(["a\x00b", "a"], {}, ["a\x00b"], {}, id="NUL"),
    pytest.param([" ", "\t"], {}, [" "], {}, id="only whitespace"),
    pytest.param(["\u00e9t\u00e9", "ete"], {}, ["\u00e9t\u00e9"], {}, id="unicode"),
    pytest.param(["x" * 5000, "x"], {}, ["x" * 5000], {}, id="very long name"),
    pytest.param([" a", "~^\\x20a\\Z"], {}, [" a"], {}, id="host named like another host's regex"),
    pytest.param(["p"], {}, [], {" a": ["p"], "~^\\x20a\\Z": ["p"]}, id="provisioned host named like another's regex"),
    pytest.param(["p", "q"], {}, [], {"new": ["p"], "new,2": ["q"]}, id="only provisioned hosts"),
    pytest.param(["p"], {}, ["p"], {"new": ["localhost"]}, id="implicit localhost beside a real host"),
]


@pytest.mark.parametrize(("inventory", "groups", "failed", "provisioned"), CASES)
def test_limit_is_exact_for_tricky_names(limit_path, inventory, groups, failed, provisioned):
    others = [name for name in inventory if name not in failed]
    assert check_exact(limit_path, inventory, groups, failed, provisioned, others) == "exact"


def test_only_implicit_localhost_provisioned_is_refused(limit_path):
    assert check_exact(limit_path, ["p"], {}, [], {"new": ["localhost"]}) == "refused"


def test_provisioned_name_equal_to_a_group_is_refused(limit_path):
    assert check_exact(limit_path, ["p"], {"web": ["p"]}, [], {"web": ["p"]}) == "clash"
