# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every plugin and the role in use, with deprecation warnings on: ansible-core has nothing to deprecate in them."""

from __future__ import annotations

from pathlib import Path

from tests.ecosystem.collection import ROOT
from tests.runner import ansible_playbook, write_files

FILES = {
    "inventory.yml": """
        all:
          vars:
            ansible_connection: local
          hosts:
            web01: {relaunch_id: id-web01}
            web02: {relaunch_id: id-web02, broken: true}
            cache01: {ansible_connection: ssh, ansible_host: 127.0.0.1, ansible_port: 1}
    """,
    "site.yml": """
        - name: Deploy
          hosts: all
          gather_facts: false
          tasks:
            - name: Reach every host
              ansible.builtin.ping:
            - name: Fail where the host is broken
              ansible.builtin.fail:
                msg: web server is broken
              when: broken | default(false)
    """,
    "lookup.yml": """
        - name: Relaunch through the lookup
          hosts: "{{ lookup('relaunch.status.limit', 'failed', manifest='.relaunch/site') }}"
          gather_facts: false
          tasks:
            - name: Say where it runs
              ansible.builtin.debug:
                msg: "ran on {{ inventory_hostname }}"
    """,
    "info.yml": """
        - name: What a relaunch would do
          hosts: localhost
          gather_facts: false
          tasks:
            - name: Read the manifest
              relaunch.status.relaunch_info:
                manifest: .relaunch/site
                hosts: failed
              register: info
            - name: Show the limit
              ansible.builtin.debug:
                var: info.limit
    """,
    "groups.yml": """
        - name: Relaunch through the inventory groups
          hosts: all
          gather_facts: false
          tasks:
            - name: Say where it runs
              ansible.builtin.debug:
                msg: "ran on {{ inventory_hostname }}"
    """,
    "relaunch.yml": """
        plugin: relaunch.status.groups
        manifest: .relaunch/site
    """,
    "role.yml": """
        - name: Relaunch through the role
          hosts: all
          gather_facts: false
          roles:
            - role: relaunch.status.select
          tasks:
            - name: Say where it runs
              ansible.builtin.debug:
                msg: "ran on {{ inventory_hostname }}"
    """,
}

# Which plugin each playbook needs, and the extra arguments it runs with.
USES = [
    ("lookup.yml", "plugins/lookup/limit.py", ()),
    ("info.yml", "plugins/modules/relaunch_info.py", ()),
    ("groups.yml", "plugins/inventory/groups.py", ("-i", "relaunch.yml", "--limit", "relaunch_failed")),
    ("role.yml", "roles/select/tasks/main.yml", ("-e", "relaunch_hosts=failed", "-e", "relaunch_manifest=.relaunch/site")),
]


def deprecations(output: str) -> list[str]:
    return [line for line in output.splitlines() if "[DEPRECATION WARNING]" in line or ("WARNING" in line and "deprecat" in line.lower())]


def test_plugins_use_no_deprecated_api(tmp_path: Path) -> None:
    write_files(tmp_path, FILES)
    env = {"ANSIBLE_DEPRECATION_WARNINGS": "1", "ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED": "1"}
    first = ansible_playbook(tmp_path, "-i", "inventory.yml", env=env)
    assert first.rc in (2, 4), first.stdout + first.stderr
    assert deprecations(first.stdout + first.stderr) == []
    for playbook, needs, args in USES:
        if not (ROOT / needs).exists():
            continue
        run = ansible_playbook(tmp_path, "-i", "inventory.yml", *args, playbook=playbook, env=env)
        # The relaunch reaches web02 and cache01 (still unreachable), never web01.
        assert run.rc in (0, 2, 4), run.stdout + run.stderr
        if playbook == "info.yml":
            assert "web02" in run.stdout, run.stdout
        else:
            assert "ran on web02" in run.stdout and "ran on web01" not in run.stdout, run.stdout
        assert deprecations(run.stdout + run.stderr) == [], playbook
