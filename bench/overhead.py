# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Callback overhead: whole ansible-playbook runs with and without a recording callback.

A controller-bound playbook (local connection, cheap debug tasks, no facts),
so the callback's share is as large as it can be. The arms run in turns,
their order rotated every round, and each arm is compared with the run
without callback of the same round: the median of those ratios is the figure.
"""

from __future__ import annotations

import random
import shutil
import subprocess
from pathlib import Path

from .common import MAIN_BIN, ROOT, RunFailed, ansible_env, median, timed

ARA_VENV = ROOT / "build" / "venvs" / "ara-bench"  # git-ignored, beside the lint venv


def write_project(workdir: Path, hosts: int, tasks: int, python: Path) -> None:
    workdir.mkdir(parents=True, exist_ok=True)
    lines = ["all:", "  vars:", "    ansible_connection: local", f"    ansible_python_interpreter: {python}", "  hosts:"]
    lines += [f"    node-{index:04d}.bench.example.com:\n      relaunch_id: asset-{index:04d}" for index in range(hosts)]
    (workdir / "inventory.yml").write_text("\n".join(lines) + "\n")
    play = ["- name: Cheap tasks on many hosts", "  hosts: all", "  gather_facts: false", "  tasks:"]
    play += [f"    - name: Debug {index}\n      ansible.builtin.debug:\n        msg: task {index} on {{{{ inventory_hostname }}}}" for index in range(tasks)]
    (workdir / "site.yml").write_text("\n".join(play) + "\n")


def ensure_ara(venv: Path = ARA_VENV) -> str | None:
    """Create the ARA venv (ARA beside the same ansible-core as ours); None when ready, else why not."""
    if ara_callback_dir(venv) is not None:
        return None
    from ansible.release import __version__ as ansible_version

    try:
        subprocess.run(["python3", "-m", "venv", str(venv)], check=True, capture_output=True)
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        # ara[server]: the offline client (ARA's default) records through ARA's own Django server code.
        subprocess.run([*pip, f"ansible-core=={ansible_version}", "ara[server]"], check=True, capture_output=True, timeout=1800)
    except (OSError, subprocess.SubprocessError) as exc:
        stderr = getattr(exc, "stderr", b"") or b""
        return f"ARA did not install: {stderr.decode('utf-8', 'replace').strip().splitlines()[-1:] or exc}"
    return None if ara_callback_dir(venv) is not None else "ARA installed but its callback directory was not found"


def ara_callback_dir(venv: Path) -> Path | None:
    """The ARA callback directory of the ARA venv, or None when ARA cannot record there."""
    python = venv / "bin" / "python"
    if not python.exists():
        return None
    script = "import ara.server, django; from ara.setup import callback_plugins; print(callback_plugins)"
    completed = subprocess.run([str(python), "-c", script], capture_output=True, text=True, check=False)
    return Path(completed.stdout.strip()) if completed.returncode == 0 else None


def arms(workdir: Path, ara_dir: Path | None) -> dict[str, tuple[Path, dict]]:
    """Arm name -> (bin directory, environment) of its ansible-playbook."""
    result = {
        "none": (MAIN_BIN, ansible_env(workdir, MAIN_BIN)),
        "relaunch": (MAIN_BIN, ansible_env(workdir, MAIN_BIN, {"ANSIBLE_CALLBACKS_ENABLED": "relaunch.status.manifest"})),
    }
    if ara_dir is not None:
        ara_bin = ARA_VENV / "bin"
        result["ara"] = (
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


def run(sizes: list[int], tasks: int, rounds: int, ara_rounds: int, ara_sizes: list[int], workroot: Path, ara_note: str | None, seed: int = 4) -> dict:
    ara_dir = ara_callback_dir(ARA_VENV) if ara_sizes else None
    rng = random.Random(seed)
    results = []
    for hosts in sizes:
        workdir = workroot / f"overhead-{hosts}"
        shutil.rmtree(workdir, ignore_errors=True)
        write_project(workdir, hosts, tasks, MAIN_BIN / "python")
        available = arms(workdir, ara_dir if hosts in ara_sizes else None)
        command = ["ansible-playbook", "-i", "inventory.yml", "site.yml"]
        # One warm-up run per arm (ARA creates its database on the first one).
        for bin_dir, env in available.values():
            timed([str(bin_dir / command[0]), *command[1:]], workdir, env)
        samples: dict[str, list[tuple[float, float]]] = {name: [] for name in available}
        for round_index in range(rounds):
            names = [name for name in available if name != "ara" or round_index < ara_rounds]
            rng.shuffle(names)
            for name in names:
                bin_dir, env = available[name]
                samples[name].append(timed([str(bin_dir / command[0]), *command[1:]], workdir, env))
        entry = {"hosts": hosts, "tasks": tasks, "rounds": rounds, "arms": {}}
        for name, values in samples.items():
            base = samples["none"][: len(values)]
            entry["arms"][name] = {
                "runs": len(values),
                "wall_s": median([wall for wall, _cpu in values]),
                "cpu_s": median([cpu for _wall, cpu in values]),
                "wall_ratio": median([wall / ref[0] for (wall, _cpu), ref in zip(values, base)]),
                "cpu_ratio": median([cpu / ref[1] for (_wall, cpu), ref in zip(values, base)]),
                "wall_samples": [round(wall, 4) for wall, _cpu in values],
                "cpu_samples": [round(cpu, 4) for _wall, cpu in values],
            }
        # The manifest the relaunch callback wrote, as a check that it really recorded.
        latest = workdir / ".relaunch" / "site" / "latest.json"
        entry["relaunch_manifest_written"] = latest.exists()
        if "ara" in available:
            entry["ara_database_written"] = any((workdir / ".ara").rglob("*.sqlite"))
        results.append(entry)
        text = ", ".join(f"{name} {arm['wall_s']:.2f} s (x{arm['wall_ratio']:.3f})" for name, arm in entry["arms"].items())
        print(f"  overhead {hosts} hosts x {tasks} tasks: {text}", flush=True)
    if ara_dir is None and not ara_note:
        ara_note = "ARA not measured (--no-ara or no ARA size)" if not ara_sizes else f"ARA is not installed in {ARA_VENV}"
    return {"tasks": tasks, "sizes": results, "ara_note": ara_note}


__all__ = ["RunFailed", "run"]
