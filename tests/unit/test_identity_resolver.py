# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Identities of a whole inventory at once (the selecting plugins) are those of each host on its own (the callback).

The callback resolves hosts one by one, as tests/e2e/test_callback.py pins against what a play sees;
the lookup, the module and the inventory plugin resolve the whole inventory through
``IdentityResolver.resolve_all``, which asks the vars plugins about chunks of hosts first.
Real inventories, real group_vars/ and host_vars/ files, real vars plugins: nothing is mocked.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader

from ansible_collections.relaunch.status.plugins.plugin_utils import _inventory as glue

BULK = 1200  # more than two chunks of hosts asked about at once


def _project(root: Path, host_vars: dict[str, str]) -> None:
    bulk = "".join(
        f"        h{index:04d}:\n" + ("" if index % 7 == 0 else f"          relaunch_id: id-{index:04d}\n")
        for index in range(BULK)
    )
    files = {
        "inv/hosts.yml": (
            "all:\n  children:\n"
            "    bulk:\n      vars:\n        relaunch_id: from-group-bulk\n      hosts:\n"
            + bulk
            + "    web:\n      vars:\n        relaunch_id: inline-web\n"
            "      hosts:\n        web1:\n          relaunch_id: inv-web1\n        web2:\n        192.0.2.10:\n"
            "      children:\n        canary:\n          vars:\n            relaunch_id: inline-canary\n"
            "          hosts:\n            web2:\n"
            "    db:\n      hosts:\n        db1:\n        db2:\n"
        ),
        "inv/group_vars/db.yml": 'relaunch_id: "db-{{ inventory_hostname }}"\n',
        **host_vars,
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


# host_vars/ files beside the inventory source and beside the playbook, in the first, a middle and the last chunk.
HOST_VARS = {
    "inv/host_vars/h1199.yml": "relaunch_id: hv-1199\n",
    "play/host_vars/h0701.yml": "serial_number: SN-701\n",
    "play/host_vars/h0003/main.yml": "relaunch_id: hv-dir-0003\n",
    "play/host_vars/db2.yml": "relaunch_id: hv-db2\n",
}


def _resolver(root: Path, identity_vars: list[str]) -> glue.IdentityResolver:
    directories = glue.source_directories([str(root / "inv" / "hosts.yml")], str(root / "play"))
    return glue.IdentityResolver(DataLoader(), identity_vars, directories)


@pytest.mark.parametrize("host_vars", [HOST_VARS, {}], ids=["host_vars files", "no host_vars directory"])
@pytest.mark.parametrize(
    "identity_vars", [["relaunch_id"], ["serial_number", "relaunch_id"], ["inventory_hostname_short"], ["asset_tag"]]
)
def test_whole_inventory_resolves_as_each_host_alone(tmp_path: Path, host_vars: dict, identity_vars: list[str]) -> None:
    _project(tmp_path, host_vars)
    (tmp_path / "play").mkdir(exist_ok=True)
    inventory = InventoryManager(DataLoader(), sources=[str(tmp_path / "inv" / "hosts.yml")])
    hosts = list(inventory.hosts.values())
    together = {host.name: host.identity for host in _resolver(tmp_path, identity_vars).resolve_all(hosts)}
    alone = _resolver(tmp_path, identity_vars)
    assert together == {host.name: alone.resolve(host)[0] for host in hosts}
    # And what a play sees, for the cases that would go wrong if a vars file were skipped.
    if identity_vars == ["relaunch_id"]:
        expected = {
            "h0000": "from-group-bulk",
            "h0001": "id-0001",
            "web1": "inv-web1",
            "web2": "inline-canary",
            "db1": "db-db1",
        }
        expected |= (
            {"h1199": "hv-1199", "h0003": "hv-dir-0003", "db2": "hv-db2"}
            if host_vars
            else {"h1199": "id-1199", "h0003": "id-0003", "db2": "db-db2"}
        )
        assert {name: together[name] for name in expected} == expected
    if identity_vars == ["serial_number", "relaunch_id"]:
        assert together["h0701"] == ("SN-701" if host_vars else "id-0701")
    if identity_vars == ["inventory_hostname_short"]:
        assert together["192.0.2.10"] == "192.0.2.10" and together["web1"] == "web1"
