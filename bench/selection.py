# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Relaunch selection at scale: ``ansible-playbook --list-hosts`` with each way to relaunch.

An inventory of N hosts with FQDN names and a ``relaunch_id`` each, in one of two settings: a YAML file
(``yaml``), whose parsing takes most of a run at 20,000 hosts, and the same inventory as one JSON file
(``json``), which ansible-core parses several times faster: the strict setting, where the cost of selecting
stands out most. Two
manifests of a run over it in which half the hosts failed: one recorded under
the current names, one in which 10% of the failed hosts have been renamed
since (same identity, the inventory now uses new names for them).

Paths, each timed against the same command with no limit:

- ``limit_file``: ``--limit @failed.limit`` as the callback writes it (manifest without renames;
  the callback writes the names of run time, so after a rename a user takes one of the next two);
- ``groups``: ``-i inventory.yml -i relaunch.yml --limit relaunch_failed`` (renamed manifest);
- ``lookup``: ``hosts: "{{ lookup('relaunch.status.limit', 'failed', manifest=...) }}"`` (renamed manifest);
- ``naive_file``: a ``.retry``-style file of the recorded names, stale ones included (renamed manifest);
- ``naive_list``: the same names joined by commas on the command line, when they fit in one argument.

Each round runs every path and ``none`` once, in an order that rotates from one round to the next (a
seeded shuffle, rotated by one each round), so that each path takes each place in turn; a path's ratio
is to ``none`` of the same round, wall and CPU.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

from .common import ROOT, ansible_env, ensure_collection, load_average, ratio_stats, record_run, timed

ensure_collection()

from ansible_collections.relaunch.status.plugins.plugin_utils._core import store  # noqa: E402
from ansible_collections.relaunch.status.plugins.plugin_utils._core.recorder import Recorder  # noqa: E402
from ansible_collections.relaunch.status.plugins.plugin_utils._core.selection import limit_file_texts  # noqa: E402

ARG_MAX = 131072  # one command-line argument, on Linux
PATHS = ("limit_file", "groups", "lookup", "naive_file", "naive_list")
INVENTORIES = ("json", "yaml")  # the settings: the inventory file's format


def current_name(index: int, renamed: bool) -> str:
    return f"{'db' if renamed else 'web'}-{index:06d}.{'prod' if index % 2 else 'stage'}.dc{index % 5}.example.com"


def recorded_name(index: int) -> str:
    return current_name(index, False)


def renamed_indexes(hosts: int) -> set[int]:
    """Half the hosts fail (the even ones); one in ten of those was renamed since."""
    return {index for index in range(0, hosts, 2) if index % 20 == 0}


def write_inventory(path: Path, hosts: int) -> None:
    renamed = renamed_indexes(hosts)
    lines = ["all:", "  vars:", "    ansible_connection: local", "  children:"]
    for dc in range(5):
        lines += [f"    dc{dc}:", "      hosts:"]
        for index in range(dc, hosts, 5):
            lines.append(f"        {current_name(index, index in renamed)}: {{relaunch_id: asset-{index:06d}}}")
    path.write_text("\n".join(lines) + "\n")


def write_json_inventory(path: Path, hosts: int) -> None:
    """The inventory of :func:`write_inventory` as one JSON file (ansible-core's yaml plugin reads .json)."""
    renamed = renamed_indexes(hosts)
    children = {
        f"dc{dc}": {
            "hosts": {
                current_name(index, index in renamed): {"relaunch_id": f"asset-{index:06d}"}
                for index in range(dc, hosts, 5)
            }
        }
        for dc in range(5)
    }
    path.write_text(json.dumps({"all": {"vars": {"ansible_connection": "local"}, "children": children}}) + "\n")


def publish_manifest(directory: Path, hosts: int, with_renames: bool) -> Path:
    """A manifest of a run in which every even host failed, written as the callback writes it."""
    recorder = Recorder()
    renamed = renamed_indexes(hosts)
    if with_renames:  # the renamed hosts under the names they had at run time
        names = [f"old-{index:06d}.example.org" if index in renamed else recorded_name(index) for index in range(hosts)]
    else:  # a run of the current inventory: every recorded name is current
        names = [current_name(index, index in renamed) for index in range(hosts)]
    results = [("failed" if index % 2 == 0 else "ok", "boom") for index in range(hosts)]
    record_run(
        recorder.apply,
        names,
        results,
        run_id=store.layout.new_run_id(),
        started=store.layout.utc_now(),
        ansible_version="2.19.14",
        identity=lambda index: f"asset-{index:06d}",
        task="t",
        action="command",
    )
    directory.mkdir(parents=True, exist_ok=True)
    store.publishing.publish(
        str(directory),
        recorder.manifest(complete=True, finished=store.layout.utc_now()),
        keep=20,
        limit_texts=lambda manifest: limit_file_texts(
            manifest, ["all", "ungrouped", "dc0", "dc1", "dc2", "dc3", "dc4"]
        ),
    )
    return directory / "latest.json"


def plugins_present() -> dict[str, bool]:
    return {
        "groups": (ROOT / "plugins" / "inventory" / "groups.py").exists(),
        "lookup": (ROOT / "plugins" / "lookup" / "limit.py").exists(),
    }


def prepare(workdir: Path, hosts: int, inventory: str = "yaml") -> dict[str, list[str]]:
    """Write the inventory (``inventory.yml``, or ``inventory.json`` for ``json``), playbooks and manifests;
    returns the command of each path."""
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    if inventory == "json":
        inventory_file = "inventory.json"
        write_json_inventory(workdir / inventory_file, hosts)
    else:
        inventory_file = "inventory.yml"
        write_inventory(workdir / inventory_file, hosts)
    (workdir / "site.yml").write_text("- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.builtin.ping:\n")
    plain = publish_manifest(workdir / "plain" / "site", hosts, with_renames=False)
    renamed = publish_manifest(workdir / "renamed" / "site", hosts, with_renames=True)
    hosts_line = f"- hosts: \"{{{{ lookup('relaunch.status.limit', 'failed', manifest='{renamed}') }}}}\"\n"
    (workdir / "lookup.yml").write_text(hosts_line + "  gather_facts: false\n  tasks:\n    - ansible.builtin.ping:\n")
    (workdir / "relaunch.yml").write_text(f"plugin: relaunch.status.groups\nmanifest: {renamed}\n")
    recorded_failed = [
        host["name"] for host in store.reading.load(str(renamed))["hosts"] if "failed" in host["statuses"]
    ]
    (workdir / "stale.retry").write_text("".join(name + "\n" for name in recorded_failed))
    base = ["ansible-playbook", "--list-hosts", "-i", inventory_file]
    commands = {
        "none": [*base, "site.yml"],
        "limit_file": [*base, "site.yml", "--limit", f"@{plain.parent / 'failed.limit'}"],
        "naive_file": [*base, "site.yml", "--limit", "@stale.retry"],
    }
    present = plugins_present()
    if present["groups"]:
        commands["groups"] = [*base, "-i", "relaunch.yml", "site.yml", "--limit", "relaunch_failed"]
    if present["lookup"]:
        commands["lookup"] = [*base, "lookup.yml"]
    inline = ",".join(recorded_failed)
    if len(inline.encode()) < ARG_MAX:
        commands["naive_list"] = [*base, "site.yml", "--limit", inline]
    return commands


def rotating_orders(arms: list, repeats: int, rng: random.Random) -> list[list]:
    """The order of each round: one seeded shuffle of ``arms``, rotated by one place every round."""
    base = list(arms)
    rng.shuffle(base)
    return [base[turn % len(base) :] + base[: turn % len(base)] for turn in range(repeats)]


def run(
    sizes: list[int],
    repeats: int,
    workroot: Path,
    cores: dict[str, Path],
    paths: list[str] | None = None,
    seed: int = 3,
    inventories: list[str] | None = None,
) -> dict:
    """Every path of every ansible-core line in turns, in an order that rotates every round; each against no limit
    of its own line and round. Each inventory setting of ``inventories`` (default: json, then yaml) is measured
    in rounds of its own."""
    rng = random.Random(seed)
    results = []
    notes = []
    present = plugins_present()
    for name, found in present.items():
        if not found:
            notes.append(f"{name}: plugin not present in this checkout, not measured")
    for hosts in sizes:
        for inventory in inventories or INVENTORIES:
            entry = _measure(workroot / f"selection-{hosts}-{inventory}", hosts, inventory, repeats, cores, paths, rng)
            results.append(entry)
            for core, per_core in entry["cores"].items():
                text = ", ".join(
                    f"{name} {path['wall_s']:.2f} s (wall x{path['wall_ratio']:.3f}, CPU x{path['cpu_ratio']:.3f})"
                    for name, path in per_core["paths"].items()
                )
                print(f"  selection {hosts} hosts, {inventory} inventory, ansible-core {core}: {text}", flush=True)
    return {"sizes": results, "notes": notes}


def _measure(
    workdir: Path,
    hosts: int,
    inventory: str,
    repeats: int,
    cores: dict[str, Path],
    paths: list[str] | None,
    rng: random.Random,
) -> dict:
    """The rounds of one size and inventory setting: every path of every line, paired with ``none``."""
    commands = prepare(workdir, hosts, inventory)
    if paths:
        commands = {name: command for name, command in commands.items() if name == "none" or name in paths}
    envs = {
        core: ansible_env(
            workdir,
            bin_dir,
            {
                "ANSIBLE_CALLBACKS_ENABLED": "relaunch.status.manifest",
                "ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED": "1",
            },
        )
        for core, bin_dir in cores.items()
    }
    load_before = load_average()
    samples: dict[tuple[str, str], list[tuple[float, float]]] = {
        (core, name): [] for core in cores for name in commands
    }
    for order in rotating_orders(list(samples), repeats, rng):
        for core, name in order:
            command = commands[name]
            samples[(core, name)].append(timed([str(cores[core] / command[0]), *command[1:]], workdir, envs[core]))
    entry: dict = {
        "hosts": hosts,
        "inventory": inventory,
        "failed": hosts // 2 + hosts % 2,
        "renamed": len(renamed_indexes(hosts)),
        "repeats": repeats,
        "load_average": [load_before, load_average()],
        "cores": {core: {"paths": {}} for core in cores},
    }
    for (core, name), values in samples.items():
        entry["cores"][core]["paths"][name] = ratio_stats(values, samples[(core, "none")])
    if "naive_list" not in commands and (not paths or "naive_list" in paths):
        entry["naive_list_note"] = f"{entry['failed']} names do not fit in one {ARG_MAX}-byte command-line argument"
    shutil.rmtree(workdir, ignore_errors=True)
    return entry
