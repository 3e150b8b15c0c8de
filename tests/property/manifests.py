# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Builders shared by the property and unit tests: manifests, inventories, host names."""

from __future__ import annotations

from hypothesis import strategies as st

from ansible_collections.relaunch.status.plugins.plugin_utils._core.recorder import COUNTERS, PENDING_FROM, STATUSES
from ansible_collections.relaunch.status.plugins.plugin_utils._core.store.validation import validate

RUN_ID = "20260101T000000000000Z-1-abcd"


def host_entry(
    name: str, statuses=("failed",), identity: str | None = None, provisioned_by: list[str] | None = None
) -> dict:
    """One manifest host, as the recorder writes it (pending when failed or not_run), run in RUN_ID."""
    statuses = {"all", *statuses}
    if not statuses.isdisjoint(PENDING_FROM):
        statuses.add("pending")
    return {
        "name": name,
        "identity": identity,
        "identity_var": None if identity is None else "relaunch_id",
        "statuses": sorted(statuses),
        "counters": dict.fromkeys(COUNTERS, 0),
        "provisioned": provisioned_by is not None,
        "provisioned_by": sorted(provisioned_by or ()),
        "first_failure": None,
        "run_id": RUN_ID,
        "finished": "2026-01-01T00:01:00+00:00",
    }


def make_manifest(
    hosts: list[dict], limit: str = "", run_id: str = RUN_ID, passwords: list[str] | None = None, complete: bool = True
) -> dict:
    """A valid schema-2 manifest holding ``hosts`` (those that ran, ran in it); retry_counts are counted from them."""
    counts = dict.fromkeys(STATUSES, 0)
    for host in hosts:
        if host["run_id"] is not None:
            host["run_id"] = run_id  # the host ran in this run
        for status in host["statuses"]:
            counts[status] += 1
    manifest = {
        "schema_version": 2,
        "run_id": run_id,
        "playbook": "/srv/site.yml",
        "started": "2026-01-01T00:00:00+00:00",
        "check_mode": False,
        "ansible_version": "2.19.14",
        "invocation": {"limit": limit, "inventory": ["inventory.ini"], "tags": [], "skip_tags": []},
        "passwords_needed_to_start": list(passwords or ()),
        "finished": "2026-01-01T00:01:00+00:00",
        "complete": complete,
        "tasks_ran": True,
        "narrowed": False,
        "rollout": None,
        "retry_counts": counts,
        "failure_groups": [],
        "hosts": hosts,
    }
    validate(manifest, "<built>")
    return manifest


def build_inventory(names, groups: dict[str, list[str]] | None = None):
    """A real InventoryManager holding exactly ``names`` (and ``groups``: name -> members).

    Hosts are added the way inventory plugins add them (``add_host``), so any
    string ansible-core can hold as a host name can be tested.
    """
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader

    inventory = InventoryManager(DataLoader(), sources=[], parse=False)
    grouped = set()
    for group, members in (groups or {}).items():
        group = inventory.add_group(group)
        for member in members:
            inventory.add_host(member, group)
            grouped.add(member)
    for name in names:
        if name not in grouped:
            inventory.add_host(name, "ungrouped")
    inventory.reconcile_inventory()  # what parse_sources does: groups under all, ungrouped fixed up
    return inventory


# Characters with a meaning somewhere in host patterns, limit files or str.strip().
SPECIAL_CHARS = (
    ",:;[]*?!&~@-^$.\\()|{}+#'\"/=% \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x00\x85\xa0"
    "\u1680\u2000\u200b\u2028\u2029\u202f\u3000\ufeff\u00e9\u00fc\u65e5\U0001f600"
)
# Names with a meaning to ansible-core or that look like patterns.
KEYWORDS = (
    "all",
    "ungrouped",
    "localhost",
    "127.0.0.1",
    "::1",
    "web",
    "db",
    "a",
    "a:b",
    "a,b",
    "web[0]",
    "web[0:1]",
    "web*",
    "w?b",
    "~web",
    "~.*",
    "!web",
    "&web",
    "@web",
    "-l",
    "--limit",
    "web ",
    " web",
    "web\n",
    "\u2028",
    "x\x85",
    "{{ web }}",
    "10.0.0.1:22",
    "[::1]",
)

_char = st.one_of(st.sampled_from(SPECIAL_CHARS), st.sampled_from("abwz09"), st.characters(codec="utf-8"))
raw_names = st.text(_char, min_size=1, max_size=8)
long_names = st.builds(
    lambda text, times: (text * times)[:5000], st.text(_char, min_size=1, max_size=6), st.integers(40, 1000)
)
host_names = st.one_of(raw_names, raw_names, st.sampled_from(KEYWORDS), long_names)


def derived_names(names: list[str]) -> st.SearchStrategy[str]:
    """Names built from other names: prefixes, padded, negated, globbed, or another's regex."""
    from ansible_collections.relaunch.status.plugins.plugin_utils._core.selection import regex_pattern

    base = st.sampled_from(names)
    return st.one_of(
        st.builds(lambda name, cut: name[: max(1, len(name) - cut)], base, st.integers(1, 3)),
        st.builds(lambda name, pad: pad + name + pad[::-1], base, st.sampled_from((" ", "\t", "\u3000", "\x85", "\n"))),
        st.builds(lambda name, lead: lead + name, base, st.sampled_from("!&~@-")),
        st.builds(lambda name: name[:1] + "*", base),
        st.builds(lambda name: name + ",", base),
        st.builds(regex_pattern, base),
    )
