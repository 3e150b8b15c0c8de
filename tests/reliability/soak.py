# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""SIGKILL ansible-playbook at random moments and check the manifest store after every kill.

Two kinds of kill, chosen by a seeded random generator:

``random``
    a playbook of quick tasks over 12 hosts in two plays (the second in serial
    batches) is killed after a random delay; the recovered manifest is compared
    with what ansible-playbook printed before it died.
``write``
    a 2,000-host playbook is killed in the middle of the final write: with a
    temporary file of the run manifest, a limit file or latest.json on disk, not
    yet renamed into place. The write lasts milliseconds, so the process is held
    there (``hold_write/sitecustomize.py``) until the kill comes.

After each kill: latest.json is absent or a valid manifest, earlier manifests are
byte-identical, no temporary file is a manifest to any reader, and the next reader
(``locate()``) recovers the journal of the killed run.

The long version is ``scripts/soak-crash`` (fixed seed); tests/reliability/test_crash.py
runs a few kills of each kind in the normal suite.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

from ansible_collections.relaunch.status.plugins.plugin_utils._core import store
from ansible_collections.relaunch.status.plugins.plugin_utils._core.selection import limit_file_texts
from tests.fixtures import play
from tests.reliability.conftest import Live, check_manifest, check_store, outcomes_printed, run_manifests
from tests.runner import write_files

KEEP = 20
SEED = 20261127
WEB = [f"h{index:02d}" for index in range(1, 7)]
DB = [f"d{index:02d}" for index in range(1, 7)]
FAILING = {"h02", "d03"}
BIG_HOSTS = 2000

QUICK_TASKS = """\
- name: one
  ansible.builtin.debug:
    msg: one
- name: two
  ansible.builtin.raw: "true"
- name: breaks
  ansible.builtin.fail:
    msg: broken on purpose
  when: inventory_hostname in ['h02', 'd03']
- name: three
  ansible.builtin.raw: sleep 0.05
"""

PLAYBOOK = play("first", "web", QUICK_TASKS) + play("second", "db", QUICK_TASKS, serial=2)

BIG_PLAYBOOK = """
- name: big
  hosts: all
  gather_facts: false
  tasks:
    - name: once
      ansible.builtin.debug:
        msg: once
      run_once: true
"""

# How each host ends when its play finished: (statuses).
# A failed host is still to do in the rollout: pending.
FINISHED = {True: ["all", "changed", "failed", "ok", "pending"], False: ["all", "changed", "ok", "skipped"]}


def setup(workdir: Path) -> None:
    inventory = "[web]\n" + "".join(f"{name} ansible_connection=local\n" for name in WEB)
    inventory += "[db]\n" + "".join(f"{name} ansible_connection=local\n" for name in DB)
    big = "[many]\n" + "".join(f"n{index:04d}.example.com ansible_connection=local\n" for index in range(BIG_HOSTS))
    write_files(workdir, {"inventory.ini": inventory, "site.yml": PLAYBOOK, "big.ini": big, "big.yml": BIG_PLAYBOOK})


class Tally:
    """What a soak did, for its report."""

    def __init__(self) -> None:
        self.runs = 0
        self.kills = 0  # the process was alive when SIGKILL came
        self.late = 0  # the run had already ended
        self.mid_write = 0  # killed with a temporary file of the final write on disk
        self.recovered = 0  # journals turned into manifests by the next run
        self.recovered_complete = 0  # of those, runs that had written their manifest before dying
        self.duration = 0.0  # of a whole run of site.yml, measured once

    def report(self) -> str:
        return (
            f"runs={self.runs} kills={self.kills} too_late={self.late} mid_write={self.mid_write} "
            f"recovered={self.recovered} (complete {self.recovered_complete})"
        )


def _in_flight(run_dir: Path) -> list[str]:
    return [name for name in os.listdir(run_dir) if name.endswith(".tmp")] if run_dir.is_dir() else []


def full_run(workdir: Path, tally: Tally) -> None:
    """One run of site.yml to the end: the earlier manifest every later check keeps intact."""
    started = time.monotonic()
    live = Live(workdir, "-i", "inventory.ini", env={"RELAUNCH_KEEP": str(KEEP)})
    rc = live.wait()
    tally.duration = time.monotonic() - started
    tally.runs += 1
    assert rc == 2, live.stderr
    latest = check_store(workdir / ".relaunch" / "site")
    assert latest is not None and latest["complete"]
    check_against_output(latest, live.stdout)


# Puts hold_write/sitecustomize.py in the ansible-playbook process.
HOLD_WRITE = {
    "PYTHONPATH": os.pathsep.join(
        filter(None, [str(Path(__file__).parent / "hold_write"), os.environ.get("PYTHONPATH")])
    )
}
WRITE_TARGETS = (".json.", ".limit.", "latest.json.")  # temporary files of: the run manifest, a limit file, latest.json


def crash(workdir: Path, rng: random.Random, tally: Tally, kind: str, target: str | None = None) -> None:
    """Start a run, SIGKILL it, check the store, read it as the next reader does, then recover it as the next run does.

    ``kind`` is "random" (after a random delay) or "write" (when a temporary file whose
    name holds ``target`` appears; a random one of WRITE_TARGETS by default).
    """
    playbook, inventory = ("site.yml", "inventory.ini") if kind == "random" else ("big.yml", "big.ini")
    run_dir = workdir / ".relaunch" / Path(playbook).stem
    before = run_manifests(run_dir)
    env = {"RELAUNCH_KEEP": str(KEEP)}
    if kind == "write":
        target = target or rng.choice(WRITE_TARGETS)
        env.update(HOLD_WRITE, RELAUNCH_TEST_HOLD_WRITE=target)
    live = Live(workdir, "-i", inventory, playbook=playbook, env=env, name=f"crash{tally.runs}")
    tally.runs += 1
    if kind == "random":
        time.sleep(rng.uniform(0.05, max(tally.duration, 1.0) * 1.1))
    else:
        deadline = time.monotonic() + 600
        while live.process.poll() is None and time.monotonic() < deadline:
            if any(target in name for name in _in_flight(run_dir)):
                break
            time.sleep(0.001)
    if live.kill():
        tally.kills += 1
    else:
        tally.late += 1
    if _in_flight(run_dir):
        tally.mid_write += 1

    # Right after the kill, before any reader touches the directory.
    check_store(run_dir)
    after = run_manifests(run_dir)
    newest_kept = set(sorted(set(before) | set(after))[-KEEP:])
    for run_id, data in before.items():
        if run_id in after:
            assert after[run_id] == data, f"earlier manifest {run_id} changed"
        else:
            assert run_id not in newest_kept, f"earlier manifest {run_id} disappeared"
    journals = sorted(run_dir.glob("*" + store.layout.JOURNAL))
    assert len(journals) <= 1, journals
    killed = None
    if (
        journals
        and store.journal.replay(str(journals[0])).meta.get("run_id") == journals[0].name[: -len(store.layout.JOURNAL)]
    ):
        killed = journals[0].name[: -len(store.layout.JOURNAL)]
    written = killed is not None and killed in after

    # A run in which no host ran a task yet never replaces latest.json, recovered or not.
    promoted = (
        killed is not None
        and (
            json.loads(after[killed]) if written else store.journal.replay(str(journals[0])).snapshot(False, None).head
        )["tasks_ran"]
    )
    if not (run_dir / "latest.json").exists() and not promoted:
        # Nothing for a reader to read yet; the next run still recovers it.
        store.recovery.recover(str(run_dir), KEEP, limit_file_texts)
        assert not list(run_dir.glob("*" + store.layout.JOURNAL)), "a dead run's journal was left"
        tally.recovered += killed is not None
        return
    # The next reader reads the killed run in memory and writes nothing.
    listing = sorted(os.listdir(run_dir))
    read = store.reading.load(store.reading.locate(str(run_dir)))
    assert sorted(os.listdir(run_dir)) == listing and run_manifests(run_dir) == after, (
        "a reader wrote in the run directory"
    )
    # The next run recovers it, with its own keep.
    store.recovery.recover(str(run_dir), KEEP, limit_file_texts)
    latest = store.reading.load(store.reading.locate(str(run_dir)))
    assert not list(run_dir.glob("*" + store.layout.JOURNAL)), "a dead run's journal was left"
    assert not _in_flight(run_dir), "a dead writer's temporary file was left"
    check_store(run_dir)
    for run_id, data in before.items():
        assert run_manifests(run_dir).get(run_id, data) == data
    assert (read["run_id"], read["complete"], read["retry_counts"]) == (
        latest["run_id"],
        latest["complete"],
        latest["retry_counts"],
    )
    if killed is not None:
        tally.recovered += 1
    if promoted:
        assert latest["run_id"] == killed, "latest.json is not the killed run, the newest"
        if written:
            tally.recovered_complete += 1
            assert latest["complete"] is True, "a run that wrote its manifest was recovered as interrupted"
            assert (run_dir / f"{killed}.json").read_bytes() == after[killed]
        else:
            assert latest["complete"] is False
            if kind == "write":  # it died after its playbook's stats: every host had finished
                assert latest["retry_counts"]["not_run"] == 0, "hosts of a finished playbook recovered as not_run"
    elif live.process.returncode in (0, 2):
        assert latest["complete"] is True
    if kind == "random" and latest["run_id"] not in before:
        # The run's own manifest: latest.json is the rollout's state, where a host this run never got to keeps the
        # entry of the run that last ran it.
        check_against_output(json.loads((run_dir / f"{latest['run_id']}.json").read_bytes()), live.stdout)
    elif kind == "write" and latest["run_id"] not in before:
        assert latest["retry_counts"]["all"] == BIG_HOSTS


def check_against_output(manifest: dict, stdout: str) -> None:
    """The manifest of a killed (or finished) run agrees with what ansible-playbook printed.

    The default stdout callback prints each result before this collection journals it,
    so at most one printed result (the one in flight) is missing, and none is extra.
    Hosts whose play or serial batch finished are recorded as they ended; the rest of
    an interrupted run is not_run.
    """
    hosts = {host["name"]: host for host in manifest["hosts"]}
    missing = 0
    for name, seen in outcomes_printed(stdout).items():
        assert name in hosts, f"{name} ran but is not in the manifest"
        counters = hosts[name]["counters"]
        recorded = {
            "ok": counters["ok"] - counters["changed"],
            "changed": counters["changed"],
            "failed": counters["failures"],
            "skipped": counters["skipped"],
        }
        for kind, count in seen.items():
            assert recorded[kind] <= count, f"{name}: more {kind} results recorded than ran"
            missing += count - recorded[kind]
    assert missing <= 1, f"{missing} printed results are missing from the manifest"
    for host in manifest["hosts"]:
        if host["counters"]["failures"]:
            assert "failed" in host["statuses"] and "not_run" not in host["statuses"], host
    if manifest["complete"]:
        for name in WEB + DB:
            assert hosts[name]["statuses"] == FINISHED[name in FAILING], hosts[name]
        return
    batches = stdout.count("PLAY [second]")
    if batches:
        for name in WEB:
            assert hosts[name]["statuses"] == FINISHED[name in FAILING], hosts[name]
    else:
        # The first play never ended: its hosts that have not failed are not_run.
        for name in WEB:
            if name in hosts and "failed" not in hosts[name]["statuses"]:
                assert "not_run" in hosts[name]["statuses"], hosts[name]
    for index, name in enumerate(DB):
        batch = index // 2 + 1
        if name not in hosts:
            assert batches <= 1, f"{name} is missing"  # killed before the play was journalled
            continue
        if batch < batches - 1:
            assert hosts[name]["statuses"] == FINISHED[name in FAILING], hosts[name]
        elif batch > batches and batches:
            assert hosts[name]["statuses"] == ["all", "not_run", "pending"], hosts[name]


def soak(workdir: Path, kills: int, seed: int, write_share: float = 0.25, log=None) -> Tally:
    """``kills`` crashes in one manifest directory, a share of them in the middle of the final write."""
    rng = random.Random(seed)
    tally = Tally()
    setup(workdir)
    full_run(workdir, tally)
    for number in range(kills):
        kind = "write" if rng.random() < write_share else "random"
        crash(workdir, rng, tally, kind)
        if log is not None:
            log(f"{number + 1}/{kills} {kind}: {tally.report()}")
    # Every manifest left after all of this still reads.
    for run_dir in (workdir / ".relaunch").iterdir():
        for data in run_manifests(run_dir).values():
            check_manifest(data, str(run_dir))
    return tally


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--kills", type=int, default=300, help="how many runs to SIGKILL (default 300)")
    parser.add_argument("--seed", type=int, default=SEED, help=f"random seed (default {SEED})")
    parser.add_argument(
        "--write-share", type=float, default=0.25, help="share of kills aimed at the final write (default 0.25)"
    )
    parser.add_argument("--workdir", help="directory to run in (default: a new temporary directory)")
    options = parser.parse_args()
    workdir = Path(options.workdir or tempfile.mkdtemp(prefix="soak-crash-"))
    workdir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    print(f"soak-crash: seed {options.seed}, {options.kills} kills, in {workdir}", flush=True)
    tally = soak(workdir, options.kills, options.seed, options.write_share, log=lambda line: print(line, flush=True))
    print(f"soak-crash: passed, {tally.report()}, {time.monotonic() - started:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
