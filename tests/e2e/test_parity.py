# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Differential parity corpus: the manifest against ansible-core's own .retry file and PLAY RECAP.

Each scenario playbook under scenarios/ runs once, with .retry files and the
callback on. ansible-core is the oracle: the manifest's ``failed`` hosts must be
exactly the names of the .retry file it wrote for that playbook (no file: no
failed host), and the counter statuses must follow the recap's counters. A few
scenarios also pin ``all`` and ``not_run``, which have no ansible-core file to
compare with; those expectations hold on every supported ansible-core.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.runner import Run, ansible_playbook

SCENARIOS = Path(__file__).parent / "scenarios"
INVENTORY_HOSTS = {"web1", "web2", "web3", "db1", "db2", "app1", "app2", "app3", "dead"}
WEB = {"web1", "web2", "web3"}
DB = {"db1", "db2"}
APP = {"app1", "app2", "app3"}

# The recap's counter names, in the manifest's words.
RECAP = re.compile(
    r"^(?P<host>\S+)\s+:\s+ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)\s+failed=(?P<failures>\d+)"
    r"\s+skipped=(?P<skipped>\d+)\s+rescued=(?P<rescued>\d+)\s+ignored=(?P<ignored>\d+)",
    re.MULTILINE,
)
COUNTER_STATUSES = ("unreachable", "changed", "ok", "skipped", "rescued", "ignored")


@dataclass(frozen=True)
class Scenario:
    id: str
    playbooks: tuple[str, ...]
    args: tuple[str, ...] = ()
    # Exact host sets per playbook stem and status, where they do not depend on the ansible-core version.
    expect: dict[str, dict[str, set[str]]] = field(default_factory=dict)
    # Playbooks of the command line that must never start (an earlier one ended with failures).
    never_started: tuple[str, ...] = ()


def one(playbook: str, *args: str, **expect: set[str]) -> Scenario:
    stem = Path(playbook).stem
    return Scenario(
        stem if not args else f"{stem}[{' '.join(args)}]", (playbook,), tuple(args), {stem: expect} if expect else {}
    )


CORPUS = [
    one("plain_failure.yml", failed={"web1", "db2"}, all=WEB | DB, changed=(WEB | DB) - {"web1", "db2"}),
    one("unreachable.yml", failed={"dead"}, unreachable={"dead"}, all=WEB | {"dead"}),
    one("ignore_errors.yml", failed={"db1"}, ignored={"web1", "web2"}),
    one("ignore_errors_unreachable.yml", failed={"dead"}),
    one("ignore_unreachable.yml", failed={"web2"}, unreachable=set(), ignored={"dead"}),
    one("rescued.yml", failed={"db2"}, rescued={"web1", "db1"}),
    one("rescue_fails.yml", failed={"web1"}),
    one("always_fails.yml", failed={"web1", "db1"}),
    one("nested_blocks.yml", failed={"db1", "app2"}),
    one("clear_host_errors.yml", failed={"db2"}),
    one("clear_host_errors_unreachable.yml", failed=set()),
    one("clear_host_errors_when.yml", failed={"app1"}),
    one("clear_host_errors_later_play.yml", failed={"dead"}),
    # Clearing in the second batch does not clear the first batch's web1.
    one("clear_host_errors_serial.yml", failed={"web1"}),
    one("any_errors_fatal_play.yml", failed=WEB | DB),
    one("any_errors_fatal_task.yml", failed=WEB | DB),
    one("any_errors_fatal_rescue.yml"),
    one("any_errors_fatal_unreachable.yml", failed=WEB | {"dead"}),
    one("any_errors_fatal_serial.yml", all=WEB | DB | APP, not_run=DB | APP),
    # The later plays never start: the hosts of a plain pattern are not_run; a templated one is not resolved.
    one("any_errors_fatal_later_play.yml", failed=WEB, all=WEB | DB, not_run=DB),
    # 1 of 4 is not above 25%; 2 of 4 are, which fails the whole second batch and ends the play.
    one("max_fail_percentage.yml", failed={"web1", "db2", "app1", "app2", "app3"}, all=WEB | DB | APP, not_run=set()),
    one("max_fail_percentage_ok.yml", failed={"web1", "app3"}),
    # Every play host fails, which stops the playbook: the next play's hosts never ran.
    one("run_once.yml", failed=WEB | DB, all=WEB | DB | APP, not_run=APP),
    # Rescued on the host that ran it, yet ansible-core fails the other play hosts (they are in .retry).
    one("run_once_rescued.yml"),
    one("delegate_to.yml", failed={"web1", "db1"}, all=WEB | DB),
    one("loop.yml", failed={"web2", "db1"}, ignored={"web3"}),
    one("loop_unreachable.yml", failed={"dead"}),
    one("handlers.yml", failed={"web2", "db1"}),
    one("handlers_forced.yml", failed={"web1", "db2"}),
    one("include_tasks.yml", failed={"web3", "db2"}),
    one("import_tasks.yml", failed={"web1"}),
    one("include_role.yml", failed={"db1", "app2"}),
    one("include_missing.yml", failed={"web2"}),
    one("serial.yml", failed={"web2", "db2"}, all=WEB | DB | APP, not_run=set()),
    one("serial_batch_fails.yml", failed={"web3", "db1"}, all=WEB | DB | APP, not_run={"db2", "app1", "app2", "app3"}),
    one("serial_unreachable_batch.yml", failed={"dead"}, all=WEB | {"dead"}, not_run=WEB),
    one("strategy_free.yml", failed={"web2", "dead"}, rescued={"db1"}),
    one("strategy_free_fatal.yml"),
    one("add_host.yml", failed={"new2"}, all={"app1", "new1", "new2", "new3"}),
    one("add_host_regroup.yml", failed={"web2"}, all={"app1", "web1", "web2"}),
    one(
        "add_host_unreachable.yml", failed={"lost1", "ok1"}, unreachable={"lost1"}, all={"web1", "web2", "lost1", "ok1"}
    ),
    one("unreachable_later_play.yml", failed={"dead", "app1"}),
    one("end_play.yml", failed={"db2", "app1"}),
    # end_play stops the later batches: targeted, never ran the play, not failed.
    one("end_play_serial.yml", failed={"web1", "app2"}, not_run={"web3", "db1", "db2"}),
    one("implicit_localhost.yml", failed={"web1", "localhost"}, all=WEB | {"localhost"}),
    one("failed_when.yml", failed={"web3"}, changed={"db1"}),
    one("unreachable_rescue.yml", failed={"dead"}),
    one("tags.yml", "--tags", "deploy", failed={"db1"}),
    one("check_mode.yml", "--check", failed={"web2"}),
    one("limit.yml", "--limit", "web,app1", failed={"web1", "app1"}, all=WEB | {"app1"}),
    one("limit.yml", "--limit", "web1:db:!db2", failed={"web1"}, all={"web1", "db1"}),
    Scenario(
        "multi_clean_then_failing",
        ("multi_clean.yml", "multi_failing.yml"),
        expect={"multi_clean": {"failed": set(), "all": WEB}, "multi_failing": {"failed": {"web1"}, "all": WEB | DB}},
    ),
    Scenario("multi_failing_stops_the_rest", ("multi_failing.yml", "multi_clean.yml"), never_started=("multi_clean",)),
    # The executor remembers the unreachable host across playbooks: the second .retry lists it, untargeted.
    Scenario(
        "multi_unreachable_carried_over",
        ("multi_carry.yml", "multi_after_carry.yml"),
        expect={"multi_carry": {"failed": set()}, "multi_after_carry": {"failed": {"dead", "app3"}}},
    ),
]


def parse_recaps(stdout: str) -> list[dict[str, dict[str, int]]]:
    """Each PLAY RECAP of the output (one per playbook that finished), host -> counters."""
    recaps = []
    for section in stdout.split("PLAY RECAP")[1:]:
        block = section.split("\n\n", 1)[0]
        recaps.append(
            {
                m["host"]: {key: int(value) for key, value in m.groupdict().items() if key != "host"}
                for m in RECAP.finditer(block)
            }
        )
    return recaps


def run_scenario(workdir: Path, scenario: Scenario) -> dict[str, Run]:
    """Run the scenario's playbooks in one ansible-playbook command; a Run per playbook stem."""
    shutil.copytree(SCENARIOS, workdir, dirs_exist_ok=True)
    *earlier, last = scenario.playbooks
    run = ansible_playbook(workdir, "-i", "inventory.yml", *scenario.args, *earlier, playbook=last)
    assert "Traceback" not in run.stderr + run.stdout, run.stderr
    assert "relaunch.status.manifest" not in run.stderr, f"the callback complained:\n{run.stderr}"
    completed = subprocess.CompletedProcess([], run.rc, run.stdout, run.stderr)
    return {Path(playbook).stem: Run(workdir, playbook, completed) for playbook in scenario.playbooks}


@pytest.mark.parametrize("scenario", CORPUS, ids=[scenario.id for scenario in CORPUS])
def test_manifest_matches_ansible_core(tmp_path: Path, scenario: Scenario) -> None:
    runs = run_scenario(tmp_path, scenario)
    first = next(iter(runs.values()))
    recaps = parse_recaps(first.stdout)
    started = [stem for stem, run in runs.items() if stem not in scenario.never_started]
    assert len(recaps) == len(started), f"one PLAY RECAP per playbook that ran\n{first.stdout}\n{first.stderr}"
    went_wrong = any(
        counts["failures"] or counts["unreachable"] or counts["rescued"]
        for recap in recaps
        for counts in recap.values()
    )
    assert went_wrong or any(run.retry() for run in runs.values()), "the scenario must make something fail"

    for index, (stem, run) in enumerate((stem, runs[stem]) for stem in started):
        check_run(stem, run, recaps[index], scenario.expect.get(stem, {}), first=index == 0)

    for stem in scenario.never_started:
        assert not runs[stem].run_dir.exists(), f"{stem} never started, yet has a manifest"
        assert runs[stem].retry() == set()


def check_run(stem: str, run: Run, recap: dict[str, dict[str, int]], expect: dict[str, set[str]], first: bool) -> None:
    """One playbook's run of a scenario against ansible-core's .retry file and PLAY RECAP."""
    # The run's own manifest (<run id>.json): latest.json is the rollout, and a --check run leaves it unwritten.
    manifest = run.run_manifest()
    hosts = {host["name"]: host for host in manifest["hosts"]}
    failed = run.ran_with_status("failed")
    # The heart of it: ansible-core's .retry file and the manifest agree.
    assert failed == run.retry(), (
        f"{stem}: manifest failed {sorted(failed)} != .retry {sorted(run.retry())}\n{run.stdout}"
    )
    assert manifest["complete"] is True
    assert manifest["retry_counts"] == {status: len(run.ran_with_status(status)) for status in manifest["retry_counts"]}

    check_counters_follow_recap(stem, hosts, recap)
    if first:
        assert set(recap) <= set(hosts), f"{stem}: hosts in the recap missing from the manifest"

    for status, names in expect.items():
        assert run.ran_with_status(status) == names, f"{stem}: {status}\n{run.stdout}"


def check_counters_follow_recap(stem: str, hosts: dict[str, dict], recap: dict[str, dict[str, int]]) -> None:
    """Counter statuses follow ansible-core's own recap (AWX's meaning: counter above zero)."""
    for name, host in hosts.items():
        counts = recap.get(name, dict.fromkeys(host["counters"], 0))
        assert host["counters"] == counts, f"{stem}: {name} counters differ from the recap"
        for status in COUNTER_STATUSES:
            assert (status in host["statuses"]) == (counts[status] > 0), f"{stem}: {name} {status}"
        assert "all" in host["statuses"]
        assert not ("failed" in host["statuses"] and "not_run" in host["statuses"]), (
            f"{stem}: {name} failed and not_run"
        )


def test_corpus_is_large_and_distinct() -> None:
    """The corpus covers many playbooks, each used by some scenario."""
    used = {playbook for scenario in CORPUS for playbook in scenario.playbooks}
    on_disk = {path.name for path in SCENARIOS.glob("*.yml")} - {"inventory.yml"}
    assert used == on_disk
    assert len(CORPUS) >= 30
    assert len({scenario.id for scenario in CORPUS}) == len(CORPUS)
