# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The life of a run directory over many runs, end to end: never widen, never lose.

A relaunch that is refused or that stops before any host ran never replaces what the last useful run
recorded; each run's summary names a limit file of its own hosts; a shared manifest directory keeps the
playbooks of one file name apart; readers never write. Every task touches a marker file named after the
host (with ``raw``: no Python started per host), so which hosts did the work is read from the disk.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.runner import ANSIBLE_BIN, RUN_LIMIT_FILE, Run, ansible_env, ansible_playbook, write_files

# The run's own limit file of the rollout's pending hosts, which its summary names.
RUN_PENDING_FILE = RUN_LIMIT_FILE.replace("failed", "pending")

WEB = [f"web{number:02d}" for number in range(1, 11)]
INVENTORY = "web:\n  vars:\n    ansible_connection: local\n  hosts:\n" + "".join(f"    {name}:\n" for name in WEB)

WORK = """
    - name: Leave a marker for this host
      ansible.builtin.raw: touch {{ (marker_dir ~ '/' ~ inventory_hostname) | quote }}
    - name: Fail where asked
      ansible.builtin.fail:
        msg: asked to fail
      when: inventory_hostname in (bad | default('')).split(',')
"""

ROLE_PLAY = (
    """
- name: Deploy
  hosts: web
  gather_facts: false
  roles:
    - role: relaunch.status.select
  tasks:"""
    + WORK
)


class Project:
    """A directory with an inventory and playbooks; each run gets its own marker directory."""

    def __init__(self, path: Path, playbooks: dict[str, str]) -> None:
        self.path = path
        self.runs = 0
        write_files(path, {"inventory.yml": INVENTORY, **playbooks})

    def markers(self) -> Path:
        self.runs += 1
        markers = self.path / "markers" / str(self.runs)
        markers.mkdir(parents=True)
        return markers

    def run(self, *args: str, playbook: str = "site.yml", env: dict | None = None) -> Run:
        markers = self.markers()
        run = ansible_playbook(
            self.path, "-i", "inventory.yml", "-e", f"marker_dir={markers}", *args, playbook=playbook, env=env
        )
        run.markers = markers
        return run


def ran(run: Run) -> set[str]:
    return {path.name for path in run.markers.iterdir()}


def output(run: Run) -> str:
    return " ".join((run.stdout + run.stderr).split())


def latest_id(run_dir: Path) -> str:
    return json.loads((run_dir / "latest.json").read_text())["run_id"]


def limit_files(run_dir: Path) -> dict[str, str]:
    return {path.name: path.read_text() for path in run_dir.glob("*.limit") if "." not in path.stem}


# --- A: a refused relaunch never poisons the manifest -----------------------------------------------


@pytest.mark.newest_only
def test_a_refused_relaunch_leaves_the_manifest_it_refused(tmp_path: Path) -> None:
    project = Project(tmp_path, {"site.yml": ROLE_PLAY})
    first = project.run("-e", "bad=web02")
    assert first.rc == 2 and ran(first) == set(WEB)
    relaunch = project.run("-e", "relaunch_hosts=failed")
    assert relaunch.rc == 0 and ran(relaunch) == {"web02"}, relaunch.stdout
    assert "relaunch.status.select: 1 host of status failed run" in relaunch.stdout, relaunch.stdout
    run_dir = relaunch.run_dir
    useful = latest_id(run_dir)
    files = limit_files(run_dir)

    # Nothing failed any more: refused (0 hosts), and a typo is refused; neither may turn hosts into failed.
    for statuses in ("failed", "faild", "failed"):
        refused = project.run("-e", f"relaunch_hosts={statuses}")
        assert refused.rc != 0 and not ran(refused), refused.stdout
        assert "Traceback" not in output(refused)
        assert latest_id(run_dir) == useful and limit_files(run_dir) == files
        own = refused.run_manifest()
        assert own["tasks_ran"] is False and own["run_id"] != useful  # kept in the history, marked so
        summary = refused.stdout[refused.stdout.index("RELAUNCH SUMMARY") :]
        assert "latest.json and its limit files are unchanged" in " ".join(summary.split())
        assert "relaunch on" not in summary  # neither the failed nor the pending hosts: nothing changed
        # The role's refusal failed every host; the summary must not present it as the hosts' failures.
        assert "failed=" not in summary and f"none of the {len(WEB)} hosts ran a task" in summary, summary
    assert relaunch.manifest()["retry_counts"]["failed"] == 0

    # "Nothing to do" can end with success, for a loop that relaunches until nothing failed.
    done = project.run("-e", "relaunch_hosts=failed", "-e", "relaunch_allow_empty=true")
    assert done.rc == 0 and not ran(done), done.stdout
    assert "nothing to relaunch" in output(done)
    assert latest_id(run_dir) == useful
    # The "end the play" task is reported once, not once per host.
    assert output(done).count("TASK [relaunch.status.select : End the play, as no host is selected]") == 1


# --- B: a run that stops before any host ran keeps the failed set --------------------------------------


TARGETED = (
    """
- name: Deploy
  hosts: "{{ target }}"
  gather_facts: false
  tasks:"""
    + WORK
)


@pytest.mark.parametrize(
    "broken",
    [
        pytest.param((), id="the -e is forgotten"),
        pytest.param(("-e", "target={{ lookup('relaunch.status.limit', 'faild') }}"), id="a failing lookup in hosts"),
    ],
)
def test_a_run_that_stops_before_any_host_ran_keeps_the_limit_files(tmp_path: Path, broken: tuple) -> None:
    project = Project(tmp_path, {"tgt.yml": TARGETED})
    first = project.run("-e", "target=web", "-e", "bad=web02", playbook="tgt.yml")
    assert first.rc == 2 and first.with_status("failed") == {"web02"}
    run_dir = first.run_dir
    useful, files = latest_id(run_dir), limit_files(run_dir)
    assert files["failed.limit"] == "web02\n"

    stopped = project.run("--limit", "@.relaunch/tgt/failed.limit", *broken, playbook="tgt.yml")
    assert stopped.rc != 0 and not ran(stopped)
    assert latest_id(run_dir) == useful and limit_files(run_dir) == files
    assert stopped.run_manifest()["tasks_ran"] is False
    # No host was ever seen: one line, never a summary of zeros.
    summary = [line for line in stopped.stdout.splitlines() if "RELAUNCH SUMMARY" in line or "=0" in line]
    assert summary == [
        "RELAUNCH SUMMARY: no host ran (interrupted); .relaunch/tgt/latest.json and its limit files are unchanged"
    ], stopped.stdout

    rerun = project.run("-e", "target=web", "--limit", "@.relaunch/tgt/failed.limit", playbook="tgt.yml")
    assert rerun.rc == 0 and ran(rerun) == {"web02"}, rerun.stdout + rerun.stderr


# --- C: overlapping runs each print their own relaunch command ---------------------------------------


GATED = (
    """
- name: Deploy
  hosts: web
  gather_facts: false
  tasks:
    - name: Wait for the gate
      ansible.builtin.wait_for:
        path: "{{ gate }}"
        timeout: 120
      when: gate is defined
      run_once: true
"""
    + WORK
)


def relaunch_words(run_stdout: str) -> list[str]:
    summary = run_stdout[run_stdout.index("RELAUNCH SUMMARY") :]
    finish = "to finish the rollout, relaunch on its pending hosts (failed or not run yet):\n"
    return shlex.split(summary.split(finish, 1)[1].splitlines()[0])


@pytest.mark.newest_only
def test_overlapping_runs_each_print_a_command_for_their_own_failed_hosts(tmp_path: Path) -> None:
    project = Project(tmp_path, {"conc.yml": GATED})
    gate = tmp_path / "gate"
    markers = project.markers()
    command = [
        str(ANSIBLE_BIN / "ansible-playbook"),
        "-i",
        "inventory.yml",
        "-e",
        f"marker_dir={markers}",
        "-e",
        f"gate={gate}",
        "-e",
        "bad=web01",
        "conc.yml",
    ]
    slow = subprocess.Popen(
        command, cwd=tmp_path, env=ansible_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        run_dir = tmp_path / ".relaunch" / "conc"
        deadline = time.monotonic() + 60
        while not list(run_dir.glob("*.journal")):  # the slow run has started: it is the older one
            assert time.monotonic() < deadline and slow.poll() is None, "the slow run did not start"
            time.sleep(0.1)
        fast = project.run("-e", "bad=web02", playbook="conc.yml")
        assert fast.rc == 2
        gate.touch()
        slow_out, slow_err = slow.communicate(timeout=120)
    finally:
        if slow.poll() is None:
            slow.kill()
            slow.wait()
    assert slow.returncode == 2, slow_out + slow_err
    # Each summary names files of its own run. The fast run started last: its web01 (ok) stays in the rollout
    # over the slow run's older failure, so both runs leave web02 alone to do; each run's failed file keeps its own.
    for stdout, failed in ((fast.stdout, "web02"), (slow_out, "web01")):
        words = relaunch_words(stdout)
        limit = words[words.index("--limit") + 1]
        run_id = re.fullmatch(r"@\.relaunch/conc/(.+)\.pending\.limit", limit)[1]
        assert stdout.count(f".relaunch/conc/{run_id}.json") == 1, stdout  # the summary's header
        assert (tmp_path / limit[1:]).read_text() == "web02\n", stdout
        assert (run_dir / f"{run_id}.failed.limit").read_text() == failed + "\n", stdout
    # latest.json is the rollout the fast run started, and so is failed.limit.
    assert (run_dir / "failed.limit").read_text() == "web02\n"


# --- D: playbooks of one file name in a shared manifest directory ---------------------------------------


@pytest.mark.newest_only
def test_playbooks_of_one_name_in_a_shared_manifest_directory_stay_apart(tmp_path: Path) -> None:
    project = Project(tmp_path, {"appA/site.yml": ROLE_PLAY, "appB/site.yml": ROLE_PLAY})
    env = {"RELAUNCH_MANIFEST_DIR": str(tmp_path / "central")}
    first_a = project.run("-e", "bad=web01", playbook="appA/site.yml", env=env)
    first_b = project.run("-e", "bad=web02", playbook="appB/site.yml", env=env)
    assert first_a.rc == first_b.rc == 2
    central = tmp_path / "central"
    # The first playbook keeps the public <dir>/<stem>; the other gets a directory of its own.
    assert json.loads((central / "site" / "latest.json").read_text())["playbook"] == str(tmp_path / "appA" / "site.yml")
    others = [path for path in central.iterdir() if path.name.startswith("site-")]
    assert len(others) == 1 and json.loads((others[0] / "latest.json").read_text())["playbook"] == str(
        tmp_path / "appB" / "site.yml"
    )
    assert re.search(r"--limit @central/site-[0-9a-f]{8}/" + RUN_PENDING_FILE, first_b.stdout)

    relaunch_a = project.run("-e", "relaunch_hosts=failed", playbook="appA/site.yml", env=env)
    assert ran(relaunch_a) == {"web01"}, relaunch_a.stdout
    relaunch_b = project.run("-e", "relaunch_hosts=failed", playbook="appB/site.yml", env=env)
    assert ran(relaunch_b) == {"web02"}, relaunch_b.stdout


@pytest.mark.newest_only
def test_a_latest_json_of_another_playbook_is_refused(tmp_path: Path) -> None:
    project = Project(tmp_path, {"appA/site.yml": ROLE_PLAY, "appB/site.yml": ROLE_PLAY})
    assert project.run("-e", "bad=web01", playbook="appA/site.yml").rc == 2
    assert project.run("-e", "bad=web02", playbook="appB/site.yml").rc == 2
    shutil.copy(tmp_path / "appB/.relaunch/site/latest.json", tmp_path / "appA/.relaunch/site/latest.json")
    refused = project.run("-e", "relaunch_hosts=failed", playbook="appA/site.yml")
    assert refused.rc != 0 and not ran(refused)
    assert f"was written by playbook {tmp_path / 'appB' / 'site.yml'}, not {tmp_path / 'appA' / 'site.yml'}" in output(
        refused
    )


@pytest.mark.newest_only
def test_a_moved_checkout_keeps_its_manifests(tmp_path: Path) -> None:
    old = tmp_path / "old"
    project = Project(old, {"site.yml": ROLE_PLAY})
    assert project.run("-e", "bad=web03").rc == 2
    new = tmp_path / "new"
    os.rename(old, new)
    project.path = new
    relaunch = project.run("-e", "relaunch_hosts=failed")
    assert relaunch.rc == 0 and ran(relaunch) == {"web03"}, relaunch.stdout + relaunch.stderr


# --- E: readers never write, prune or remove anything -------------------------------------------------------


READ = """
- name: Read the manifest
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Read it
      relaunch.status.relaunch_info:
        manifest: .relaunch/site
        hosts: failed
      register: info
    - name: Keep the result
      ansible.builtin.copy:
        content: "{{ info | to_json }}"
        dest: "{{ marker_dir }}/../info.json"
        mode: "0600"
"""


@pytest.mark.newest_only
def test_readers_keep_every_run_that_keep_keeps_and_write_nothing(tmp_path: Path) -> None:
    project = Project(tmp_path, {"site.yml": ROLE_PLAY, "read.yml": READ})
    env = {"RELAUNCH_KEEP": "100"}
    first = project.run("-e", "bad=web04", env=env)
    run_dir = first.run_dir
    manifest = first.manifest()
    # 29 older runs, and a newer run that died (its journal is not locked by a live run).
    for number in range(29):
        old_id = f"2020010{number // 10 + 1}T0000{number % 10:02d}000000Z-1-abcd"
        (run_dir / f"{old_id}.json").write_text(json.dumps(dict(manifest, run_id=old_id)))
    dead_id = "29990101T000000000000Z-2-abcd"
    start = {
        key: manifest[key]
        for key in (
            "run_id",
            "playbook",
            "started",
            "invocation",
            "passwords_needed_to_start",
            "check_mode",
            "ansible_version",
        )
    }
    events = [
        dict(start, e="start", run_id=dead_id),
        {"e": "play", "name": "Deploy", "batch": WEB, "pending": []},
        {
            "e": "result",
            "host": "web05",
            "outcome": "failed",
            "play": "Deploy",
            "task": "t",
            "action": "fail",
            "msg": "died",
        },
    ]
    (run_dir / f"{dead_id}.journal").write_text("".join(json.dumps(event) + "\n" for event in events))
    before = {path.name: path.stat().st_mtime_ns for path in run_dir.iterdir()}

    read = project.run(playbook="read.yml", env=env)
    assert read.rc == 0, read.stdout + read.stderr
    info = json.loads((read.markers.parent / "info.json").read_text())
    # The dead run, replayed in memory, continues the rollout (it never ran web04): both are failed.
    assert info["changed"] is False and info["targets"] == ["web04", "web05"]
    assert {path.name: path.stat().st_mtime_ns for path in run_dir.iterdir()} == before  # nothing written or removed

    # The next run recovers the dead one with the user's keep: all 31 runs stay.
    project.run("-e", "relaunch_hosts=all", env=env)
    runs = [path for path in run_dir.glob("*.json") if path.name != "latest.json"]
    assert len(runs) == 32 and not list(run_dir.glob("*.journal"))
