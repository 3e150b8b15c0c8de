# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Callback overhead: whole ansible-playbook runs with and without a recording callback.

A controller-bound playbook (local connection, cheap debug tasks, no facts),
so the callback's share is as large as it can be. Every ansible-core line
measured has its own arms (no callback, ours); all arms of all lines run in
turns, their order shuffled every round, and each arm is compared with the run
without callback of its own ansible-core in the same round: the median of
those ratios is the figure, their lowest and highest its spread.
"""

from __future__ import annotations

import random
import shutil
import subprocess
from pathlib import Path

from .common import RunFailed, ansible_env, load_average, main_core, make_venv, ratio_stats, timed

ARA_VENV = Path(__file__).resolve().parents[1] / "build" / "venvs" / "ara-bench"  # git-ignored, beside the lint venv
_ARA_READY = "import ara.server, django; from ara.setup import callback_plugins"


def write_project(workdir: Path, hosts: int, tasks: int) -> None:
    """The inventory and playbook; each arm's environment names its own Python (ANSIBLE_PYTHON_INTERPRETER)."""
    workdir.mkdir(parents=True, exist_ok=True)
    lines = ["all:", "  vars:", "    ansible_connection: local", "  hosts:"]
    lines += [
        f"    node-{index:04d}.bench.example.com:\n      relaunch_id: asset-{index:04d}" for index in range(hosts)
    ]
    (workdir / "inventory.yml").write_text("\n".join(lines) + "\n")
    play = ["- name: Cheap tasks on many hosts", "  hosts: all", "  gather_facts: false", "  tasks:"]
    play += [
        f"    - name: Debug {index}\n      ansible.builtin.debug:\n"
        f"        msg: task {index} on {{{{ inventory_hostname }}}}"
        for index in range(tasks)
    ]
    (workdir / "site.yml").write_text("\n".join(play) + "\n")


def ensure_ara(venv: Path = ARA_VENV) -> str | None:
    """Create the ARA venv (ARA beside the main venv's ansible-core); None when ready, else why not."""
    from ansible.release import __version__ as ansible_version

    # ara[server]: the offline client (ARA's default) records through ARA's own Django server code.
    note = make_venv(venv, [f"ansible-core=={ansible_version}", "ara[server]"], _ARA_READY)
    return f"ARA: {note}" if note else None


def ara_callback_dir(venv: Path) -> Path | None:
    """The ARA callback directory of the ARA venv, or None when ARA cannot record there."""
    python = venv / "bin" / "python"
    if not python.exists():
        return None
    completed = subprocess.run(
        [str(python), "-c", f"{_ARA_READY}; print(callback_plugins)"], capture_output=True, text=True, check=False
    )
    return Path(completed.stdout.strip()) if completed.returncode == 0 else None


def arms(workdir: Path, cores: dict[str, Path], ara_dir: Path | None) -> dict[tuple[str, str], tuple[Path, dict]]:
    """(ansible-core line, arm name) -> (bin directory, environment) of its ansible-playbook."""
    result = {}
    for core, bin_dir in cores.items():
        manifests = {"RELAUNCH_MANIFEST_DIR": str(workdir / f".relaunch-{core}")}
        result[(core, "none")] = (bin_dir, ansible_env(workdir, bin_dir, manifests))
        result[(core, "relaunch")] = (
            bin_dir,
            ansible_env(workdir, bin_dir, {**manifests, "ANSIBLE_CALLBACKS_ENABLED": "relaunch.status.manifest"}),
        )
    if ara_dir is not None and main_core() in cores:
        ara_bin = ARA_VENV / "bin"
        result[(main_core(), "ara")] = (
            ara_bin,
            ansible_env(
                workdir,
                ara_bin,
                {
                    "ANSIBLE_CALLBACK_PLUGINS": str(ara_dir),
                    "ANSIBLE_CALLBACKS_ENABLED": "ara_default",
                    "ARA_API_CLIENT": "offline",
                    "ARA_BASE_DIR": str(workdir / ".ara"),
                },
            ),
        )
    return result


def run(
    sizes: list[int],
    tasks: int,
    rounds: int,
    ara_rounds: int,
    ara_sizes: list[int],
    workroot: Path,
    ara_note: str | None,
    cores: dict[str, Path],
    seed: int = 4,
) -> dict:
    ara_dir = ara_callback_dir(ARA_VENV) if ara_sizes else None
    rng = random.Random(seed)
    results = []
    for hosts in sizes:
        workdir = workroot / f"overhead-{hosts}"
        shutil.rmtree(workdir, ignore_errors=True)
        write_project(workdir, hosts, tasks)
        available = arms(workdir, cores, ara_dir if hosts in ara_sizes else None)
        command = ["ansible-playbook", "-i", "inventory.yml", "site.yml"]
        load_before = load_average()
        # One warm-up run per arm (ARA creates its database on the first one).
        for bin_dir, env in available.values():
            timed([str(bin_dir / command[0]), *command[1:]], workdir, env)
        samples: dict[tuple[str, str], list[tuple[float, float]]] = {key: [] for key in available}
        for round_index in range(rounds):
            keys = [key for key in available if key[1] != "ara" or round_index < ara_rounds]
            rng.shuffle(keys)
            for key in keys:
                bin_dir, env = available[key]
                samples[key].append(timed([str(bin_dir / command[0]), *command[1:]], workdir, env))
        entry: dict = {
            "hosts": hosts,
            "tasks": tasks,
            "rounds": rounds,
            "load_average": [load_before, load_average()],
            "cores": {},
        }
        for core in cores:
            base = samples[(core, "none")]
            per_core = entry["cores"][core] = {"arms": {}}
            for (arm_core, name), values in samples.items():
                if arm_core == core:
                    per_core["arms"][name] = ratio_stats(values, base[: len(values)])
            # The manifest the relaunch callback wrote, as a check that it really recorded.
            per_core["relaunch_manifest_written"] = (workdir / f".relaunch-{core}" / "site" / "latest.json").exists()
            if (core, "ara") in available:
                per_core["ara_database_written"] = any((workdir / ".ara").rglob("*.sqlite"))
        results.append(entry)
        for core, per_core in entry["cores"].items():
            text = ", ".join(
                f"{name} {arm['wall_s']:.2f} s (wall x{arm['wall_ratio']:.3f}, CPU x{arm['cpu_ratio']:.3f})"
                for name, arm in per_core["arms"].items()
            )
            print(f"  overhead {hosts} hosts x {tasks} tasks, ansible-core {core}: {text}", flush=True)
    if ara_dir is None and not ara_note:
        ara_note = (
            "ARA not measured (--no-ara or no ARA size)" if not ara_sizes else f"ARA is not installed in {ARA_VENV}"
        )
    return {"tasks": tasks, "sizes": results, "ara_note": ara_note}


__all__ = ["RunFailed", "run"]
