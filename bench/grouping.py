# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What failure grouping adds to the end of a run in which 20,000 hosts failed.

The end of a run is the callback's work in ``v2_playbook_on_stats``: the stats event journalled and applied,
the recorder's snapshot, the run's manifest, limit files and latest.json published
(``PlaybookRun.finish``), and the relaunch summary printed. Failures are grouped three times in it: for the
run's manifest (``recorder.failure_groups``), for the rollout state when the run continues a rollout
(``store/rollout.py``), and for the summary's lines (``summary.failure_lines``).

Each round runs the same end of run twice, in rotating order: as it is, and with those three replaced by
nothing (no groups, no lines). Before the first, the grouping module is imported afresh and the regular
expression cache emptied, since every ansible-playbook process compiles its patterns once. The run before the
end (its start, hosts, play and a result per host, through the journal) is not timed. Two cases:

- ``first``: the run starts a rollout, in a run directory of its own (grouped twice);
- ``relaunch``: a run with ``--limit`` after a run in which the same hosts failed, so it continues that
  rollout (grouped three times).

The recorder masks each host's first failure as it records it (``recorder.mask_early``), while hosts run, so
that the end of the run finds the masked messages made: the arm without grouping does not mask them either, and
that cost, moved from the end of the run into the run, is measured on its own: ``Recorder.apply`` of a run's
results with and without it, in rotating order (``recording``, the CPU time added per failed result).

Figures: CPU time (user + system, of this process) and wall-clock time of each arm, the ratio of the arm with
grouping to the arm without in each round (median, spread, 95% confidence interval), the time spent in the
grouping functions themselves at the end and in the masking while results were recorded.
``python -m bench.grouping [--hosts N] [--rounds N]`` prints them as JSON; ``bench --only grouping`` adds them to
results.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from .common import ensure_collection, load_average, median, ratio_stats, record_run

ensure_collection()

from ansible_collections.relaunch.status.plugins.plugin_utils._core import recorder, store, summary  # noqa: E402
from ansible_collections.relaunch.status.plugins.plugin_utils._core.run import PlaybookRun  # noqa: E402

FAILURES_MODULE = "ansible_collections.relaunch.status.plugins.plugin_utils._core.failures"
CASES = ("first", "relaunch")
KEEP = 20
# What a failed host says, as real runs say it: its name, addresses, numbers, paths and times vary.
TEMPLATES = (
    ("unreachable", "Failed to connect to the host via ssh: ssh: connect to host {name} port 22: Connection timed out"),
    ("failed", "Timeout ({seconds}s) waiting for privilege escalation prompt on {ip}"),
    (
        "failed",
        "non-zero return code: E: Unable to locate package web-{package}; "
        "see /tmp/ansible-tmp-{stamp}-{pid}-{token}/AnsiballZ_command.py",
    ),
    ("failed", "disk full on /var of {name}: {percent}% used, {free}G free"),
    ("failed", "HTTP Error 503: Service Unavailable at https://repo.example.org/{digest} ({time})"),
)


def failures(hosts: int, seed: int = 21) -> tuple[list[str], list[tuple[str, str]]]:
    """The names of ``hosts`` hosts, and the outcome and message of each: every one failed or unreachable."""
    chance = random.Random(seed)
    names = [f"web{index:05d}.dc{index % 4}.example.org" for index in range(hosts)]
    results = []
    for index, name in enumerate(names):
        outcome, template = TEMPLATES[chance.randrange(len(TEMPLATES))]
        message = template.format(
            name=name,
            ip=f"10.{index >> 16 & 255}.{index >> 8 & 255}.{index & 255}",
            seconds=chance.choice((10, 12, 30)),
            package=chance.randrange(40),
            stamp=f"{1764780000 + index}.{chance.randrange(10**6):06d}",
            pid=chance.randrange(1000, 60000),
            token=f"{chance.getrandbits(48):012x}",
            percent=chance.randrange(95, 100),
            free=chance.randrange(1, 9),
            digest=f"{chance.getrandbits(64):016x}",
            time=f"2026-12-03T17:{index // 60 % 60:02d}:{index % 60:02d}Z",
        )
        results.append((outcome, message))
    return names, results


class Grouping:
    """The three grouping calls of the end of a run, and the masking of each failure as it is recorded
    (``recorder.mask_early``): timed, or replaced by nothing."""

    def __init__(self) -> None:
        self.seconds = 0.0  # CPU time spent in the grouping calls since the last reset
        self.calls = 0
        self.run_seconds = 0.0  # CPU time spent masking failures as they were recorded, since the last reset
        self._saved = (
            recorder.failure_groups,
            store.rollout.failure_groups,
            summary.failure_lines,
            recorder.mask_early,
        )

    def _timed(self, function):
        def timed(*args):
            begin = time.process_time()
            try:
                return function(*args)
            finally:
                self.seconds += time.process_time() - begin
                self.calls += 1

        return timed

    def _timed_in_run(self, function):
        def timed(*args):
            begin = time.process_time()
            try:
                return function(*args)
            finally:
                self.run_seconds += time.process_time() - begin

        return timed

    @staticmethod
    def fresh() -> None:
        """As a new ansible-playbook process: the grouping module imported at the first failure, its patterns
        compiled then, its memo of masked messages empty (and every other pattern compiled afresh, in both arms'
        processes alike)."""
        sys.modules.pop(FAILURES_MODULE, None)
        re.purge()

    def reset(self) -> None:
        self.seconds, self.calls, self.run_seconds = 0.0, 0, 0.0

    @contextlib.contextmanager
    def on(self) -> Iterator[None]:
        groups, rollout_groups, lines, mask_early = self._saved
        recorder.failure_groups = self._timed(groups)
        store.rollout.failure_groups = self._timed(rollout_groups)
        summary.failure_lines = self._timed(lines)
        recorder.mask_early = self._timed_in_run(mask_early)
        try:
            yield
        finally:
            self.restore()

    @contextlib.contextmanager
    def off(self) -> Iterator[None]:
        recorder.failure_groups = store.rollout.failure_groups = lambda rows: []
        summary.failure_lines = lambda *args, **kwargs: []
        recorder.mask_early = lambda message, words: None
        try:
            yield
        finally:
            self.restore()

    def restore(self) -> None:
        recorder.failure_groups, store.rollout.failure_groups, summary.failure_lines, recorder.mask_early = self._saved


def recorded_run(
    root: Path, names: list[str], results: list[tuple[str, str]], limit: str = ""
) -> tuple[PlaybookRun, dict]:
    """A run of ``names`` up to its end, journalled as the callback journals it; and its stats event."""
    playbook = str(root / "site.yml")
    directory = store.layout.claim_run_directory(str(root / ".relaunch"), playbook)
    run_id = store.layout.new_run_id()
    run = PlaybookRun(directory, playbook, run_id, store.journal.Journal(directory, run_id))
    record_run(run.emit, names, results, run_id=run_id, started=store.layout.utc_now(), playbook=playbook, limit=limit)
    stats = {"e": "stats", "hosts": {}}
    for name, (outcome, _message) in zip(names, results):
        counters = dict.fromkeys(recorder.COUNTERS, 0)
        counters["unreachable" if outcome == "unreachable" else "failures"] = 1
        stats["hosts"][name] = counters
    return run, stats


def end_of_run(run: PlaybookRun, stats: dict, groups: list[str]) -> tuple[float, float, str]:
    """(wall, CPU) seconds of the callback's end of the run, and the summary it prints."""
    begin_cpu, begin = time.process_time(), time.perf_counter()
    run.emit(stats)
    snapshot, warning = run.finish(True, KEEP, groups, None)
    if snapshot is None:
        raise RuntimeError(f"the run was not published: {warning}")
    text = summary.relaunch_summary(snapshot.head, snapshot.hosts("failed"), run.directory, None)
    return time.perf_counter() - begin, time.process_time() - begin_cpu, text


def one_end(workroot: Path, case: str, names: list[str], results: list[tuple[str, str]], grouping: Grouping, arm: str):
    """(wall, CPU) seconds of one end of run of ``case``, with grouping on or off (``arm``), in a fresh project;
    and the summary it printed. ``grouping`` counts the time of the timed run's grouping calls only: at its end
    (``seconds``) and while its results were recorded (``run_seconds``)."""
    root = workroot / "grouping-project"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    (root / "site.yml").write_text("- hosts: all\n  tasks: []\n")
    switch = grouping.on if arm == "grouping" else grouping.off
    limit = ""
    with switch():
        if case == "relaunch":  # the run before, in a process of its own: the same hosts failed, the rollout starts
            grouping.fresh()
            before, before_stats = recorded_run(root, names, results)
            end_of_run(before, before_stats, ["all"])
            limit = "@.relaunch/site/failed.limit"
        grouping.fresh()
        grouping.reset()
        run, stats = recorded_run(root, names, results, limit)
        return end_of_run(run, stats, ["all"])


def recording_cost(names: list[str], results: list[tuple[str, str]], grouping: Grouping, rounds: int) -> dict:
    """CPU seconds per failed result of recording a run's results (``Recorder.apply``), with each first failure
    masked as it is recorded and without (``recorder.mask_early`` replaced by nothing), in rotating order, each
    time in a fresh recorder and, masking, with the grouping module imported afresh at the first failure."""
    events = []
    record_run(events.append, names, results, run_id="r", started="s")
    samples: dict[str, list[float]] = {"masking": [], "plain": []}
    for number in range(rounds):
        for arm in ("masking", "plain") if number % 2 == 0 else ("plain", "masking"):
            rec = recorder.Recorder()
            switch = grouping.on if arm == "masking" else grouping.off
            with switch():
                grouping.fresh()
                begin = time.process_time()
                for event in events:
                    rec.apply(event)
                samples[arm].append(time.process_time() - begin)
    failed = sum(1 for outcome, _message in results if outcome in ("failed", "unreachable"))
    masking, plain = median(samples["masking"]), median(samples["plain"])
    return {
        "results": len(results),
        "failed_results": failed,
        "cpu_s_masking": round(masking, 4),
        "cpu_s_plain": round(plain, 4),
        "us_per_failed_result_masking": round(masking / failed * 1e6, 2),
        "us_per_failed_result_plain": round(plain / failed * 1e6, 2),
        "us_added_per_failed_result": round((masking - plain) / failed * 1e6, 2),
        "masking_samples": [round(value, 4) for value in samples["masking"]],
        "plain_samples": [round(value, 4) for value in samples["plain"]],
    }


def run(workroot: Path, hosts: int = 20000, rounds: int = 5, cases: tuple[str, ...] = CASES) -> dict:
    """Both arms of every case in each round, in rotating order."""
    names, results = failures(hosts)
    grouping = Grouping()
    figures: dict = {"hosts": hosts, "rounds": rounds, "load_average": [load_average()], "cases": {}}
    for case in cases:
        samples: dict[str, list[tuple[float, float]]] = {"grouping": [], "no_grouping": []}
        spent = []
        in_run = []
        calls = lines = 0
        for number in range(rounds):
            order = ["grouping", "no_grouping"] if number % 2 == 0 else ["no_grouping", "grouping"]
            for arm in order:
                wall, cpu, text = one_end(workroot, case, names, results, grouping, arm)
                samples[arm].append((wall, cpu))
                if arm == "grouping":
                    spent.append(grouping.seconds)
                    in_run.append(grouping.run_seconds)
                    calls = grouping.calls
                    lines = len(text.splitlines())
        stats = ratio_stats(samples["grouping"], samples["no_grouping"])
        figures["cases"][case] = {
            "with_grouping": {"wall_s": stats["wall_s"], "cpu_s": stats["cpu_s"]},
            "without_grouping": {
                "wall_s": median([wall for wall, _cpu in samples["no_grouping"]]),
                "cpu_s": median([cpu for _wall, cpu in samples["no_grouping"]]),
            },
            "grouping_cpu_s": round(median(spent), 4),
            "grouping_calls": calls,
            "masking_in_run_cpu_s": round(median(in_run), 4),
            "summary_lines": lines,
            **{key: stats[key] for key in stats if "ratio" in key or key.endswith("samples")},
            "no_grouping_cpu_samples": [round(cpu, 4) for _wall, cpu in samples["no_grouping"]],
            "no_grouping_wall_samples": [round(wall, 4) for wall, _cpu in samples["no_grouping"]],
        }
        entry = figures["cases"][case]
        print(
            f"  grouping, {case} run, {hosts} failed hosts: CPU x{entry['cpu_ratio']:.3f} {entry['cpu_ratio_ci']}, "
            f"wall x{entry['wall_ratio']:.3f} {entry['wall_ratio_ci']}; grouping itself {entry['grouping_cpu_s']} s "
            f"of {entry['with_grouping']['cpu_s']:.2f} s CPU; masking while results were recorded "
            f"{entry['masking_in_run_cpu_s']} s",
            flush=True,
        )
    cost = figures["recording"] = recording_cost(names, results, grouping, rounds)
    print(
        f"  grouping, while results are recorded: {cost['us_added_per_failed_result']} us more per failed result "
        f"({cost['us_per_failed_result_plain']} us without masking)",
        flush=True,
    )
    shutil.rmtree(workroot / "grouping-project", ignore_errors=True)
    figures["load_average"].append(load_average())
    figures["target"] = 1.02
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.grouping", description=__doc__)
    parser.add_argument("--hosts", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--cases", default=",".join(CASES), help="first, relaunch (default: both)")
    args = parser.parse_args(argv)
    cases = tuple(case.strip() for case in args.cases.split(",") if case.strip())
    with tempfile.TemporaryDirectory(prefix="relaunch-grouping-bench-") as tmp:
        print(json.dumps(run(Path(tmp), args.hosts, args.rounds, cases), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
