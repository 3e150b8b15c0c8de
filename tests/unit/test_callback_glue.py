# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The callback stays hooks and documentation; what it reads of Ansible's results lives in plugin_utils/_playbook.py."""

from __future__ import annotations

import ast
from pathlib import Path

from ansible_collections.relaunch.status.plugins.plugin_utils._playbook import added_hosts, provision_event

CALLBACK = Path(__file__).resolve().parents[2] / "plugins" / "callback" / "manifest.py"
CODE_LINES_MAX = 300


def code_lines(path: Path) -> int:
    """Lines of code of a plugin beside its DOCUMENTATION and EXAMPLES: no blank line, no comment."""
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    documentation = set()
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id in ("DOCUMENTATION", "EXAMPLES", "RETURN")
            for target in node.targets
        ):
            documentation.update(range(node.lineno, node.end_lineno + 1))
    return sum(
        1
        for number, line in enumerate(lines, 1)
        if number not in documentation and line.strip() and not line.strip().startswith("#")
    )


def test_the_callback_is_mostly_hooks_and_documentation():
    assert code_lines(CALLBACK) <= CODE_LINES_MAX


def test_added_hosts_of_a_plain_and_a_looped_add_host():
    one = {"add_host": {"host_name": "new1", "host_vars": {}}}
    looped = {"results": [one, {"add_host": {"host_name": "new2"}}, {"skipped": True}, "junk"]}
    assert [added["host_name"] for added in added_hosts(one)] == ["new1"]
    assert [added["host_name"] for added in added_hosts(looped)] == ["new1", "new2"]
    assert list(added_hosts({"add_host": {"host_name": ""}})) == []


def test_provision_event_takes_the_first_identity_var_set():
    added = {"host_name": "vm7", "host_vars": {"serial": 42, "relaunch_id": None}}
    assert provision_event("web1", added, {"web1"}, ["relaunch_id", "serial"]) == {
        "e": "provision",
        "host": "vm7",
        "by": "web1",
        "identity": "42",
        "identity_var": "serial",
    }
    event = provision_event("web1", {"host_name": "vm8"}, (), ["relaunch_id"])
    assert event["identity"] is None and event["identity_var"] is None


def test_an_inventory_host_put_in_a_group_is_not_provisioned():
    assert provision_event("web1", {"host_name": "db1", "groups": ["new"]}, {"web1", "db1"}, ["relaunch_id"]) is None
