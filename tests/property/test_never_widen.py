# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Never widen: whatever the manifests and the current inventory, a selection holds only
hosts recorded with the status (after identity mapping) and the hosts that provisioned
them, its limit selects nothing more in ansible-core, and an empty selection is refused."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.relaunch.status.plugins.plugin_utils._core.errors import RelaunchError
from ansible_collections.relaunch.status.plugins.plugin_utils._core.failures import group_id
from ansible_collections.relaunch.status.plugins.plugin_utils._core.recorder import STATUSES, failure_groups, host_row
from ansible_collections.relaunch.status.plugins.plugin_utils._core.selection import (
    IMPLICIT_LOCALHOST,
    CurrentHost,
    FailureGroupChoice,
    limit_file_texts,
    parse_group,
    select,
)

from .manifests import build_inventory, host_entry, host_names, make_manifest

# Few names and identities, so that renames, reused names and duplicates are common.
NAMES = ("a", "b", "c", "d", "web", "all", "localhost", "127.0.0.1", "-x", "!a", "a b")
names = st.one_of(st.sampled_from(NAMES), st.sampled_from(NAMES), host_names)
identities = st.one_of(st.none(), st.sampled_from(("i1", "i2", "i3", "i4")))
LIMITS = ("", "", "web", "a,b", "!c", "a:b", "a b", "@/srv/failed.limit", ",", "web,&db", "all", "~^a")
statuses_of_host = st.lists(st.sampled_from(STATUSES[1:]), max_size=3, unique=True)


@st.composite
def recorded_hosts(draw) -> dict:
    name = draw(names)
    provisioned_by = draw(
        st.none()
        | st.lists(st.one_of(names, st.sampled_from(sorted(IMPLICIT_LOCALHOST))), min_size=1, max_size=2, unique=True)
    )
    return host_entry(name, draw(statuses_of_host), draw(identities), provisioned_by)


manifests = st.lists(recorded_hosts(), max_size=8, unique_by=lambda host: host["name"]).flatmap(
    lambda hosts: st.builds(
        make_manifest,
        st.just(hosts),
        st.sampled_from(LIMITS),
        passwords=st.lists(st.sampled_from(("become_password", "vault_password")), unique=True),
    )
)
current_inventories = st.lists(st.builds(CurrentHost, names, identities), max_size=8, unique_by=lambda host: host.name)


def allowed_hosts(
    records: list[dict], wanted: set[str], current: list[CurrentHost], recorded: list[dict] | None = None
) -> set[str]:
    """Every current host a selection may hold: what a recorded host with a wanted status is
    now (by identity when it has one, else by name), and what its provisioners are now (found among
    ``recorded``, by default ``records``)."""

    def now(record: dict) -> set[str]:
        if record["identity"] is not None:
            return {host.name for host in current if host.identity == record["identity"]}
        return {host.name for host in current if host.name == record["name"]}

    current_names = {host.name for host in current}
    allowed: set[str] = set()
    for record in records:
        if wanted.isdisjoint(record["statuses"]):
            continue
        allowed |= now(record)
        for provisioner in record["provisioned_by"]:
            as_recorded = [
                other for other in (records if recorded is None else recorded) if other["name"] == provisioner
            ]
            if as_recorded:
                for other in as_recorded:
                    allowed |= now(other)
            elif provisioner in current_names:
                allowed.add(provisioner)
    return allowed


@given(
    st.lists(manifests, min_size=1, max_size=3),
    current_inventories,
    st.lists(st.sampled_from(STATUSES), min_size=1, max_size=3, unique=True),
    st.lists(names, max_size=3, unique=True),
    st.data(),
)
def test_selection_never_widens(manifest_list, current, statuses, extra_groups, data):
    in_play = data.draw(st.booleans(), label="in_play")
    pairs = [(f"/runs/site/{index}.json", manifest) for index, manifest in enumerate(manifest_list)]
    records = [host for manifest in manifest_list for host in manifest["hosts"]]
    wanted = set(statuses)
    current_names = {host.name for host in current}
    groups = {
        group: data.draw(
            st.lists(st.sampled_from(sorted(current_names)), unique=True) if current_names else st.just([])
        )
        for group in extra_groups
    }
    groups = {group: members for group, members in groups.items() if group not in ("all", "ungrouped")}
    group_names = ["all", "ungrouped", *groups]
    allowed = allowed_hosts(records, wanted, current)

    def run(allow_empty: bool):
        return select(pairs, statuses, current, group_names, allow_empty=allow_empty, in_play=in_play)

    try:
        probe = run(allow_empty=True)
    except RelaunchError as exc:
        message = str(exc)
        if "all" in wanted:
            assert message.startswith("status all:") and "cannot be merged" in message, message
            assert len({manifest["invocation"]["limit"] for manifest in manifest_list}) > 1
        else:
            assert "cannot be selected exactly" in message, message
        return

    # Selected hosts: recorded with a wanted status (after identity mapping), or their provisioners.
    assert set(probe.hosts) <= allowed
    assert set(probe.hosts) <= current_names
    assert set(probe.provisioned) <= {
        record["name"] for record in records if record["provisioned"] and not wanted.isdisjoint(record["statuses"])
    }
    assert set(probe.implicit_provisioners) <= IMPLICIT_LOCALHOST - current_names
    # A current host that bears a recorded name but not its identity is another machine.
    first = {}
    for record in records:
        first.setdefault(record["name"], record)
    for record in first.values():
        holders = [host for host in current if record["identity"] is not None and host.identity == record["identity"]]
        if (
            wanted.isdisjoint(record["statuses"])
            or record["identity"] is None
            or holders
            or record["name"] not in current_names
        ):
            continue
        if not record["provisioned"]:
            assert any(repr(record["name"]) in warning for warning in probe.warnings), probe.warnings

    limits = {manifest["invocation"]["limit"] for manifest in manifest_list}
    if "all" in wanted:
        if len(limits) == 1:
            assert probe.original_limit == next(iter(limits))
        # No limit stays no limit (never "all", which would skip plays on the implicit localhost).
        assert probe.limit == probe.original_limit and probe.limited == bool(probe.original_limit)
    elif probe.limit:
        inventory = build_inventory(sorted(current_names), groups)
        inventory.subset(probe.limit)
        selected = {host.name for host in inventory.get_hosts("~(?s).*")}
        assert selected <= allowed, probe.limit
        assert selected == set(probe.hosts), probe.limit
    else:
        # No limit: only a play selecting by name (the role) may go on, never "all hosts".
        assert not probe.hosts or in_play

    refused = not probe.hosts and not (in_play and probe.targets())
    try:
        selection = run(allow_empty=False)
    except RelaunchError as exc:
        assert refused, str(exc)
        message = str(exc)
        assert ",".join(statuses) in message
        assert all(path in message for path, _manifest in pairs)
        counts = probe.retry_counts
        assert all(f"{status}={counts[status]}" in message for status in STATUSES), message
    else:
        assert not refused
        assert selection.as_dict() == probe.as_dict()


# --- limit files that outlive their inventory ------------------------------------------------------

STALE_NAMES = ("a", "b", "c", "sp", "web", "all", "ungrouped", "a b", "w*", "127.0.0.1")


@st.composite
def inventory_changes(draw) -> tuple:
    """A run's hosts (name -> identity) and what the inventory became: hosts gone, renamed, names reused,
    groups added."""
    before_names = draw(st.lists(st.sampled_from(STALE_NAMES) | host_names, min_size=1, max_size=5, unique=True))
    before = {name: f"id-{index}" for index, name in enumerate(before_names)}
    failed = draw(st.lists(st.sampled_from(before_names), min_size=1, unique=True))
    after: dict[str, str] = {}
    for name, identity in before.items():
        fate = draw(st.sampled_from(("kept", "gone", "renamed", "reused")))
        if fate == "kept":
            after[name] = identity
        elif fate == "renamed":
            after[draw(st.sampled_from(STALE_NAMES) | host_names)] = identity
        elif fate == "reused":
            after[name] = f"new-{name}"  # another machine under the recorded name
    extra = draw(st.lists(st.sampled_from(STALE_NAMES) | host_names, max_size=3))
    after.update({name: f"new-{name}" for name in extra if name not in after})
    if not after:
        after["z"] = "id-z"
    group_names = draw(st.lists(st.sampled_from((*before_names, *STALE_NAMES)), max_size=3, unique=True))
    groups = {
        group: draw(st.lists(st.sampled_from(sorted(after)), min_size=1, unique=True))
        for group in group_names
        if group not in after and group not in ("all", "ungrouped")
    }
    return before, failed, after, groups


@given(inventory_changes())
def test_a_stale_limit_file_is_refused_or_selects_only_its_hosts(tmp_path_factory, change):
    """The callback's check of a limit file, against a real InventoryManager with the file as its limit:
    it refuses exactly when the file would select a host that is not, by identity, one of the file's hosts."""
    from ansible.parsing.dataloader import DataLoader

    from ansible_collections.relaunch.status.plugins.plugin_utils._core import store
    from ansible_collections.relaunch.status.plugins.plugin_utils._selector import stale_limit_file

    before, failed, after, groups = change
    directory = tmp_path_factory.mktemp("stale")
    manifest = make_manifest(
        [host_entry(name, ("failed",) if name in failed else ("ok",), identity) for name, identity in before.items()]
    )
    store.publishing.publish(
        str(directory),
        manifest,
        keep=2,
        limit_texts=lambda manifest: limit_file_texts(manifest, ["all", "ungrouped"], set(before)),
    )
    limit = "@" + str(directory / "failed.limit")
    inventory = build_inventory(sorted(after), groups)
    for name, identity in after.items():
        inventory.get_host(name).set_variable("relaunch_id", identity)
    inventory.subset(limit)
    selected = {host.name for host in inventory.get_hosts("all")}
    holders = {identity: name for name, identity in after.items()}
    meant = {holders[before[name]] for name in failed if before[name] in holders}
    problem = stale_limit_file(limit, inventory, DataLoader(), ["relaunch_id"], None)
    if problem is None:
        assert selected <= meant, (selected, meant)
    else:
        assert "\n" not in problem
        assert not selected <= meant, problem


# --- one failure group -------------------------------------------------------------------------------------

TASKS = ("Deploy", "Migrate", "Restart")


@st.composite
def grouped_manifests(draw) -> dict:
    """A manifest whose failed hosts failed at one of TASKS, with failure_groups as the recorder writes them."""
    hosts = draw(st.lists(recorded_hosts(), max_size=8, unique_by=lambda host: host["name"]))
    for host in hosts:
        if "failed" in host["statuses"]:
            task = draw(st.sampled_from(TASKS))
            host["first_failure"] = {"play": "p", "task": task, "action": "fail", "unreachable": False, "message": "x"}
    manifest = make_manifest(hosts, draw(st.sampled_from(LIMITS)))
    manifest["failure_groups"] = failure_groups(map(host_row, manifest["hosts"]))
    return manifest


@given(st.lists(grouped_manifests(), min_size=1, max_size=3), current_inventories, st.sampled_from(TASKS))
def test_a_failure_group_never_widens(manifest_list, current, task):
    group = group_id(task, "fail", False, "x")
    pairs = [(f"/runs/site/{index}.json", manifest) for index, manifest in enumerate(manifest_list)]
    # The hosts of the group: in it in the first manifest that lists them.
    first: dict[str, dict] = {}
    for manifest in manifest_list:
        for host in manifest["hosts"]:
            first.setdefault(host["name"], host)
    members = [host for host in first.values() if (host["first_failure"] or {}).get("task") == task]
    allowed = allowed_hosts(members, {"failed"}, current, list(first.values()))
    known = any(item["id"] == group for manifest in manifest_list for item in manifest["failure_groups"])
    try:
        probe = select(pairs, FailureGroupChoice(group), current, ["all", "ungrouped"], allow_empty=True)
    except RelaunchError as exc:
        message = str(exc)
        assert "\n" not in message
        assert ("is not in" in message and not known) or "cannot be selected exactly" in message, message
        return
    assert known and probe.group == group
    assert set(probe.hosts) <= allowed and set(probe.hosts) <= {host.name for host in current}
    if probe.limit:
        inventory = build_inventory(sorted(host.name for host in current), {})
        inventory.subset(probe.limit)
        assert {host.name for host in inventory.get_hosts("~(?s).*")} == set(probe.hosts), probe.limit


@given(st.one_of(st.text(max_size=12), st.text(alphabet="0123456789abcdefABCDEF ", min_size=6, max_size=11)))
def test_a_group_id_is_eight_hex_digits_or_refused_in_one_line(value):
    try:
        parsed = parse_group(value)
    except RelaunchError as exc:
        assert "\n" not in str(exc) and str(exc).startswith("option group: ")
        assert not re.fullmatch("[0-9a-f]{8}", value.strip().lower())
    else:
        assert parsed == value.strip().lower() and re.fullmatch("[0-9a-f]{8}", parsed)
