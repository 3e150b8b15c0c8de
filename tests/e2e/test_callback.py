# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The callback relaunch.status.manifest seen from outside: real ansible-playbook runs, the files they leave."""

from __future__ import annotations

import datetime
import json
import os
import re
import shlex
import stat
import subprocess
from pathlib import Path

import pexpect
import pytest

from ansible_collections.relaunch.status.plugins.plugin_utils._core.recorder import STATUSES
from tests.runner import ANSIBLE_BIN, RUN_LIMIT_FILE, ansible_env, ansible_playbook, write_files

INVENTORY = """
    all:
      vars:
        ansible_connection: local
      children:
        web:
          hosts:
            web1:
            web2:
            web3:
        db:
          hosts:
            db1:
            db2:
        broken:
          hosts:
            dead:
              ansible_connection: ssh
              ansible_host: 127.0.0.1
              ansible_port: 1
    """

# web2 and db1 fail the same task with the same message, dead is unreachable; the rest change.
SITE = """
    - name: Site
      hosts: all
      gather_facts: false
      tasks:
        - name: Reach
          ansible.builtin.ping:
          when: inventory_hostname == 'dead'
        - name: Check disk
          ansible.builtin.fail:
            msg: disk full
          when: inventory_hostname in ['web2', 'db1']
        - name: Deploy
          ansible.builtin.debug:
            msg: deployed
          changed_when: true
    """

CLEAN = """
    - name: Site, all good now
      hosts: all:!broken
      gather_facts: false
      tasks:
        - name: Deploy
          ansible.builtin.debug:
            msg: deployed
    """

FAILED = {"web2", "db1", "dead"}
ALL = {"web1", "web2", "web3", "db1", "db2", "dead"}
RUN_ID = re.compile(r"^\d{8}T\d{12}Z-\d+-[0-9a-f]{4}$")
HOST_KEYS = {
    "name",
    "identity",
    "identity_var",
    "statuses",
    "counters",
    "provisioned",
    "provisioned_by",
    "first_failure",
    "run_id",
    "finished",
}


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    write_files(tmp_path, {"inventory.yml": INVENTORY, "site.yml": SITE, "clean.yml": CLEAN})
    return tmp_path


def site(workdir: Path, *args: str, env: dict | None = None, playbook: str = "site.yml"):
    return ansible_playbook(workdir, "-i", "inventory.yml", *args, playbook=playbook, env=env)


def warnings_of(run) -> list[str]:
    return [line for line in (run.stdout + run.stderr).splitlines() if "relaunch.status.manifest" in line]


def core_version() -> str:
    out = subprocess.run(
        [str(ANSIBLE_BIN / "ansible-playbook"), "--version"], capture_output=True, text=True, check=True
    ).stdout
    return re.search(r"\[core ([^\]]+)\]", out).group(1)


# --- the manifest ------------------------------------------------------------------------------


def test_manifest_shape(workdir: Path) -> None:
    run = site(workdir)
    assert run.rc == 4  # ansible-playbook's code for "some host unreachable"
    manifest = run.manifest()
    check_run_keys(run, manifest, workdir)
    check_host_entries({host["name"]: host for host in manifest["hosts"]}, manifest)
    assert run.with_status("failed") == run.retry() == FAILED


def check_run_keys(run, manifest: dict, workdir: Path) -> None:
    assert manifest["schema_version"] == 2
    assert RUN_ID.match(manifest["run_id"])
    assert json.loads((run.run_dir / f"{manifest['run_id']}.json").read_text()) == manifest
    assert manifest["playbook"] == str(workdir / "site.yml")
    started = datetime.datetime.fromisoformat(manifest["started"])
    finished = datetime.datetime.fromisoformat(manifest["finished"])
    assert started.utcoffset() == datetime.timedelta(0)
    assert started <= finished
    assert manifest["complete"] is True
    assert manifest["check_mode"] is False
    assert manifest["narrowed"] is False
    # The first run of a playbook starts its rollout.
    assert manifest["rollout"] == {"started_by": manifest["run_id"], "runs": 1}
    assert [(group["task"], group["hosts"]) for group in manifest["failure_groups"]] == [
        ("Check disk", ["db1", "web2"]),
        ("Reach", ["dead"]),
    ]
    assert manifest["ansible_version"] == core_version()
    assert manifest["invocation"] == {
        "limit": "",
        "limit_given": "",
        "inventory": [str(workdir / "inventory.yml")],
        "tags": ["all"],
        "skip_tags": [],
    }
    assert manifest["passwords_needed_to_start"] == []
    assert manifest["retry_counts"] == {
        "all": 6,
        "failed": 3,
        "unreachable": 1,
        "changed": 3,
        "ok": 3,
        "skipped": 5,
        "rescued": 0,
        "ignored": 0,
        "not_run": 0,
        "pending": 3,
    }


def check_host_entries(hosts: dict, manifest: dict) -> None:
    assert set(hosts) == ALL
    assert all(set(host) == HOST_KEYS for host in hosts.values())
    # Every host ran in this run: each entry is this run's outcome.
    assert all(
        (host["run_id"], host["finished"]) == (manifest["run_id"], manifest["finished"]) for host in hosts.values()
    )
    assert hosts["web1"]["statuses"] == ["all", "changed", "ok", "skipped"]
    assert hosts["web1"]["counters"] == {
        "ok": 1,
        "changed": 1,
        "failures": 0,
        "unreachable": 0,
        "skipped": 2,
        "rescued": 0,
        "ignored": 0,
    }
    assert hosts["web1"]["first_failure"] is None
    assert hosts["web1"]["provisioned"] is False
    assert hosts["web1"]["provisioned_by"] == []
    assert hosts["web2"]["statuses"] == ["all", "failed", "pending", "skipped"]
    assert hosts["web2"]["first_failure"] == {
        "play": "Site",
        "task": "Check disk",
        "action": "ansible.builtin.fail",
        "unreachable": False,
        "message": "disk full",
    }
    assert hosts["dead"]["statuses"] == ["all", "failed", "pending", "unreachable"]
    failure = hosts["dead"]["first_failure"]
    assert (failure["task"], failure["unreachable"]) == ("Reach", True)
    assert failure["message"]


INVOCATIONS = [
    ("no limit", (), {"limit": ""}, ALL),
    ("empty limit", ("--limit", ""), {"limit": ""}, ALL),
    ("limit with commas", ("--limit", "web1,db1,dead"), {"limit": "web1,db1,dead"}, {"web1", "db1", "dead"}),
    ("limit with a trailing comma", ("--limit", "web2,"), {"limit": "web2,"}, {"web2"}),
    ("limit with patterns", ("--limit", "web:db:!web3"), {"limit": "web:db:!web3"}, ALL - {"web3", "dead"}),
    # What the file selected, and the limit as given.
    ("limit file", ("--limit", "@hosts.limit"), {"limit": "web3,db2", "limit_given": "@hosts.limit"}, {"web3", "db2"}),
    ("tags", ("--tags", "deploy", "--skip-tags", "slow"), {"tags": ["deploy"], "skip_tags": ["slow"]}, ALL),
    # ansible-core keeps tags as a set: their order is its own.
    ("several tags", ("--tags", "deploy,check", "--tags", "x"), {"tags": {"check", "deploy", "x"}}, ALL),
    ("two inventories", ("-i", "more.yml"), {"inventory": ["inventory.yml", "more.yml"]}, ALL | {"extra1"}),
]


@pytest.mark.parametrize(
    ("args", "expected", "hosts"), [case[1:] for case in INVOCATIONS], ids=[case[0] for case in INVOCATIONS]
)
def test_invocation_is_recorded_as_given(workdir: Path, args: tuple, expected: dict, hosts: set) -> None:
    write_files(workdir, {"hosts.limit": "web3\ndb2\n", "more.yml": "all:\n  hosts:\n    extra1:\n"})
    run = site(workdir, *args)
    manifest = run.run_manifest()  # a run whose tags select no task never becomes latest.json
    invocation = manifest["invocation"]
    if "inventory" in expected:
        expected = {"inventory": [str(workdir / name) for name in expected["inventory"]]}
    for key, value in expected.items():
        assert (set(invocation[key]) if isinstance(value, set) else invocation[key]) == value
    # The limit was applied as ansible-core applied it.
    assert {host["name"] for host in manifest["hosts"] if "all" in host["statuses"]} == hosts


def test_check_mode_is_a_dry_run(workdir: Path) -> None:
    first = site(workdir)
    files = ["latest.json", *sorted(path.name for path in first.run_dir.glob("*.limit"))]
    before = {name: (first.run_dir / name).read_bytes() for name in files}
    first_run_id = first.run_manifest()["run_id"]

    run = site(workdir, "--check")
    manifest = run.run_manifest()
    assert manifest["check_mode"] is True
    assert manifest["rollout"] is None, "a dry run is merged into no rollout"
    assert run.manifest() == manifest
    # The dry run writes its own manifest and nothing else: the rollout and every limit file are unchanged.
    assert sorted(path.name for path in run.run_dir.glob("[!.]*")) == sorted(
        [*files, f"{first_run_id}.json", f"{manifest['run_id']}.json"]
    )
    assert {name: (run.run_dir / name).read_bytes() for name in files} == before
    # Its own manifest still agrees with ansible-core's .retry file.
    assert run.ran_with_status("failed") == run.retry() == FAILED
    summary = summary_of(run.stdout)
    assert summary.splitlines()[0] == (
        f"RELAUNCH SUMMARY: .relaunch/site/{manifest['run_id']}.json"
        " (dry run: --check; the rollout and its limit files are unchanged)"
    )
    assert "relaunch on" not in summary and "ansible-playbook" not in summary, "a dry run prints no command"


# --- passwords ---------------------------------------------------------------------------------

PASSWORDS = [
    (("-K",), {}, ["become_password"]),
    (("-k",), {}, ["ssh_password"]),
    (("-k", "-K"), {}, ["ssh_password", "become_password"]),
    (("--ask-vault-pass",), {}, ["vault_password"]),
    (("--vault-id", "@prompt"), {}, ["vault_password"]),
    (("--vault-id", "prompt"), {}, ["vault_password"]),
    (("--vault-id", "dev@prompt"), {}, ["vault_password.dev"]),
    (("--vault-id", "dev@prompt", "--vault-id", "prod@prompt"), {}, ["vault_password.dev", "vault_password.prod"]),
    (("--vault-id", "file@vault.txt"), {}, []),
    # ansible-core splits a vault id on its first "@": a password file named "b@prompt", no prompt.
    (("--vault-id", "a@b@prompt"), {}, []),
    (("--ask-vault-pass", "--vault-id", "dev@prompt"), {}, ["vault_password.dev", "vault_password"]),
    ((), {"ANSIBLE_VAULT_IDENTITY_LIST": "ops@prompt"}, ["vault_password.ops"]),
    (("--ask-vault-pass",), {"ANSIBLE_VAULT_IDENTITY": "prod"}, ["vault_password"]),
]


def prompted_name(prompt: str, default_identity: str) -> str:
    """The AWX name of the password an ansible-core prompt asks for."""
    if prompt.startswith("SSH password"):
        return "ssh_password"
    if prompt.startswith("BECOME password"):
        return "become_password"
    label = re.match(r"Vault password(?: \((.*)\))?:", prompt).group(1)
    return "vault_password" if label in (None, default_identity) else f"vault_password.{label}"


@pytest.mark.parametrize(
    ("args", "env", "needed"), PASSWORDS, ids=[" ".join(case[0]) or " ".join(case[1]) for case in PASSWORDS]
)
def test_passwords_needed_to_start(workdir: Path, args: tuple, env: dict, needed: list) -> None:
    """Answer ansible-playbook's own prompts on a terminal; the manifest names them, never their values."""
    write_files(workdir, {"vault.txt": "vault-file-secret-5150\n", "b@prompt": "vault-file-secret-5151\n"})
    secret = "typed-secret-8d1f"
    child = pexpect.spawn(
        str(ANSIBLE_BIN / "ansible-playbook"),
        ["-i", "inventory.yml", "--limit", "web", *args, "clean.yml"],
        cwd=str(workdir),
        env=ansible_env(workdir, env),
        encoding="utf-8",
        timeout=120,
    )
    prompts = []
    while child.expect([r"(SSH|BECOME|Vault) password[^\n]*: ?$", pexpect.EOF]) == 0:
        prompts.append(child.after.strip())
        child.sendline(secret)
    child.close()
    assert child.exitstatus == 0, child.before
    # What ansible-core itself asked for, named; the default identity's prompt may come twice.
    asked = list(
        dict.fromkeys(prompted_name(prompt, env.get("ANSIBLE_VAULT_IDENTITY", "default")) for prompt in prompts)
    )
    assert asked == needed, prompts
    manifest_dir = workdir / ".relaunch"
    manifest = json.loads((manifest_dir / "clean" / "latest.json").read_text())
    assert manifest["passwords_needed_to_start"] == needed
    for path in manifest_dir.rglob("*"):
        if path.is_file():
            text = path.read_text()
            assert secret not in text and "vault-file-secret" not in text, path


# --- identity ----------------------------------------------------------------------------------


# group_vars/ beside the inventory source, host_vars/ beside the playbook: ansible-core reads both.
IDENTITY_FILES = {
    "inv/hosts.yml": """
        all:
          vars:
            ansible_connection: local
          children:
            web:
              vars:
                relaunch_id: inline-web
              hosts:
                web1:
                  relaunch_id: inv-web1
                web2:
                web3:
                  serial_number: SN-3
              children:
                canary:
                  vars:
                    relaunch_id: inline-canary
                  hosts:
                    web2:
            db:
              hosts:
                db1:
                db2:
                db3:
            other:
              hosts:
                plain:
        """,
    "inv/group_vars/db.yml": 'relaunch_id: "db-{{ inventory_hostname }}"\n',
    "host_vars/db2.yml": "relaunch_id: hv-db2\n",
    "host_vars/db3.yml": "serial_number: SN-db3\n",
    "site.yml": """
        - name: Identities
          hosts: all
          gather_facts: false
          tasks:
            - name: Step
              ansible.builtin.debug:
                msg: "{{ relaunch_id | default('') }}"
        """,
}

IDENTITIES = [
    (
        "default identity_vars",
        {},
        {
            "web1": ("inv-web1", "relaunch_id"),  # host var beats group var
            "web2": ("inline-canary", "relaunch_id"),  # child group beats parent group
            "web3": ("inline-web", "relaunch_id"),
            "db1": ("db-db1", "relaunch_id"),  # group_vars/ file, templated as a play sees it
            "db2": ("hv-db2", "relaunch_id"),  # host_vars/ file beats group_vars/
            "db3": ("db-db3", "relaunch_id"),
            "plain": (None, None),
        },
    ),
    (
        "first of a configured list",
        {"RELAUNCH_IDENTITY_VARS": "serial_number,relaunch_id"},
        {
            "web1": ("inv-web1", "relaunch_id"),
            "web2": ("inline-canary", "relaunch_id"),
            "web3": ("SN-3", "serial_number"),
            "db1": ("db-db1", "relaunch_id"),
            "db2": ("hv-db2", "relaunch_id"),
            "db3": ("SN-db3", "serial_number"),
            "plain": (None, None),
        },
    ),
    (
        "no identity variable",
        {"RELAUNCH_IDENTITY_VARS": "asset_tag"},
        dict.fromkeys(["web1", "web2", "web3", "db1", "db2", "db3", "plain"], (None, None)),
    ),
]


@pytest.mark.parametrize(("env", "expected"), [case[1:] for case in IDENTITIES], ids=[case[0] for case in IDENTITIES])
def test_identity_resolved_like_a_play(tmp_path: Path, env: dict, expected: dict) -> None:
    write_files(tmp_path, IDENTITY_FILES)
    run = ansible_playbook(tmp_path, "-i", "inv/hosts.yml", env=env)
    assert run.rc == 0, run.stdout + run.stderr
    assert {host["name"]: (host["identity"], host["identity_var"]) for host in run.manifest()["hosts"]} == expected


def test_identity_option_from_ansible_cfg(tmp_path: Path) -> None:
    write_files(tmp_path, {**IDENTITY_FILES, "ansible.cfg": "[relaunch_status]\nidentity_vars = serial_number\n"})
    run = ansible_playbook(tmp_path, "-i", "inv/hosts.yml", env={"ANSIBLE_CONFIG": str(tmp_path / "ansible.cfg")})
    identities = {host["name"]: host["identity"] for host in run.manifest()["hosts"]}
    assert identities == {
        "web1": None,
        "web2": None,
        "web3": "SN-3",
        "db1": None,
        "db2": None,
        "db3": "SN-db3",
        "plain": None,
    }


PROVISION = """
    - name: Provision
      hosts: web1,web2
      gather_facts: false
      tasks:
        - name: Create a host from each provisioner, and regroup an inventory host
          ansible.builtin.add_host:
            name: "{{ item }}"
            groups: fresh
            ansible_connection: local
            relaunch_id: "{{ 'id-' + item }}"
          loop: [new1, db1]
        - name: Create new2 from web2 only
          ansible.builtin.add_host:
            name: new2
            groups: fresh
            ansible_connection: local
    - name: Provision again from another host
      hosts: web3
      gather_facts: false
      tasks:
        - name: Re-create new1
          ansible.builtin.add_host:
            name: new1
            groups: fresh
    - name: Use them
      hosts: fresh
      gather_facts: false
      tasks:
        - name: Fail new1
          ansible.builtin.fail:
            msg: provisioned failure
          when: inventory_hostname == 'new1'
    """


def test_provisioned_hosts(workdir: Path) -> None:
    """Only hosts add_host created are provisioned; an inventory host it regroups is not."""
    write_files(workdir, {"provision.yml": PROVISION})
    run = site(workdir, playbook="provision.yml")
    hosts = {host["name"]: host for host in run.manifest()["hosts"]}
    provisioned = {
        name: (host["provisioned_by"], host["identity"]) for name, host in hosts.items() if host["provisioned"]
    }
    # add_host bypasses the host loop: the first host of the batch (web1) runs it, for every item.
    assert provisioned == {"new1": (["web1", "web3"], "id-new1"), "new2": (["web1"], None)}
    assert all(host["provisioned_by"] == [] for name, host in hosts.items() if name not in provisioned)
    assert hosts["db1"]["statuses"] == ["all", "skipped"]
    assert run.with_status("failed") == run.retry() == {"new1"}


LIMITED_PROVISION = {
    "limited.ini": """
        controller ansible_connection=local
        bystander ansible_connection=local
        """,
    "limited.yml": """
        - name: Provision
          hosts: controller
          gather_facts: false
          tasks:
            - name: Create the machines
              ansible.builtin.add_host:
                name: "{{ item }}"
                groups: vms
                ansible_connection: local
              loop: [vm1, vm2]
        - name: Configure
          hosts: vms:bystander
          gather_facts: false
          tasks:
            - name: Work
              ansible.builtin.debug:
                msg: configured
        """,
}


@pytest.mark.parametrize(
    ("limit", "recorded"),
    [((), {"controller", "bystander", "vm1", "vm2"}), (("--limit", "controller,vm2"), {"controller", "vm2"})],
)
def test_hosts_outside_the_limit_are_not_recorded_created_or_not(workdir: Path, limit: tuple, recorded: set) -> None:
    """An inventory host and a host add_host created follow one rule: recorded when a play targeted it, after
    --limit."""
    write_files(workdir, LIMITED_PROVISION)
    run = ansible_playbook(workdir, "-i", "limited.ini", *limit, playbook="limited.yml")
    assert run.rc == 0, run.stdout + run.stderr
    manifest = run.manifest()
    hosts = {host["name"]: host for host in manifest["hosts"]}
    assert set(hosts) == recorded
    assert manifest["retry_counts"]["all"] == len(recorded)
    assert {name for name, host in hosts.items() if host["provisioned"]} == recorded & {"vm1", "vm2"}
    # ansible-core's own recap: every recorded host ran, and no other.
    assert set(parse_recap(run.stdout)) == recorded


def parse_recap(stdout: str) -> set[str]:
    recap = stdout.split("PLAY RECAP", 1)[1].split("\n\n", 1)[0]
    return {line.split()[0] for line in recap.splitlines()[1:] if line.strip()}


# --- what is written, and when -------------------------------------------------------------------


def test_no_log_failure_has_no_message(workdir: Path) -> None:
    write_files(
        workdir,
        {
            "secret.yml": """
                - name: Secret
                  hosts: web1
                  gather_facts: false
                  tasks:
                    - name: Use a secret
                      ansible.builtin.fail:
                        msg: "the token is tok-6a2b9c"
                      no_log: true
                """
        },
    )
    run = site(workdir, playbook="secret.yml")
    assert run.rc == 2
    failure = run.manifest()["hosts"][0]["first_failure"]
    assert failure["task"] == "Use a secret"
    assert failure["message"] is None
    for path in run.run_dir.iterdir():
        assert "tok-6a2b9c" not in path.read_text(), path
    # ansible-core itself quotes the task's source in its error; the summary says nothing of the message.
    assert "tok-6a2b9c" not in summary_of(run.stdout)


@pytest.mark.parametrize("option", ["--syntax-check", "--list-hosts", "--list-tasks", "--list-tags"])
def test_no_manifest_for_syntax_check_and_listings(workdir: Path, option: str) -> None:
    run = site(workdir, option)
    assert run.rc == 0, run.stderr
    assert not (workdir / ".relaunch").exists()
    assert "RELAUNCH SUMMARY" not in run.stdout


@pytest.mark.newest_only
def test_history_accumulates_and_keep_prunes(workdir: Path) -> None:
    def run_files(directory: Path) -> list[str]:
        return sorted(path.stem for path in directory.glob("*.json") if RUN_ID.match(path.stem))

    run_ids = [site(workdir).manifest()["run_id"] for _run in range(3)]
    directory = workdir / ".relaunch" / "site"
    assert len(set(run_ids)) == 3
    assert run_ids == sorted(run_ids), "run ids sort by start time"
    assert run_files(directory) == run_ids
    assert json.loads((directory / "latest.json").read_text())["run_id"] == run_ids[-1]

    newest = site(workdir, env={"RELAUNCH_KEEP": "2"}).manifest()["run_id"]
    assert run_files(directory) == [run_ids[-1], newest]
    assert json.loads((directory / "latest.json").read_text())["run_id"] == newest
    assert not list(directory.glob("*.journal")), "journals are removed once the manifest is written"


def test_manifest_dir_option(workdir: Path) -> None:
    store = workdir / "store" / "nested"
    run = site(workdir, env={"RELAUNCH_MANIFEST_DIR": str(store)})
    assert not (workdir / ".relaunch").exists()
    manifest = json.loads((store / "site" / "latest.json").read_text())
    assert {host["name"] for host in manifest["hosts"] if "failed" in host["statuses"]} == run.retry()


def test_limit_files_select_each_status_and_nothing_for_an_empty_one(workdir: Path) -> None:
    run = site(workdir)
    counts = run.manifest()["retry_counts"]
    non_empty = {status for status, count in counts.items() if count and status != "all"}
    assert non_empty == {"failed", "unreachable", "changed", "ok", "skipped", "pending"}
    stems = {path.stem for path in run.run_dir.glob("*.limit") if "." not in path.stem}
    groups = {stem for stem in stems if stem.startswith("failure-")}
    assert stems - groups == set(STATUSES) - {"all"}
    for status in non_empty:
        assert set(run.limit_file(status).read_text().split()) == run.with_status(status)
    # One file a failure group: together, the failed hosts.
    assert groups == {f"failure-{group['id']}" for group in run.manifest()["failure_groups"]} and len(groups) > 1
    assert set().union(*(run.limit_file(stem).read_text().split() for stem in groups)) == run.with_status("failed")

    # All good now: the files of statuses that have no host any more select none, and say so. The unreachable host
    # is gone from the inventory, so the clean run leaves no pending host behind and starts a new rollout.
    inventory = INVENTORY[: INVENTORY.index("        broken:")]
    write_files(workdir, {"site.yml": CLEAN, "inventory.yml": inventory})
    again = site(workdir)
    assert again.rc == 0
    assert set(again.limit_file("ok").read_text().split()) == ALL - {"dead"}
    relaunch = site(workdir, "--limit", "@.relaunch/site/failed.limit")
    assert relaunch.rc != 0
    output = " ".join((relaunch.stdout + relaunch.stderr).split())
    assert (
        "0 failed hosts in run" in output
        and "no hosts to target" in output
        and "Unable to find limit file" not in output
    )
    assert "PLAY [" not in relaunch.stdout  # never widened to every host


def test_files_are_private(workdir: Path) -> None:
    site(workdir)
    root = workdir / ".relaunch"
    paths = [root, *root.rglob("*")]
    assert len(paths) > 5
    for path in paths:
        mode = stat.S_IMODE(path.lstat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), f"{path}: {oct(mode)}"


# --- the summary -------------------------------------------------------------------------------


def summary_of(stdout: str) -> str:
    assert "RELAUNCH SUMMARY" in stdout, stdout
    return stdout[stdout.index("RELAUNCH SUMMARY") :]


# The summary's relaunch command follows this line when the rollout has pending hosts.
PENDING_COMMAND = "  to finish the rollout, relaunch on its pending hosts (failed or not run yet):\n"


def command_of(summary: str) -> str:
    assert PENDING_COMMAND in summary, summary
    return summary.split(PENDING_COMMAND, 1)[1].splitlines()[0].strip()


def test_summary(workdir: Path) -> None:
    run = site(workdir)
    summary = summary_of(run.stdout)
    run_id = run.manifest()["run_id"]
    assert (
        summary.splitlines()[0]
        == f"RELAUNCH SUMMARY: .relaunch/site/{run_id}.json, merged into .relaunch/site/latest.json"
    )
    assert summary.splitlines()[1:3] == [
        "  all=6  failed=3 (1 unreachable)  not_run=0",
        "  hosts with at least one task: changed=3  ok=3  skipped=5  rescued=0  ignored=0",
    ]
    assert "  2 hosts failed at TASK [Check disk]: disk full\n      db1, web2\n" in summary
    assert re.search(r"  1 host unreachable at TASK \[Reach\]: .*\n      dead\n", summary)
    words = shlex.split(command_of(summary))
    assert words[0] == "ansible-playbook"
    assert words[1] == "-i" and (workdir / words[2]).resolve() == workdir / "inventory.yml"
    assert words[3:5] == ["site.yml", "--limit"]
    assert re.fullmatch(r"@\.relaunch/site/" + RUN_LIMIT_FILE, words[5])
    assert words[5][1:] == os.path.relpath(run.run_dir / (run_id + ".pending.limit"), workdir)
    # Right after the first run of a rollout, its pending hosts are its failed hosts.
    assert set((run.run_dir / (run_id + ".pending.limit")).read_text().split()) == run.with_status("pending") == FAILED


def test_relaunch_command_targets_exactly_the_failed_hosts(workdir: Path) -> None:
    first = site(workdir, "--limit", "web,db,dead", "--tags", "all")
    command = command_of(summary_of(first.stdout))
    words = shlex.split(command)
    assert words[0] == "ansible-playbook"
    relaunch = subprocess.run(
        [str(ANSIBLE_BIN / "ansible-playbook"), *words[1:]],
        cwd=workdir,
        env=ansible_env(workdir),
        capture_output=True,
        text=True,
        check=False,
    )
    # ansible-core's own recap of the relaunch names exactly the hosts it ran on.
    recap = relaunch.stdout.split("PLAY RECAP", 1)[1].split("\n\n", 1)[0]
    assert {line.split()[0] for line in recap.splitlines()[1:] if line.strip()} == FAILED


def test_relaunch_command_keeps_password_files(workdir: Path) -> None:
    """Password files are paths, not secrets: the printed command passes them on and runs without a prompt."""
    secrets_dir = workdir / "secrets"
    write_files(
        workdir,
        {
            "secrets/vault.txt": "vault-file-secret-7\n",
            "secrets/conn.txt": "conn-secret-7\n",
            "secrets/become.txt": "become-secret-7\n",
        },
    )
    args = (
        *("--vault-password-file", str(secrets_dir / "vault.txt")),
        *("--connection-password-file", "secrets/conn.txt"),
        *("--become-password-file", "secrets/become.txt"),
    )
    first = site(workdir, *args)
    command = command_of(summary_of(first.stdout))
    assert "secret-7" not in command
    words = shlex.split(command)
    for option, name in (
        ("--vault-password-file", "vault.txt"),
        ("--connection-password-file", "conn.txt"),
        ("--become-password-file", "become.txt"),
    ):
        assert (workdir / words[words.index(option) + 1]).resolve() == secrets_dir / name, option
    relaunch = subprocess.run(
        [str(ANSIBLE_BIN / "ansible-playbook"), *words[1:]],
        cwd=workdir,
        env=ansible_env(workdir),
        capture_output=True,
        text=True,
        check=False,
    )
    recap = relaunch.stdout.split("PLAY RECAP", 1)[1].split("\n\n", 1)[0]
    assert {line.split()[0] for line in recap.splitlines()[1:] if line.strip()} == FAILED


def test_no_summary_when_turned_off(workdir: Path) -> None:
    for value in ("false", "0"):
        run = site(workdir, env={"RELAUNCH_SUMMARY": value})
        assert "RELAUNCH SUMMARY" not in run.stdout
        assert run.with_status("failed") == FAILED, "the manifest is still written"


JSON_STDOUT = '''
    from ansible.plugins.callback import CallbackBase

    DOCUMENTATION = """
    name: json
    type: stdout
    short_description: test stand-in for a JSON stdout callback
    description: [Prints one JSON document of per-host stats.]
    """


    class CallbackModule(CallbackBase):
        CALLBACK_VERSION = 2.0
        CALLBACK_TYPE = "stdout"
        CALLBACK_NAME = "json"

        def v2_playbook_on_stats(self, stats):
            import json

            stats_of = {host: stats.summarize(host) for host in sorted(stats.processed)}
            self._display.display(json.dumps({"stats": stats_of}, sort_keys=True))
    '''


@pytest.mark.parametrize("name", ["json", "ansible.posix.json"])
def test_no_summary_with_a_json_stdout_callback(workdir: Path, name: str) -> None:
    """stdout stays one JSON document. ansible.posix is not installable offline: a stand-in of the same name."""
    collections = workdir / "collections"
    write_files(
        workdir,
        {
            "callback_plugins/json.py": JSON_STDOUT,
            "collections/ansible_collections/ansible/posix/plugins/callback/json.py": JSON_STDOUT,
        },
    )
    env = {
        "ANSIBLE_STDOUT_CALLBACK": name,
        "ANSIBLE_CALLBACK_PLUGINS": str(workdir / "callback_plugins"),
        "ANSIBLE_COLLECTIONS_PATH": os.pathsep.join(
            [ansible_env(workdir)["ANSIBLE_COLLECTIONS_PATH"], str(collections)]
        ),
        "ANSIBLE_RETRY_FILES_ENABLED": "0",  # ansible-core's own "to retry, use:" line is not JSON either
    }
    run = site(workdir, env=env)
    document = json.loads(run.stdout)
    assert set(document["stats"]) == ALL
    assert "RELAUNCH" not in run.stdout
    assert {host["name"] for host in run.manifest()["hosts"] if "failed" in host["statuses"]} == FAILED


# --- a manifest directory that cannot be written ------------------------------------------------


@pytest.mark.parametrize("where", ["a regular file", "under a regular file"])
def test_unwritable_manifest_dir_warns_once_and_changes_nothing(workdir: Path, where: str) -> None:
    blocker = workdir / "blocker"
    blocker.write_text("not a directory\n")
    target = blocker if where == "a regular file" else blocker / "relaunch"
    # Two playbooks on one command line: still one warning; the playbooks' own outcome is untouched.
    baseline = ansible_playbook(
        workdir,
        "-i",
        "inventory.yml",
        "clean.yml",
        playbook="site.yml",
        env={"ANSIBLE_CALLBACKS_ENABLED": "ansible.builtin.minimal"},
    )
    assert (workdir / "site.retry").read_text().split() == sorted(FAILED)
    (workdir / "site.retry").unlink()
    run = ansible_playbook(
        workdir, "-i", "inventory.yml", "clean.yml", playbook="site.yml", env={"RELAUNCH_MANIFEST_DIR": str(target)}
    )
    assert run.rc == baseline.rc == 4
    assert len(warnings_of(run)) == 1, run.stdout + run.stderr
    assert "RELAUNCH_MANIFEST_DIR" in " ".join(run.stderr.split())
    assert "Traceback" not in run.stdout + run.stderr
    # Said again at the end of each playbook, in one line where the summary would be.
    not_written = [line for line in run.stdout.splitlines() if line.startswith("RELAUNCH SUMMARY")]
    assert len(not_written) == 2 and all(
        line.startswith("RELAUNCH SUMMARY: no manifest written: ") and str(blocker) in line for line in not_written
    ), run.stdout
    assert run.stdout.count("PLAY RECAP") == baseline.stdout.count("PLAY RECAP") == 2
    assert blocker.read_text() == "not a directory\n"
    assert not (workdir / ".relaunch").exists()
    assert run.retry() == FAILED


@pytest.mark.parametrize("where", ["environment", "ansible.cfg"])
def test_require_manifest_stops_the_run_before_anything_runs(workdir: Path, where: str) -> None:
    blocker = workdir / "blocker"
    blocker.write_text("not a directory\n")
    env = {"RELAUNCH_MANIFEST_DIR": str(blocker)}
    if where == "environment":
        env["RELAUNCH_REQUIRE_MANIFEST"] = "true"
    else:
        (workdir / "ansible.cfg").write_text("[relaunch_status]\nrequire_manifest = true\n")
        env["ANSIBLE_CONFIG"] = str(workdir / "ansible.cfg")
    run = site(workdir, env=env)
    assert run.rc != 0 and "TASK [" not in run.stdout, run.stdout
    output = run.stdout + run.stderr
    assert "Traceback" not in output
    errors = [line for line in output.splitlines() if "relaunch.status.manifest" in line]
    assert len(errors) == 1, output
    assert "require_manifest" in errors[0] and str(blocker) in errors[0] and "RELAUNCH_MANIFEST_DIR" in errors[0]
    assert blocker.read_text() == "not a directory\n"


def test_require_manifest_lets_a_writable_run_go_on(workdir: Path) -> None:
    run = site(workdir, env={"RELAUNCH_REQUIRE_MANIFEST": "true"})
    assert run.rc == 4 and run.manifest()["complete"] is True
