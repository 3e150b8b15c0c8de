# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Flaky and chronic hosts from real runs: a playbook run five times (and once with --check), where one host
fails on runs 1, 3 and 5, one fails every time and one never; then the inventory groups relaunch_flaky and
relaunch_chronic, a --limit of them, and relaunch_info's history."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from ansible_collections.relaunch.status.plugins.modules import relaunch_info
from tests.fixtures import local_inventory, play
from tests.runner import ANSIBLE_BIN, Run, ansible_env, ansible_playbook, write_files

FAIL_AS_PLANNED = """\
- name: Fail as planned
  ansible.builtin.fail:
    msg: failing on run {{ run_number }}
  when: inventory_hostname == 'chronic' or (inventory_hostname == 'flaky' and run_number | int is odd)
- name: Leave a marker
  ansible.builtin.raw: touch {{ (marker_dir ~ '/' ~ inventory_hostname) | quote }}
"""

INFO = """\
- name: Report the history
  hosts: all
  gather_facts: false
  tasks:
    - name: Read it
      relaunch.status.relaunch_info:
        manifest: .relaunch/site
        history: "{{ history | default(true) }}"
        allow_empty: true
      register: info
      run_once: true
    - name: Save the result on the controller
      ansible.builtin.copy:
        content: "{{ info | to_json }}"
        dest: "{{ marker_dir }}/info.json"
        mode: "0600"
      run_once: true
      delegate_to: localhost
"""

INVENTORY = local_inventory(
    "flaky: {relaunch_id: id-flaky}", "chronic: {relaunch_id: id-chronic}", "stable: {relaunch_id: id-stable}"
)
RENAMED = INVENTORY.replace("flaky: {relaunch_id: id-flaky}", "flaky-new: {relaunch_id: id-flaky}")


@pytest.fixture(scope="module")
def history_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("history")
    write_files(
        path,
        {
            "site.yml": play("Site", "all", FAIL_AS_PLANNED),
            "info.yml": INFO,
            "inventory.yml": INVENTORY,
            "renamed.yml": RENAMED,
            "groups.relaunch.yml": "plugin: relaunch.status.groups\nmanifest: .relaunch/site\n",
            "strict.relaunch.yml": "plugin: relaunch.status.groups\nmanifest: .relaunch/site\nflaky_flips: 5\n",
            "markers/.keep": "",
        },
    )
    for number in range(1, 6):
        run = ansible_playbook(path, "-i", "inventory.yml", "-e", f"run_number={number}", "-e", f"marker_dir={path}")
        assert run.rc == 2, run.stdout + run.stderr  # a host failed
    # A dry run in which every host passes: left out of the history.
    dry = ansible_playbook(path, "-i", "inventory.yml", "--check", "-e", "run_number=2", "-e", f"marker_dir={path}")
    assert dry.rc == 2 and dry.run_manifest()["check_mode"], dry.stdout + dry.stderr
    return path


@pytest.fixture
def workdir(history_template: Path, tmp_path: Path) -> Path:
    path = tmp_path / "project"
    shutil.copytree(history_template, path, symlinks=True)
    return path


def run_ids(workdir: Path) -> list[str]:
    return sorted(path.stem for path in (workdir / ".relaunch" / "site").glob("2*.json"))


def inventory_groups(workdir: Path, *sources: str) -> dict:
    args = [arg for source in sources for arg in ("-i", source)]
    completed = subprocess.run(
        [str(ANSIBLE_BIN / "ansible-inventory"), *args, "--list"],
        cwd=workdir,
        env=ansible_env(workdir),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0 and "Traceback" not in completed.stderr, completed.stderr
    return json.loads(completed.stdout)


def hosts_of(groups: dict, group: str) -> list[str]:
    return sorted(groups.get(group, {}).get("hosts", []))


def test_groups_hold_the_flaky_and_the_chronic_hosts(workdir: Path) -> None:
    groups = inventory_groups(workdir, "inventory.yml", "groups.relaunch.yml")
    assert hosts_of(groups, "relaunch_flaky") == ["flaky"]
    assert hosts_of(groups, "relaunch_chronic") == ["chronic"]


def test_groups_follow_a_renamed_host_by_its_identity(workdir: Path) -> None:
    groups = inventory_groups(workdir, "renamed.yml", "groups.relaunch.yml")
    assert hosts_of(groups, "relaunch_flaky") == ["flaky-new"]
    assert hosts_of(groups, "relaunch_chronic") == ["chronic"]


def relaunch(workdir: Path, *args: str, config: str = "groups.relaunch.yml") -> Run:
    markers = workdir / "markers"
    for old in markers.iterdir():
        old.unlink()
    return ansible_playbook(
        workdir, "-i", "inventory.yml", "-i", config, "-e", "run_number=2", "-e", f"marker_dir={markers}", *args
    )


def test_a_limit_of_a_group_selects_exactly_its_hosts(workdir: Path) -> None:
    listed = relaunch(workdir, "--limit", "relaunch_flaky", "--list-hosts")
    assert listed.rc == 0, listed.stdout + listed.stderr
    assert "hosts (1):" in listed.stdout and "flaky" in listed.stdout.split("hosts (1):")[1], listed.stdout
    run = relaunch(workdir, "--limit", "relaunch_chronic")
    assert sorted(path.name for path in (workdir / "markers").iterdir()) == [], run.stdout  # chronic failed first
    assert run.rc == 2 and "chronic" in run.stdout and "flaky" not in run.stdout, run.stdout


def test_an_empty_group_selects_nothing(workdir: Path) -> None:
    groups = inventory_groups(workdir, "inventory.yml", "strict.relaunch.yml")
    assert "relaunch_flaky" in groups["all"]["children"] and hosts_of(groups, "relaunch_flaky") == []
    run = relaunch(workdir, "--limit", "relaunch_flaky", config="strict.relaunch.yml")
    output = run.stdout + run.stderr
    assert run.rc != 0 and "Traceback" not in output, output
    assert not list((workdir / "markers").iterdir()), output  # never widened to every host


def test_relaunch_info_returns_each_host_s_history(workdir: Path) -> None:
    ids = run_ids(workdir)
    run = ansible_playbook(workdir, "-i", "inventory.yml", "-e", f"marker_dir={workdir}", playbook="info.yml")
    assert run.rc == 0, run.stdout + run.stderr
    history = json.loads((workdir / "info.json").read_text())["history"]
    assert sorted(history) == ["chronic", "flaky", "stable"]
    # The check-mode run is left out: five runs.
    assert history["flaky"]["outcomes"] == ["failed", "ok", "failed", "ok", "failed"]
    assert (history["flaky"]["flips"], history["flaky"]["flaky"], history["flaky"]["chronic"]) == (4, True, False)
    assert history["flaky"]["last_success"]["run_id"] == ids[3]
    assert history["chronic"]["outcomes"] == ["failed"] * 5
    assert (history["chronic"]["failures_in_a_row"], history["chronic"]["chronic"]) == (5, True)
    assert history["chronic"]["last_success"] is None and not history["chronic"]["flaky"]
    assert history["stable"]["last_success"]["run_id"] == ids[4]
    assert not history["stable"]["flaky"] and not history["stable"]["chronic"]


# Keys ansible-core adds to every task result, which a module's RETURN does not list.
COMMON_RESULT_KEYS = {"changed", "failed", "skipped", "msg", "warnings", "deprecations", "invocation"}


@pytest.mark.parametrize("asked", [True, False])
def test_relaunch_info_returns_the_keys_its_documentation_lists(workdir: Path, asked: bool) -> None:
    """history, documented as returned with history=true, is returned then and only then."""
    run = ansible_playbook(
        workdir, "-i", "inventory.yml", "-e", f"marker_dir={workdir}", "-e", f"history={asked}", playbook="info.yml"
    )
    assert run.rc == 0, run.stdout + run.stderr
    info = json.loads((workdir / "info.json").read_text())
    documented = yaml.safe_load(relaunch_info.RETURN)
    expected = {key for key, spec in documented.items() if asked or "history=true" not in spec["returned"]}
    assert "history" in documented and ("history" in expected) is asked
    assert {key for key in info if key not in COMMON_RESULT_KEYS and not key.startswith("_ansible")} == expected


def test_relaunch_info_refuses_a_bad_threshold_in_one_line(workdir: Path) -> None:
    write_files(workdir, {"bad.yml": INFO.replace("allow_empty: true", "allow_empty: true\n        flaky_runs: 0")})
    run = ansible_playbook(workdir, "-i", "inventory.yml", "-e", f"marker_dir={workdir}", playbook="bad.yml")
    output = run.stdout + run.stderr
    assert run.rc == 2 and "option flaky_runs: 0 is not a whole number of at least 1" in output, output
    assert "Traceback" not in output
