# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Each ansible-core internal that plugins/plugin_utils/_compat.py reads still exists and means what it assumes.

Runs on every supported ansible-core (tests/ecosystem/versions.py). A test callback and a test lookup call
the compat accessors during a real run and write what they saw; the test compares that with public facts:
ansible-core's .retry file, the recap's stats, the host names in the output, the play's hosts.
"""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path

from tests.fixtures import CACHE01_UNREACHABLE, FAIL_WHERE_BROKEN, REACH_EVERY_HOST, local_inventory, play
from tests.runner import ANSIBLE_BIN, ansible_env, ansible_playbook, write_files

CHECK_CALLBACK = """
import json
import os

from ansible.executor.task_queue_manager import TaskQueueManager
from ansible.inventory.data import InventoryData
from ansible.inventory.manager import InventoryManager
from ansible.plugins.callback import CallbackBase
from ansible.release import __version__

from ansible_collections.relaunch.status.plugins.plugin_utils import _compat as compat


def group_built(at_once):
    # A new group's hosts filled at once by compat.fill_new_group, or by add_host: what each side sees.
    data = InventoryData()
    for name in ("g0", "g1"):
        data.add_group(name)
    for index in range(5):
        data.add_host(f"h{index}", f"g{index % 2}")
    group = data.groups[data.add_group("new")]
    hosts = [data.hosts[name] for name in ("h0", "h2", "h3")]
    if at_once:
        assert compat.fill_new_group(group, hosts)
        assert not compat.fill_new_group(group, hosts), "a group with hosts is not new"
    else:
        for host in hosts:
            group.add_host(host)

    def groups():
        return {host.name: sorted(group.name for group in host.get_groups()) for host in data.hosts.values()}

    names = sorted(getattr(host, "name", host) for host in group.host_names)  # 2.16 to 2.18 hold Host objects
    seen = [[host.name for host in group.get_hosts()], names, groups()]
    data.reconcile_inventory()
    seen += [[g.name for g in group.parent_groups], groups(), [host.name for host in data.groups["all"].get_hosts()]]
    group.add_host(data.hosts["h1"])
    group.add_host(data.hosts["h0"])  # already in it
    return seen + [[host.name for host in group.get_hosts()]]


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "compat_check"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.seen = {"version": __version__, "plays": [], "results": [], "rescued_before_failed": {}}
        self.tqm = None

    def v2_playbook_on_start(self, playbook):
        self.tqm = compat.find_task_queue_manager()
        self.seen["tqm"] = isinstance(self.tqm, TaskQueueManager)
        self.seen["playbook_file"] = os.path.abspath(compat.playbook_file(playbook))
        self.seen["loader_files"] = sorted(compat.loader_file_cache(playbook.get_loader()))
        self.seen["vault_secrets"] = [secret.bytes.decode() for _vault_id, secret in \
compat.vault_secrets(playbook.get_loader())]

        self.seen["new_group"] = [group_built(True), group_built(False)]

    def v2_playbook_on_play_start(self, play):
        inventory = compat.play_inventory(play)
        self.seen["plays"].append(
            {
                "name": play.get_name(),
                "id": compat.object_id(play),
                "inventory": isinstance(inventory, InventoryManager),
                "tqm_inventory_is_the_play_inventory": compat.tqm_inventory(self.tqm) is inventory,
                "hosts": sorted(inventory.hosts),
            }
        )

    def _result(self, result, outcome):
        host, task = compat.result_host_task(result)
        data = compat.result_data(result)
        self.seen["results"].append(
            {
                "type": type(result).__name__,
                "public": compat.public_result(result),
                "host": host.name,
                "task": task.get_name(),
                "task_id": compat.object_id(task),
                "outcome": outcome,
                "msg": data.get("msg"),
            }
        )
        if outcome == "failed":
            self.seen["rescued_before_failed"][host.name] = compat.tqm_rescued(self.tqm).get(host.name, 0)

    def v2_runner_on_ok(self, result):
        self._result(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._result(result, "failed")

    def v2_runner_on_unreachable(self, result):
        self._result(result, "unreachable")

    def v2_playbook_on_stats(self, stats):
        self.seen["failed_hosts"] = sorted(compat.tqm_failed_hosts(self.tqm))
        self.seen["tqm_rescued"] = dict(compat.tqm_rescued(self.tqm))
        self.seen["stats_rescued"] = dict(stats.rescued)
        with open(os.environ["COMPAT_CHECK_OUT"], "w") as out:
            json.dump(self.seen, out)
"""

INVENTORY_LOOKUP = """
from ansible.plugins.lookup import LookupBase

from ansible_collections.relaunch.status.plugins.plugin_utils import _compat as compat


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        where = terms[0]
        inventory = compat.hostvars_inventory(variables or {}) if where == "hostvars" else compat.inventory_on_stack()
        return [",".join(sorted(inventory.hosts)) if inventory is not None else "none"]
"""

# After the Deploy project's tasks: a rescued failure, and what the inventory behind hostvars is.
COMPAT_TASKS = """\
- name: Fail and be rescued
  when: rescued | default(false)
  block:
    - name: Fail inside a block
      ansible.builtin.fail:
        msg: rescued failure
  rescue:
    - name: Rescue it
      ansible.builtin.debug:
        msg: rescued
- name: The inventory behind hostvars
  ansible.builtin.debug:
    msg: "behind hostvars: {{ lookup('compat_inventory', 'hostvars') }}"
  run_once: true
"""

FILES = {
    "inventory.yml": local_inventory(
        "web01: {}", "web02: {broken: true}", "web03: {rescued: true}", CACHE01_UNREACHABLE
    ),
    "site.yml": play(
        "Hosts chosen by the lookup without hostvars",
        "\"{{ lookup('compat_inventory', 'stack') }}\"",
        REACH_EVERY_HOST,
        FAIL_WHERE_BROKEN,
        COMPAT_TASKS,
        serial=2,
    ),
}


def test_compat_accessors_mean_what_the_code_assumes(tmp_path: Path) -> None:
    write_files(tmp_path, FILES)
    write_files(
        tmp_path,
        {"callback_plugins/compat_check.py": CHECK_CALLBACK, "lookup_plugins/compat_inventory.py": INVENTORY_LOOKUP},
    )
    (tmp_path / "vault-password").write_text("compat-vault-secret\n")
    out = tmp_path / "seen.json"
    env = {
        "ANSIBLE_CALLBACK_PLUGINS": str(tmp_path / "callback_plugins"),
        "ANSIBLE_CALLBACKS_ENABLED": "relaunch.status.manifest,compat_check",
        "COMPAT_CHECK_OUT": str(out),
        "ANSIBLE_VAULT_PASSWORD_FILE": str(tmp_path / "vault-password"),
    }
    run = ansible_playbook(tmp_path, "-i", "inventory.yml", env=env)
    assert run.rc in (2, 4), run.stdout + run.stderr
    seen = json.loads(out.read_text())
    everyone = ["cache01", "web01", "web02", "web03"]
    public = tuple(int(part) for part in seen["version"].split(".")[:2]) >= (2, 19)

    # A new group filled at once holds its hosts, and they it, as when each is added, before and after the
    # inventory is reconciled and when a host is added later.
    at_once, one_by_one = seen["new_group"]
    assert at_once == one_by_one
    assert at_once[0] == ["h0", "h2", "h3"] and at_once[-1] == ["h0", "h2", "h3", "h1"]

    # The TaskQueueManager is on the stack; its failed and unreachable sets are the .retry file.
    assert seen["tqm"] is True
    assert seen["failed_hosts"] == sorted(run.retry()) == ["cache01", "web02"]
    # Its _stats is the AggregateStats of the recap, and counts a rescue before the failure is called back.
    assert seen["tqm_rescued"] == seen["stats_rescued"] == {"web03": 1}
    assert seen["rescued_before_failed"] == {"web02": 0, "web03": 1}
    assert seen["playbook_file"] == str(tmp_path / "site.yml")
    # The loader keeps the files it read by path (the playbook among them); the run's vault secrets are reachable.
    assert str(tmp_path / "site.yml") in seen["loader_files"]
    assert seen["vault_secrets"] == ["compat-vault-secret"]

    # Every batch of the serial play: the play's inventory (the TaskQueueManager's too) holds every host;
    # the play keeps one id.
    assert len(seen["plays"]) == 2
    assert all(play["inventory"] and play["hosts"] == everyone for play in seen["plays"])
    assert all(play["tqm_inventory_is_the_play_inventory"] for play in seen["plays"])
    assert seen["plays"][0]["id"] == seen["plays"][1]["id"]

    # The result API is told from the type: public attributes from 2.19 on, private before.
    results = seen["results"]
    assert {(result["type"], result["public"]) for result in results} == {
        ("CallbackTaskResult", True) if public else ("TaskResult", False)
    }
    for host in everyone:
        # Which host and task a result belongs to, as ansible-core prints it.
        assert any(
            f"[{host}]" in line for line in run.stdout.splitlines() if line.startswith(("ok:", "fatal:", "changed:"))
        )
    assert {(result["host"], result["task"]) for result in results if result["outcome"] == "failed"} == {
        ("web02", "Fail where the host is broken"),
        ("web03", "Fail inside a block"),
    }
    assert {result["msg"] for result in results if result["outcome"] == "failed"} == {
        "web server is broken",
        "rescued failure",
    }
    assert {result["host"] for result in results if result["outcome"] == "unreachable"} == {"cache01"}
    # A task keeps one id over hosts and batches; different tasks have different ids.
    ids_by_task: dict[str, set[str]] = {}
    for result in results:
        ids_by_task.setdefault(result["task"], set()).add(result["task_id"])
    assert all(len(ids) == 1 for ids in ids_by_task.values()), ids_by_task
    assert len({next(iter(ids)) for ids in ids_by_task.values()}) == len(ids_by_task)

    # The lookup found the inventory on the stack for hosts: (the play ran on every host), and behind hostvars.
    assert "behind hostvars: cache01,web01,web02,web03" in run.stdout, run.stdout


def test_without_the_task_queue_manager_the_callback_says_what_is_approximate(tmp_path: Path) -> None:
    """Called by something other than ansible-core's TaskQueueManager, the callback warns once, naming the statuses."""
    write_files(tmp_path, {**FILES, "site.yml": "- hosts: all\n  gather_facts: false\n  tasks: []\n"})
    script = textwrap.dedent("""
        from ansible import context
        from ansible.module_utils.common.collections import ImmutableDict
        from ansible.parsing.dataloader import DataLoader
        from ansible.playbook import Playbook
        from ansible.plugins.loader import callback_loader, init_plugin_loader

        init_plugin_loader()
        context.CLIARGS = ImmutableDict(inventory=["inventory.yml"], args=["site.yml"])
        callback = callback_loader.get("relaunch.status.manifest")
        callback.set_options()
        playbook = Playbook.load("site.yml", loader=DataLoader())
        callback.v2_playbook_on_start(playbook)
        callback.v2_playbook_on_start(playbook)
    """)
    ran = subprocess.run(
        [str(ANSIBLE_BIN / "python"), "-c", script],
        cwd=tmp_path,
        env=ansible_env(tmp_path),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert ran.returncode == 0, ran.stderr
    warned = [line for line in ran.stderr.splitlines() if "relaunch.status.manifest:" in line]
    assert len(warned) == 1, ran.stderr
    assert "failed, unreachable and rescued are approximate" in " ".join(ran.stderr.split())
