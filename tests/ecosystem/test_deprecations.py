# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every plugin and the role in use, with deprecation warnings on: no warning at all, deprecation or other.

Runs on every supported ansible-core (tests/ecosystem/versions.py): the callback in every run, then the
lookup, the module, the inventory plugin (in a play and under ansible-inventory) and the role.
"""

from __future__ import annotations

import re
import subprocess
import textwrap
from pathlib import Path

from tests.ecosystem.collection import ROOT
from tests.fixtures import DEPLOY_INVENTORY, DEPLOY_SITE
from tests.runner import ANSIBLE_BIN, ansible_env, ansible_playbook, write_files

FILES = {
    "inventory.yml": DEPLOY_INVENTORY,
    "site.yml": DEPLOY_SITE,
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
    (
        "role.yml",
        "roles/select/tasks/main.yml",
        ("-e", "relaunch_hosts=failed", "-e", "relaunch_manifest=.relaunch/site"),
    ),
]


# A Python warning (shown with PYTHONWARNINGS=default) names the file it is attributed to.
_PYTHON_WARNING = re.compile(r"^(?P<file>.+?):\d+: \w*Warning: ")


def warnings(output: str) -> list[str]:
    """Every Ansible warning line, and every Python warning raised from the collection's own files.

    Python warnings of ansible-core's own (its worker forks while a thread runs, an unclosed file) show up
    with any callback enabled, ansible-core's own too: not ours, so left out.
    """
    found = []
    for line in output.splitlines():
        python = _PYTHON_WARNING.match(line)
        if (
            "[WARNING]" in line
            or "[DEPRECATION WARNING]" in line
            or (python and "ansible_collections/relaunch/status/" in python["file"])
        ):
            found.append(line)
    return found


def test_warnings_are_seen() -> None:
    shown = (
        "\n"
        "        [DEPRECATION WARNING]: The `CallbackTaskResult.task_fields` mapping is deprecated. "
        "This feature will be removed from ansible-core version 2.24.\n"
        "        [WARNING]: relaunch.status.limit: 1 recorded hosts are not selected because they cannot be found\n"
        "        /build/collections/ansible_collections/relaunch/status/plugins/callback/manifest.py:3: "
        "DeprecationWarning: datetime.utcnow() is deprecated\n"
        "        /venv/lib/python3.13/multiprocessing/popen_fork.py:67: "
        "DeprecationWarning: This process (pid=9402) is multi-threaded\n"
        "        ok: [web01]\n"
        "    "
    )
    assert len(warnings(textwrap.dedent(shown))) == 3


def test_plugins_warn_about_nothing(tmp_path: Path) -> None:
    write_files(tmp_path, FILES)
    env = {
        "ANSIBLE_DEPRECATION_WARNINGS": "1",
        "ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED": "1",
        "PYTHONWARNINGS": "default",
    }
    first = ansible_playbook(tmp_path, "-i", "inventory.yml", env=env)
    assert first.rc in (2, 4), first.stdout + first.stderr
    assert warnings(first.stdout + first.stderr) == []
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
        assert warnings(run.stdout + run.stderr) == [], playbook
    graph = subprocess.run(
        [
            str(ANSIBLE_BIN / "ansible-inventory"),
            "-i",
            "inventory.yml",
            "-i",
            "relaunch.yml",
            "--graph",
            "relaunch_failed",
        ],
        cwd=tmp_path,
        env=ansible_env(tmp_path, env),
        capture_output=True,
        text=True,
        check=False,
    )
    assert graph.returncode == 0 and "web02" in graph.stdout and "web01" not in graph.stdout, (
        graph.stdout + graph.stderr
    )
    assert warnings(graph.stdout + graph.stderr) == []
