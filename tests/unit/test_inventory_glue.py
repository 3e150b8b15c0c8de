# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""source_directories gives the vars plugins the directories ansible-core's own get_vars_from_inventory_sources does."""

from __future__ import annotations

import os

import pytest
from ansible.inventory.host import Host
from ansible.parsing.dataloader import DataLoader
from ansible.utils.vars import combine_vars
from ansible.vars.plugins import get_vars_from_inventory_sources, get_vars_from_path

from ansible_collections.relaunch.status.plugins.plugin_utils._inventory import source_directories

SOURCES = [
    pytest.param(["site/inventory.yml"], id="relative file"),
    pytest.param(["{root}/site/inventory.yml"], id="absolute file"),
    pytest.param(["{root}/split"], id="directory"),
    pytest.param(["split"], id="relative directory"),
    pytest.param(["web1,web2,"], id="host list"),
    pytest.param(["odd,name"], id="directory with a comma"),
    pytest.param(["{root}/missing.yml"], id="missing file"),
    pytest.param(["~/nowhere/inventory.yml"], id="tilde"),
    pytest.param(["site/inventory.yml", "{root}/split", "web1,", "site/other.ini"], id="several"),
]


@pytest.mark.parametrize("sources", SOURCES)
def test_vars_of_source_directories_are_ansible_cores(tmp_path, monkeypatch, sources):
    for path, text in {
        "site/inventory.yml": "all: {}\n",
        "site/other.ini": "",
        "site/host_vars/web1.yml": "relaunch_id: from-site\nsite_only: 1\n",
        "split/host_vars/web1.yml": "relaunch_id: from-split\n",
        "split/group_vars/all.yml": "split_only: 2\n",
        "odd,name/host_vars/web1.yml": "odd_only: 3\n",
        "host_vars/web1.yml": "cwd_only: 4\n",
    }.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    monkeypatch.chdir(tmp_path)
    sources = [source.format(root=tmp_path) for source in sources]
    loader, host = DataLoader(), Host("web1")
    ours: dict = {}
    for directory in source_directories(sources):
        ours = combine_vars(ours, get_vars_from_path(loader, directory, [host], "task"))
    assert ours == get_vars_from_inventory_sources(loader, sources, [host], "task")
    assert all(os.path.isabs(directory) for directory in source_directories(sources))
