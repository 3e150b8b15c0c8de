# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ctrl-C and SIGTERM mid-run: an interrupted manifest, ansible-playbook's own exit code, and a relaunch that finishes
the job."""

from __future__ import annotations

import json
import shlex
import signal

import pytest

from ansible_collections.relaunch.status.plugins.plugin_utils._core import store
from ansible_collections.relaunch.status.plugins.plugin_utils._core.selection import (
    CurrentHost,
    limit_file_text,
    select,
)
from tests.reliability.conftest import Live, outcomes_printed, wait_for
from tests.runner import write_files

HOSTS = ["a1", "a2", "a3", "c1", "c2", "c3", "c4", "c5", "c6"]

FILES = {
    "inventory.ini": """
        [a]
        a[1:3] ansible_connection=local
        [c]
        c[1:6] ansible_connection=local
        """,
    # BREAK fails a2 and SLOW holds c3 in the second serial batch: only the first run sets them.
    "site.yml": """
        - name: first
          hosts: a
          gather_facts: false
          tasks:
            - name: breaks
              ansible.builtin.fail:
                msg: broken on purpose
              when: inventory_hostname == 'a2' and lookup('env', 'BREAK') == '1'
        - name: second
          hosts: c
          gather_facts: false
          serial: 2
          tasks:
            - name: quick
              ansible.builtin.command: "true"
            - name: slow
              ansible.builtin.shell: touch started.flag && exec sleep 120
              when: inventory_hostname == 'c3' and lookup('env', 'SLOW') == '1'
        """,
}

# How the interrupted run left each host: the first play ended, the first serial batch of
# the second ended, the second batch was cut short (c4 skipped "slow", unless it was in flight).
EXPECTED = {
    "a1": ["all", "skipped"],
    "a2": ["all", "failed", "pending"],
    "a3": ["all", "skipped"],
    "c1": ["all", "changed", "ok", "skipped"],
    "c2": ["all", "changed", "ok", "skipped"],
    "c3": ["all", "changed", "not_run", "ok", "pending"],
    "c5": ["all", "not_run", "pending"],
    "c6": ["all", "not_run", "pending"],
}


def interrupt(workdir, signum: int, group: bool, callback: bool, name: str) -> Live:
    flag = workdir / "started.flag"
    flag.unlink(missing_ok=True)
    live = Live(workdir, "-i", "inventory.ini", env={"BREAK": "1", "SLOW": "1"}, callback=callback, name=name)
    wait_for(flag.exists, live=live)
    assert live.signal(signum, group=group)
    live.wait()
    return live


@pytest.mark.parametrize(
    ("signum", "group", "rc"),
    [(signal.SIGINT, True, 99), (signal.SIGTERM, False, -signal.SIGTERM)],
    ids=["ctrl-c", "sigterm"],
)
def test_interrupted_run_then_relaunch_on_failed_and_not_run(tmp_path, signum, group, rc):
    write_files(tmp_path, FILES)
    plain = interrupt(tmp_path, signum, group, callback=False, name="plain")
    assert not (tmp_path / ".relaunch").exists()
    live = interrupt(tmp_path, signum, group, callback=True, name="recorded")
    # ansible-playbook's own exit code, the same with and without the callback.
    assert plain.process.returncode == rc
    assert live.process.returncode == rc, live.stderr
    assert "Traceback" not in live.stderr and "relaunch.status" not in live.stderr, live.stderr

    run_dir = tmp_path / ".relaunch" / "site"
    manifest = interrupted_manifest(run_dir)
    relaunch_on_failed_and_not_run(tmp_path, run_dir, manifest)


def interrupted_manifest(run_dir) -> dict:
    """The manifest the interrupted run wrote, checked host by host."""
    # Written by the run itself as it stopped, not recovered later from its journal.
    assert not list(run_dir.glob("*" + store.layout.JOURNAL))
    manifest = store.reading.load(str(run_dir / "latest.json"))
    assert manifest["complete"] is False
    hosts = {host["name"]: host["statuses"] for host in manifest["hosts"]}
    assert sorted(hosts) == HOSTS
    for name, statuses in EXPECTED.items():
        assert hosts[name] == statuses, name
    assert (
        {"all", "changed", "not_run", "ok", "pending"}
        <= set(hosts["c4"])
        <= {"all", "changed", "not_run", "ok", "pending", "skipped"}
    )
    return manifest


def relaunch_on_failed_and_not_run(tmp_path, run_dir, manifest: dict) -> None:
    """The relaunch on failed plus not_run, built by the selection engine every plugin uses, finishes the job."""
    selection = select(
        [(str(run_dir / "latest.json"), manifest)],
        ["failed", "not_run"],
        [CurrentHost(name) for name in HOSTS],
        ["a", "c"],
    )
    assert selection.hosts == ["a2", "c3", "c4", "c5", "c6"]
    (tmp_path / "relaunch.limit").write_text(limit_file_text(selection.patterns))
    relaunch = Live(tmp_path, "-i", "inventory.ini", "--limit", "@relaunch.limit", name="relaunch")
    assert relaunch.wait() == 0, relaunch.stdout + relaunch.stderr
    # Every host that had not finished ran; none that had finished OK ran again.
    assert set(outcomes_printed(relaunch.stdout)) == {"a2", "c3", "c4", "c5", "c6"}
    own = newest_run_manifest(run_dir)
    assert own["complete"] is True
    assert own["invocation"]["limit_given"] == "@relaunch.limit"
    assert own["invocation"]["limit"] == "a2,c3,c4,c5,c6"  # what the file selected
    assert {host["name"] for host in own["hosts"]} == {"a2", "c3", "c4", "c5", "c6"}
    # The rollout holds every host: those of the relaunch, and those the interrupted run had finished.
    finished = json.loads((run_dir / "latest.json").read_text())
    assert finished["complete"] is True
    assert sorted(host["name"] for host in finished["hosts"]) == HOSTS
    assert finished["retry_counts"]["pending"] == 0
    for host in finished["hosts"]:
        assert not {"failed", "not_run", "pending"} & set(host["statuses"]), host


def newest_run_manifest(run_dir) -> dict:
    """The manifest of the newest run, ``<run id>.json`` (run ids sort by start time)."""
    runs = sorted(path for path in run_dir.glob("*.json") if store.layout.RUN_ID.match(path.stem))
    return json.loads(runs[-1].read_text())


# Play 1 runs on web in batches of 2 (web1 fails in the first); play 2 on db never starts when Ctrl-C stops play 1.
LATER_PLAY = {
    "inventory.ini": """
        [web]
        web[1:4] ansible_connection=local
        [db]
        db[1:3] ansible_connection=local
        """,
    "site.yml": """
        - name: web
          hosts: web
          gather_facts: false
          serial: 2
          tasks:
            - name: breaks
              ansible.builtin.fail:
                msg: broken on purpose
              when: inventory_hostname == 'web1' and lookup('env', 'BREAK') == '1'
            - name: slow
              ansible.builtin.shell: touch started.flag && exec sleep 120
              when: inventory_hostname == 'web3' and lookup('env', 'SLOW') == '1'
        - name: db
          hosts: db
          gather_facts: false
          tasks:
            - name: quick
              ansible.builtin.command: "true"
        """,
}


def test_ctrl_c_before_a_later_play_then_finish_the_job(tmp_path):
    """The hosts of a play that never started are not_run; the summary's command finishes the job."""
    write_files(tmp_path, LATER_PLAY)
    live = Live(tmp_path, "-i", "inventory.ini", env={"BREAK": "1", "SLOW": "1"}, name="interrupted")
    wait_for((tmp_path / "started.flag").exists, live=live)
    assert live.signal(signal.SIGINT, group=True)
    assert live.wait() == 99
    assert "Traceback" not in live.stderr and "relaunch.status" not in live.stderr, live.stderr

    run_dir = tmp_path / ".relaunch" / "site"
    manifest = store.reading.load(str(run_dir / "latest.json"))
    assert manifest["complete"] is False
    not_run = {host["name"] for host in manifest["hosts"] if "not_run" in host["statuses"]}
    assert not_run == {"web3", "web4", "db1", "db2", "db3"}
    assert [host["name"] for host in manifest["hosts"] if "failed" in host["statuses"]] == ["web1"]
    assert manifest["retry_counts"]["all"] == 7

    # The summary of the interrupted run says how to finish the job, and its command does.
    summary = live.stdout[live.stdout.index("RELAUNCH SUMMARY") :]
    own = f".relaunch/site/{manifest['run_id']}.json"
    assert summary.startswith(f"RELAUNCH SUMMARY: {own}, merged into .relaunch/site/latest.json (interrupted)")
    finish = "to finish the rollout, relaunch on its pending hosts (failed or not run yet):\n"
    command = summary.split(finish, 1)[1].splitlines()[0]
    assert f"--limit @.relaunch/site/{manifest['run_id']}.pending.limit" in command, command
    words = shlex.split(command)
    assert words[0] == "ansible-playbook"
    # ansible-playbook <options> site.yml --limit <files>: Live puts the playbook last.
    assert words[-3:-1] == ["site.yml", "--limit"]
    relaunch = Live(tmp_path, *words[1:-3], *words[-2:], name="finish")
    assert relaunch.wait() == 0, relaunch.stdout + relaunch.stderr
    assert set(outcomes_printed(relaunch.stdout)) == not_run | {"web1"}
    assert {host["name"] for host in newest_run_manifest(run_dir)["hosts"]} == not_run | {"web1"}
    # The rollout holds all 7 hosts: the relaunch's, and web2 that the interrupted run finished.
    finished = json.loads((run_dir / "latest.json").read_text())
    assert finished["complete"] is True
    assert {host["name"] for host in finished["hosts"]} == not_run | {"web1", "web2"}
    counts = finished["retry_counts"]
    assert counts["all"] == 7 and counts["failed"] == counts["not_run"] == counts["pending"] == 0
