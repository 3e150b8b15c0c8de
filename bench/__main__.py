# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run the benchmarks; ``bench/run`` sets up what they need, then calls this.

Results: ``<out>/results.json``, ``<out>/results.md`` (tables, targets) and ``<out>/performance.png``.
Each ansible-playbook benchmark runs every ansible-core line of ``--cores`` side by side, in shuffled
turns, each against its own runs without callback or limit.
"""

from __future__ import annotations

import argparse
import datetime
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from . import command, core, grouping, overhead, report, report_size, selection
from .common import CORES, ROOT, core_versions, ensure_cores, load_average, machine, main_core


def _sizes(text: str) -> list[int]:
    return [int(item) for item in text.split(",") if item.strip()]


def _names(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench", description=__doc__)
    parser.add_argument(
        "--out",
        type=Path,
        default=ROOT / "bench" / "results",
        help="directory for results.json, results.md, performance.png",
    )
    parser.add_argument(
        "--only",
        help="comma-separated parts to run: overhead, core, selection, command, report, grouping "
        "(default: overhead,core,selection; with --quick: overhead,selection)",
    )
    parser.add_argument(
        "--cores", type=_names, default=list(CORES), help="ansible-core lines side by side (default: %(default)s)"
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="tiny sizes, one round, no ARA, the main venv's ansible-core only: checks that the harness runs",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=(
            "the figures the targets are about: overhead at 30, 60, 120 hosts "
            "and selection (none, groups, lookup) at 20,000, no ARA"
        ),
    )
    parser.add_argument("--overhead-sizes", type=_sizes, default=[30, 60, 120])
    parser.add_argument("--overhead-tasks", type=int, default=5)
    parser.add_argument("--command-hosts", type=int, default=30, help="hosts of the ansible-relaunch run benchmark")
    parser.add_argument("--rounds", type=int, default=5, help="A/B rounds per overhead size")
    parser.add_argument("--ara-sizes", type=_sizes, default=[60], help="overhead sizes that also run ARA (it is slow)")
    parser.add_argument("--ara-rounds", type=int, default=3)
    parser.add_argument("--no-ara", action="store_true")
    parser.add_argument("--core-sizes", type=_sizes, default=[10000, 30000, 100000])
    parser.add_argument("--core-tasks", type=int, default=20)
    parser.add_argument("--memory-sizes", type=_sizes, default=[10000, 100000])
    parser.add_argument("--selection-sizes", type=_sizes, default=[1000, 5000, 20000, 50000])
    parser.add_argument("--selection-paths", type=_names, help="selection paths to run beside none (default: all)")
    parser.add_argument(
        "--selection-inventory",
        type=_names,
        default=list(selection.INVENTORIES),
        help="inventory settings of the selection, each in rounds of its own: json (one JSON file, parsed fast: "
        "the strict setting) and yaml (default: %(default)s)",
    )
    parser.add_argument("--repeats", type=int, default=3, help="rounds per selection size")
    parser.add_argument("--report-hosts", type=int, default=20000, help="hosts of each kept run the report reads")
    parser.add_argument("--report-runs", type=int, default=20, help="kept runs the report reads")
    parser.add_argument("--report-rounds", type=int, default=3, help="times the report command is run")
    parser.add_argument("--grouping-hosts", type=int, default=20000, help="failed hosts at the end of the run")
    parser.add_argument("--grouping-rounds", type=int, default=7, help="A/B rounds of the end of a run")
    parser.add_argument(
        "--merge",
        type=Path,
        nargs="+",
        metavar="RESULTS_JSON",
        help="combine the parts of earlier runs into one report, run nothing",
    )
    args = parser.parse_args(argv)
    if args.merge:
        return merge(args.merge, args.out)
    if args.smoke:
        args.overhead_sizes, args.overhead_tasks, args.rounds, args.no_ara = [4], 2, 1, True
        args.core_sizes, args.core_tasks, args.memory_sizes = [200, 400], 3, [200]
        args.selection_sizes, args.repeats = [20], 1
        args.cores = [main_core()]
        args.command_hosts = 4
        args.report_hosts, args.report_runs, args.report_rounds = 50, 3, 1
        args.grouping_hosts, args.grouping_rounds = 50, 1
    if args.quick:
        args.overhead_sizes, args.rounds, args.no_ara = [30, 60, 120], 7, True
        args.selection_sizes, args.selection_paths, args.repeats = [20000], ["groups", "lookup"], 5
        args.only = args.only or "overhead,selection"
    if args.no_ara:
        args.ara_sizes = []
    parts = set(_names(args.only or "overhead,core,selection"))
    cores = ensure_cores(args.cores) if parts & {"overhead", "selection"} else {}
    args.out.mkdir(parents=True, exist_ok=True)
    results: dict = {
        "started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
        "cores": core_versions(cores),
        "argv": sys.argv[1:],
        "load_average_start": load_average(),
    }
    begin = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="relaunch-bench-") as tmp:
        workroot = Path(tmp)
        if "overhead" in parts:
            print("callback overhead", flush=True)
            ara_note = overhead.ensure_ara() if args.ara_sizes else None
            results["overhead"] = overhead.run(
                args.overhead_sizes,
                args.overhead_tasks,
                args.rounds,
                args.ara_rounds,
                args.ara_sizes,
                workroot,
                ara_note,
                cores,
            )
            _save(results, args.out)
        if "core" in parts:
            print("recorder core", flush=True)
            results["core"] = core.run(args.core_sizes, args.core_tasks, args.memory_sizes)
            _save(results, args.out)
        if "selection" in parts:
            print("relaunch selection", flush=True)
            results["selection"] = selection.run(
                args.selection_sizes,
                args.repeats,
                workroot,
                cores,
                args.selection_paths,
                inventories=args.selection_inventory,
            )
        if "command" in parts:
            print("ansible-relaunch run beside the same runs typed by hand", flush=True)
            results["command"] = command.run(args.command_hosts, args.overhead_tasks, args.rounds, workroot)
            _save(results, args.out)
        if "report" in parts:
            print(f"ansible-relaunch report at {args.report_hosts:,} hosts x {args.report_runs} runs", flush=True)
            results["report"] = report_size.run(workroot, args.report_hosts, args.report_runs, args.report_rounds)
            _save(results, args.out)
        if "grouping" in parts:
            print(f"failure grouping at the end of a run of {args.grouping_hosts:,} failed hosts", flush=True)
            results["grouping"] = grouping.run(workroot, args.grouping_hosts, args.grouping_rounds)
            _save(results, args.out)
        shutil.rmtree(workroot, ignore_errors=True)
    results["duration_s"] = round(time.perf_counter() - begin, 1)
    results["load_average_end"] = load_average()
    write(results, args.out)
    return 0


def _save(results: dict, out: Path) -> None:
    """Keep what is measured so far, should a long run be stopped."""
    (out / "results.json").write_text(json.dumps(results, indent=1) + "\n")


def write(results: dict, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    text = report.markdown(results)
    if results.get("report"):  # ansible-relaunch report's figures, one line (bench/report_size.py)
        figures = results["report"]
        text += (
            f"\nansible-relaunch report at {figures['hosts']:,} hosts x {figures['runs']} runs: command "
            f"{figures['command_s']} s ({figures['command_cpu_s']} s CPU, median of {figures.get('rounds', 1)}), "
            f"page {figures['html_mb']} MB, "
            f"rendered in {figures['render_s']} s (targets: 5 s, 10 MB, 3 s)\n"
        )
    if results.get("grouping"):  # what failure grouping adds to the end of a run (bench/grouping.py)
        figures = results["grouping"]
        for case, entry in figures["cases"].items():
            text += (
                f"\nfailure grouping at the end of a {case} run of {figures['hosts']:,} failed hosts: CPU "
                f"x{entry['cpu_ratio']:.3f} {entry['cpu_ratio_ci']}, wall x{entry['wall_ratio']:.3f} "
                f"{entry['wall_ratio_ci']} of the same end without grouping; grouping itself "
                f"{entry['grouping_cpu_s']} s of {entry['with_grouping']['cpu_s']:.2f} s CPU (target: x1.02)\n"
            )
    if results.get("command"):  # what ansible-relaunch run adds (bench/command.py)
        for case in ("clean", "retry"):
            entry = results["command"][case]
            text += (
                f"\nansible-relaunch run, {case}, {results['command']['hosts']} hosts: wall x{entry['wall_ratio']:.3f} "
                f"{entry['wall_ratio_ci']}, CPU x{entry['cpu_ratio']:.3f} {entry['cpu_ratio_ci']} "
                "of the same runs typed by hand\n"
            )
    (out / "results.md").write_text(text)
    plotted = report.plot(results, out / "performance.png")
    print(text)
    print(f"results in {out}" + ("" if plotted else " (no plot: matplotlib is not installed)"))


def merge(paths: list[Path], out: Path) -> int:
    """One report from parts run separately (for instance side by side, each in its own process)."""
    results: dict = {"parts": []}
    for path in paths:
        part = json.loads(path.read_text())
        results["parts"].append(
            {
                "file": str(path),
                "started": part.get("started"),
                "argv": part.get("argv"),
                "duration_s": part.get("duration_s"),
            }
        )
        for key, value in part.items():
            if key == "cores":
                results.setdefault("cores", {}).update(value)
            elif key in ("overhead", "core", "selection", "report", "grouping", "command", "machine"):
                results[key] = value
    write(results, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
