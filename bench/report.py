# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tables (Markdown) and the plot (PNG) of a results.json."""

from __future__ import annotations

from pathlib import Path

TARGETS = {
    "overhead_ratio": 1.02,
    "events_s_for_2m": 5.0,
    "manifest_write_s": 1.0,
    "bytes_per_host": 1024,
    "selection_ratio": 1.10,
}


def _met(ok: bool) -> str:
    return "met" if ok else "**missed**"


def _verdict(stats: dict, kind: str, limit: float) -> str:
    """Met or missed as the 95% confidence interval of the median ratio says; "not resolved" when it
    straddles the limit."""
    interval = stats.get(f"{kind}_ratio_ci") or []
    if len(interval) != 2:
        return _met(stats[f"{kind}_ratio"] <= limit)
    if interval[1] <= limit:
        return "met"
    if interval[0] > limit:
        return "**missed**"
    return "not resolved" + (" (median met)" if stats[f"{kind}_ratio"] <= limit else " (median **missed**)")


def _lines(sizes: list[dict]) -> list[str]:
    """The ansible-core lines measured, in the order first seen."""
    lines: list[str] = []
    for entry in sizes:
        lines += [line for line in entry["cores"] if line not in lines]
    return lines


def _ratio(stats: dict, kind: str) -> str:
    low_high = stats.get(f"{kind}_ratio_spread") or []
    around = f" ({low_high[0]:.3f}-{low_high[1]:.3f})" if len(low_high) == 2 and stats.get("runs", 2) != 1 else ""
    interval = stats.get(f"{kind}_ratio_ci") or []
    if len(interval) == 2:
        around += f" [95% CI {interval[0]:.3f}-{interval[1]:.3f}]"
    return f"x{stats[f'{kind}_ratio']:.3f}{around}"


def _load(entry: dict) -> str:
    before_after = entry.get("load_average") or []
    return " → ".join(f"{load[0]:.1f}" for load in before_after if load) or "n/a"


def markdown(results: dict) -> str:
    out = []
    machine = results["machine"]
    out.append(
        f"Machine: {machine['cpus']} cores ({machine['cpu_model']}), "
        f"Python {machine['python']}, ansible-core {machine['ansible_core']}."
    )
    out.append("")
    cores = results.get("cores") or {}
    if cores:
        out.append(
            "ansible-core side by side: "
            + "; ".join(f"{line}: {v['ansible_core']} on Python {v['python']}" for line, v in cores.items())
            + "."
        )
        out.append("")
    overhead = results.get("overhead")
    if overhead:
        out.append(f"### Callback overhead ({overhead['tasks']} debug tasks per host, local connection, no facts)")
        out.append("")
        lines = _lines(overhead["sizes"])
        out.append(
            "Ratios of the `relaunch` arm to `none` of the same ansible-core and round: "
            "median (lowest-highest) [95% confidence interval of the median]."
        )
        out.append("")
        out.append(
            "| hosts | rounds | "
            + " | ".join(f"{line} CPU ratio | {line} wall ratio" for line in lines)
            + " | load average (1 min) |"
        )
        out.append("| ---: | ---: | " + " | ".join("---: | ---:" for _line in lines) + " | ---: |")
        for entry in overhead["sizes"]:
            cells = []
            for line in lines:
                arm = entry["cores"].get(line, {}).get("arms", {}).get("relaunch")
                cells += [_ratio(arm, "cpu"), _ratio(arm, "wall")] if arm else ["n/a", "n/a"]
            out.append(f"| {entry['hosts']} | {entry['rounds']} | " + " | ".join(cells) + f" | {_load(entry)} |")
        out.append("")
        out.append(
            "| hosts | ansible-core | arm | runs | wall s (median) | wall ratio "
            "| CPU s (median) | CPU ratio | ms CPU per host-task over none |"
        )
        out.append("| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for entry in overhead["sizes"]:
            for line, per_core in entry["cores"].items():
                base = per_core["arms"]["none"]["cpu_s"]
                for name, arm in per_core["arms"].items():
                    extra = (arm["cpu_s"] - base) / (entry["hosts"] * entry["tasks"]) * 1000
                    out.append(
                        f"| {entry['hosts']} | {line} | {name} | {arm['runs']} "
                        f"| {arm['wall_s']:.2f} | {arm['wall_ratio']:.3f} "
                        f"| {arm['cpu_s']:.2f} | {arm['cpu_ratio']:.3f} | {extra:+.3f} |"
                    )
        if overhead.get("ara_note"):
            out.append("")
            out.append(f"ARA: {overhead['ara_note']}")
        out.append("")
    core = results.get("core")
    if core:
        out.append(f"### Recorder core ({core['tasks']} tasks per host; CPU time)")
        out.append("")
        out.append(
            "| hosts | events | apply s | events/s | ns/event | x dict-counter loop "
            "| manifest build+write s | µs/host | x json.dumps+write | limit files s | with limit files s |"
        )
        out.append("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for s in core["speed"]:
            out.append(
                f"| {s['hosts']:,} | {s['events']:,} | {s['apply_s']:.2f} "
                f"| {s['events_per_s']:,.0f} | {s['ns_per_event']:.0f} "
                f"| {s['apply_vs_baseline']:.2f} | {s['manifest_write_s']:.2f} | {s['us_per_host_manifest']:.1f} "
                f"| {s['manifest_vs_dumps']:.2f} | {s['limit_files_s']:.2f} | {s['total_write_s']:.2f} |"
            )
        if core["memory"]:
            out.append("")
            out.append(
                "| hosts | recorder state B/host | peak while recording B/host "
                "| peak while building and writing B/host |"
            )
            out.append("| ---: | ---: | ---: | ---: |")
            for m in core["memory"]:
                out.append(
                    f"| {m['hosts']:,} | {m['recorder_bytes_per_host']:.0f} "
                    f"| {m['record_peak_bytes_per_host']:.0f} | {m['write_peak_bytes_per_host']:.0f} |"
                )
        out.append("")
    selection = results.get("selection")
    if selection:
        out.append(
            "### Relaunch selection (`ansible-playbook --list-hosts`, half the hosts failed, 10% of those renamed)"
        )
        out.append("")
        lines = _lines(selection["sizes"])
        out.append(
            "Ratios to `none` (no limit) of the same ansible-core and round: "
            "median (lowest-highest); `none` in seconds."
        )
        out.append("")
        out.append(
            "| hosts | inventory | path | rounds | "
            + " | ".join(f"{line} CPU ratio | {line} wall ratio" for line in lines)
            + " | load average (1 min) |"
        )
        out.append("| ---: | --- | --- | ---: | " + " | ".join("---: | ---:" for _line in lines) + " | ---: |")
        for entry in selection["sizes"]:
            names = []
            for per_core in entry["cores"].values():
                names += [name for name in per_core["paths"] if name not in names]
            for name in names:
                cells = []
                for line in lines:
                    path = entry["cores"].get(line, {}).get("paths", {}).get(name)
                    if path is None:
                        cells += ["n/a", "n/a"]
                    elif name == "none":
                        cells += [f"{path['cpu_s']:.2f} s", f"{path['wall_s']:.2f} s"]
                    else:
                        cells += [_ratio(path, "cpu"), _ratio(path, "wall")]
                out.append(
                    f"| {entry['hosts']:,} | {entry.get('inventory', 'yaml')} | {name} | {entry['repeats']} | "
                    + " | ".join(cells)
                    + f" | {_load(entry)} |"
                )
        for entry in selection["sizes"]:
            if entry.get("naive_list_note"):
                out.append("")
                out.append(
                    f"{entry['hosts']:,} hosts, {entry.get('inventory', 'yaml')} inventory: naive_list not measured: "
                    f"{entry['naive_list_note']}"
                )
        for note in selection.get("notes", []):
            out.append("")
            out.append(f"Note: {note}")
        out.append("")
    out.append("### Targets")
    out.append("")
    out += [f"- {line}" for line in targets(results)]
    return "\n".join(out) + "\n"


def targets(results: dict) -> list[str]:
    lines = []
    overhead = results.get("overhead")
    if overhead:
        limit = TARGETS["overhead_ratio"]
        for entry in overhead["sizes"]:
            for line, per_core in entry["cores"].items():
                arm = per_core["arms"]["relaunch"]
                lines.append(
                    f"callback overhead, {entry['hosts']} hosts, ansible-core {line}: "
                    f"CPU {_ratio(arm, 'cpu')}, wall {_ratio(arm, 'wall')} "
                    f"(target <= {limit}): {_verdict(arm, 'cpu', limit)} on CPU, "
                    f"{_verdict(arm, 'wall', limit)} on wall"
                )
    core = results.get("core")
    if core and core["speed"]:
        big = max(core["speed"], key=lambda s: s["hosts"])
        two_million = 2_000_000 / big["events_per_s"]
        lines.append(
            f"2 million events through the recorder: {two_million:.2f} s (target < 5 s): "
            f"{_met(two_million < TARGETS['events_s_for_2m'])}"
        )
        lines.append(
            f"{big['hosts']:,}-host manifest built and written: {big['manifest_write_s']:.2f} s (target < 1 s): "
            f"{_met(big['manifest_write_s'] < 1)}; "
            f"with its {len(big['limit_files'])} limit files: {big['total_write_s']:.2f} s: "
            f"{_met(big['total_write_s'] < 1)}"
        )
    if core and core["memory"]:
        big = max(core["memory"], key=lambda m: m["hosts"])
        lines.append(
            f"memory at {big['hosts']:,} hosts: recorder state {big['recorder_bytes_per_host']:.0f} B/host, "
            f"peak while recording {big['record_peak_bytes_per_host']:.0f} B/host (target < 1 KiB): "
            f"{_met(big['record_peak_bytes_per_host'] < 1024)}; "
            f"peak while building and writing the manifest {big['write_peak_bytes_per_host']:.0f} B/host: "
            f"{_met(big['write_peak_bytes_per_host'] < 1024)}"
        )
    selection = results.get("selection")
    if selection:
        limit = TARGETS["selection_ratio"]
        for entry in selection["sizes"]:
            for line, per_core in entry["cores"].items():
                for name in ("groups", "lookup"):
                    path = per_core["paths"].get(name)
                    if path:
                        lines.append(
                            f"selection, {entry['hosts']:,} hosts, {entry.get('inventory', 'yaml')} inventory, "
                            f"ansible-core {line}, {name}: "
                            f"wall x{path['wall_ratio']:.3f}, CPU x{path['cpu_ratio']:.3f} "
                            f"(target <= {limit} on wall): {_met(path['wall_ratio'] <= limit)}"
                        )
    return lines


def plot(results: dict, path: Path) -> bool:
    """Each cost against the number of hosts; False when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, axes = plt.subplots(2, 2, figsize=(12, 9))
    ax = axes[0][0]
    overhead = results.get("overhead")
    if overhead:
        arms = sorted(
            {
                (line, name)
                for entry in overhead["sizes"]
                for line, per_core in entry["cores"].items()
                for name in per_core["arms"]
            }
        )
        for line, name in arms:
            points = [
                (entry["hosts"], entry["cores"][line]["arms"][name]["cpu_s"])
                for entry in overhead["sizes"]
                if name in entry["cores"].get(line, {}).get("arms", {})
            ]
            ax.plot(*zip(*points), marker="o", label=f"{name} (ansible-core {line})")
        ax.set_title(f"ansible-playbook, {overhead['tasks']} debug tasks: CPU s per run")
        ax.set_xlabel("hosts")
        ax.set_ylabel("CPU seconds (median)")
        ax.legend()
    ax = axes[0][1]
    core = results.get("core")
    if core:
        hosts = [s["hosts"] for s in core["speed"]]
        ax.plot(
            hosts,
            [s["apply_s"] for s in core["speed"]],
            marker="o",
            label=f"Recorder.apply ({core['tasks']} events/host)",
        )
        ax.plot(
            hosts,
            [s["baseline_apply_s"] for s in core["speed"]],
            marker="o",
            linestyle="--",
            label="dict-counter loop (baseline)",
        )
        ax.plot(hosts, [s["manifest_write_s"] for s in core["speed"]], marker="s", label="manifest built + written")
        ax.plot(hosts, [s["total_write_s"] for s in core["speed"]], marker="s", label="... with limit files")
        ax.plot(
            hosts,
            [s["baseline_dumps_s"] for s in core["speed"]],
            marker="s",
            linestyle="--",
            label="json.dumps + write (baseline)",
        )
        ax.set_title("recorder core: CPU s")
        ax.set_xlabel("hosts")
        ax.set_ylabel("CPU seconds")
        ax.legend(fontsize=8)
    ax = axes[1][0]
    if core and core["memory"]:
        hosts = [m["hosts"] for m in core["memory"]]
        ax.plot(hosts, [m["recorder_bytes_per_host"] for m in core["memory"]], marker="o", label="recorder state")
        ax.plot(
            hosts, [m["record_peak_bytes_per_host"] for m in core["memory"]], marker="o", label="peak while recording"
        )
        ax.plot(
            hosts,
            [m["write_peak_bytes_per_host"] for m in core["memory"]],
            marker="s",
            label="peak while building + writing",
        )
        ax.axhline(1024, color="grey", linestyle=":", label="1 KiB")
        ax.set_title("recorder core: bytes per host (tracemalloc)")
        ax.set_xlabel("hosts")
        ax.set_ylabel("bytes per host")
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=8)
    ax = axes[1][1]
    selection = results.get("selection")
    if selection:
        paths = sorted(
            {
                (entry.get("inventory", "yaml"), line, name)
                for entry in selection["sizes"]
                for line, per_core in entry["cores"].items()
                for name in per_core["paths"]
            }
        )
        for inventory, line, name in paths:
            points = [
                (entry["hosts"], entry["cores"][line]["paths"][name]["cpu_s"])
                for entry in selection["sizes"]
                if entry.get("inventory", "yaml") == inventory and name in entry["cores"].get(line, {}).get("paths", {})
            ]
            ax.plot(
                *zip(*points),
                marker="o",
                label=f"{name} ({line}, {inventory})",
                linestyle="--" if name.startswith("naive") else "-",
            )
        ax.set_title("ansible-playbook --list-hosts: CPU s")
        ax.set_xlabel("hosts")
        ax.set_ylabel("CPU seconds (median)")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return True
