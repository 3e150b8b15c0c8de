# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What ``ansible-relaunch run`` adds to the ansible-playbook runs it makes.

Two cases, each against what a user would type by hand, in the same round and in shuffled order:

- ``clean``: every host passes. ``ansible-relaunch run -- ...`` makes one attempt; the hand-typed run is
  ``ansible-playbook ...`` with the callback enabled.
- ``retry``: one host fails on its first run only. ``ansible-relaunch run --attempts 2 -- ...`` makes both
  attempts; by hand, ``ansible-playbook ...`` then ``ansible-playbook ... --limit @<dir>/failed.limit``.

The figure is the median ratio (command / by hand) of wall-clock and CPU time, with its 95% interval.
"""

from __future__ import annotations

import random
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

from .common import COLLECTIONS, MAIN_BIN, ansible_env, ensure_collection, load_average, ratio_stats, timed

_CLI = "ansible_collections.relaunch.status.plugins.plugin_utils._cli"
# The host of the retry case fails while its marker file exists; the play removes it, as a fix would.
_PLAY = """\
- name: Cheap tasks on many hosts
  hosts: all
  gather_facts: false
  tasks:
    - name: Fail once on the flaky host (the task removes its marker, as a fix would)
      ansible.builtin.raw: "f=flaky/{{ inventory_hostname }}; if [ -e $f ]; then rm $f; exit 1; fi"
      changed_when: false
"""


def write_project(workdir: Path, hosts: int, tasks: int) -> None:
    workdir.mkdir(parents=True, exist_ok=True)
    lines = ["all:", "  vars:", "    ansible_connection: local", "  hosts:"]
    lines += [f"    node-{index:04d}:\n      relaunch_id: asset-{index:04d}" for index in range(hosts)]
    (workdir / "inventory.yml").write_text("\n".join(lines) + "\n")
    play = _PLAY + "".join(
        f"    - name: Debug {index}\n      ansible.builtin.debug:\n        msg: task {index}\n"
        for index in range(tasks)
    )
    (workdir / "site.yml").write_text(play)
    (workdir / "flaky").mkdir(exist_ok=True)


def _by_hand(workdir: Path, env: dict, retry: bool) -> tuple[float, float]:
    playbook = [str(MAIN_BIN / "ansible-playbook"), "-i", "inventory.yml", "site.yml"]
    if not retry:
        return timed(playbook, workdir, env)
    first = _timed_allowing_failure(playbook, workdir, env)
    limit = f"@{env['RELAUNCH_MANIFEST_DIR']}/site/failed.limit"
    second = timed([*playbook, "--limit", limit], workdir, env)
    return first[0] + second[0], first[1] + second[1]


def _timed_allowing_failure(command: list[str], workdir: Path, env: dict) -> tuple[float, float]:
    """A run that ends with a failed host (exit 2), timed as :func:`timed` times one."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    completed = subprocess.run(
        command, cwd=workdir, env=env, stdin=subprocess.DEVNULL, capture_output=True, check=False
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if completed.returncode != 2:
        raise RuntimeError(f"the first run exited {completed.returncode}, not 2: {completed.stderr[-400:]!r}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _command(workdir: Path, env: dict, retry: bool) -> tuple[float, float]:
    attempts = ["--attempts", "2"] if retry else []
    return timed([sys.executable, "-m", _CLI, "run", *attempts, "--", "-i", "inventory.yml", "site.yml"], workdir, env)


def run(hosts: int, tasks: int, rounds: int, workroot: Path, seed: int = 7) -> dict:
    """Ratios of the command to the same runs typed by hand, per case."""
    ensure_collection()
    rng = random.Random(seed)
    results: dict = {"hosts": hosts, "tasks": tasks, "rounds": rounds, "load_average": [load_average()]}
    for case in ("clean", "retry"):
        retry = case == "retry"
        samples: dict[str, list[tuple[float, float]]] = {"by_hand": [], "command": []}
        for round_index in range(rounds + 1):  # round 0 warms up both arms
            arms = ["by_hand", "command"]
            rng.shuffle(arms)
            for arm in arms:
                workdir = workroot / f"command-{case}-{arm}"
                shutil.rmtree(workdir, ignore_errors=True)
                write_project(workdir, hosts, tasks)
                if retry:
                    (workdir / "flaky" / "node-0000").touch()
                env = ansible_env(workdir, MAIN_BIN, {"ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS)})
                env["PYTHONPATH"] = str(COLLECTIONS)
                if arm == "by_hand":
                    env["ANSIBLE_CALLBACKS_ENABLED"] = "relaunch.status.manifest"
                    sample = _by_hand(workdir, env, retry)
                else:
                    sample = _command(workdir, env, retry)
                if round_index:
                    samples[arm].append(sample)
        results[case] = ratio_stats(samples["command"], samples["by_hand"])
        results[case]["by_hand_wall_s"] = ratio_stats(samples["by_hand"], samples["by_hand"])["wall_s"]
    results["load_average"].append(load_average())
    return results


def main() -> int:
    import argparse
    import json
    import tempfile

    parser = argparse.ArgumentParser(prog="python -m bench.command", description=__doc__)
    parser.add_argument("--hosts", type=int, default=30)
    parser.add_argument("--tasks", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="relaunch-bench-command-") as tmp:
        results = run(args.hosts, args.tasks, args.rounds, Path(tmp))
    print(json.dumps(results, indent=1))
    for case in ("clean", "retry"):
        entry = results[case]
        print(
            f"{case}: wall x{entry['wall_ratio']:.3f} {entry['wall_ratio_ci']}  "
            f"CPU x{entry['cpu_ratio']:.3f} {entry['cpu_ratio_ci']}  (by hand {entry['by_hand_wall_s']:.2f} s)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
