# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The history of hosts across runs, on hand-made manifests: outcomes, flips, streaks, renames, flaky, chronic."""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.relaunch.status.plugins.plugin_utils._core import store
from ansible_collections.relaunch.status.plugins.plugin_utils._core.errors import RelaunchError
from ansible_collections.relaunch.status.plugins.plugin_utils._core.history import (
    HostHistory,
    Thresholds,
    by_current_name,
    fewest_runs_to_judge,
    flagged_histories,
    flaky_and_chronic,
    histories,
    of_manifests,
    run_directories,
)
from ansible_collections.relaunch.status.plugins.plugin_utils._core.selection import CurrentHost
from tests.property.manifests import host_entry, make_manifest

# What a host does in a run: F failed, U unreachable, O ok, N not_run, - absent.
STATUSES_OF = {"F": ("failed",), "U": ("failed", "unreachable"), "O": ("ok",), "N": ("not_run",)}


def run_id(number: int) -> str:
    return f"20260101T0000{number:02d}000000Z-{100 + number}-abcd"


def entry(name: str, letter: str, identity: str | None = None) -> dict:
    host = host_entry(name, STATUSES_OF[letter], identity)
    if letter == "U":
        host["first_failure"] = {"play": "p", "task": "t", "action": "a", "unreachable": True, "message": None}
    return host


def runs(**plans: str) -> list[dict]:
    """Run manifests from one plan per host, one letter a run (``web1="FOFOF"``)."""
    length = max(map(len, plans.values()))
    manifests = []
    for number in range(length):
        hosts = [entry(name, plan[number]) for name, plan in plans.items() if plan[number] != "-"]
        manifest = make_manifest(hosts, run_id=run_id(number))
        manifest["finished"] = f"2026-01-{number + 1:02d}T00:00:00+00:00"
        for host in manifest["hosts"]:  # as a run writes them: its hosts' outcomes are of its own time
            if host.get("run_id") is not None:
                host["finished"] = manifest["finished"]
        manifests.append(manifest)
    return manifests


def by_name(manifests: list[dict], thresholds: Thresholds | None = None) -> dict[str, HostHistory]:
    return {history.name: history for history in histories(manifests, thresholds)}


def test_flaky_chronic_and_stable_hosts() -> None:
    found = by_name(runs(flaky="FOFOF", chronic="OOFFF", stable="OOOOO"))
    assert found["flaky"].outcomes == ["failed", "ok", "failed", "ok", "failed"]
    assert (found["flaky"].flips, found["flaky"].flaky, found["flaky"].chronic) == (4, True, False)
    assert (found["chronic"].failures_in_a_row, found["chronic"].flips) == (3, 1)
    assert found["chronic"].chronic and not found["chronic"].flaky
    assert not found["stable"].flaky and not found["stable"].chronic and found["stable"].flips == 0


def test_flaky_and_chronic_judges_outcomes_as_the_histories_do() -> None:
    found = by_name(runs(flaky="FOFOF", chronic="OOFFF", stable="OOOOO", gone="FFF--"))
    for history in found.values():
        assert flaky_and_chronic(history.outcomes, Thresholds()) == (history.flaky, history.chronic)
    assert flaky_and_chronic(["failed", "ok", "failed", "ok"], Thresholds(flaky_flips=3)) == (True, False)
    assert flaky_and_chronic(["ok", "failed", "not_run", "unreachable"], Thresholds(chronic_runs=2)) == (False, True)
    assert flaky_and_chronic(["failed"] * 3 + ["absent"] * 3, Thresholds(flaky_runs=3)) == (False, False)
    assert flaky_and_chronic([], Thresholds()) == (False, False)


def test_last_success_names_the_newest_run_that_ran_the_host_without_failing() -> None:
    found = by_name(runs(web="OOFF", never="FFFF"))
    assert found["web"].last_success == {"run_id": run_id(1), "finished": "2026-01-02T00:00:00+00:00"}
    assert found["never"].last_success is None


def test_unreachable_counts_as_a_failure() -> None:
    found = by_name(runs(web="UOUFU"))
    assert found["web"].outcomes == ["unreachable", "ok", "unreachable", "failed", "unreachable"]
    assert (found["web"].flips, found["web"].failures_in_a_row) == (2, 3)
    assert found["web"].chronic


def test_runs_that_did_not_run_a_host_neither_flip_nor_break_a_streak() -> None:
    found = by_name(runs(web="FNF-F", other="OOOOO", flips="FNO-F"))
    assert found["web"].outcomes == ["failed", "not_run", "failed", "absent", "failed"]
    assert (found["web"].failures_in_a_row, found["web"].flips, found["web"].chronic) == (3, 0, True)
    assert found["flips"].flips == 2


def test_a_host_new_in_a_later_run_is_absent_before() -> None:
    found = by_name(runs(old="OOO", new="--F"))
    assert found["new"].outcomes == ["absent", "absent", "failed"]
    assert found["new"].failures_in_a_row == 1 and not found["new"].chronic


def test_chronic_needs_as_many_runs_that_ran_the_host() -> None:
    assert not by_name(runs(web="FF"))["web"].chronic
    assert by_name(runs(web="FF"), Thresholds(chronic_runs=2))["web"].chronic


def test_chronic_looks_only_at_the_newest_runs() -> None:
    found = by_name(runs(web="FFF" + "N" * 10))
    assert found["web"].failures_in_a_row == 3 and not found["web"].chronic  # no run of the last 10 ran it
    assert by_name(runs(web="FFF" + "N" * 7))["web"].chronic


def test_flips_count_only_in_the_last_flaky_runs_runs() -> None:
    manifests = runs(web="FOFOOOOOO")
    assert by_name(manifests)["web"].flips == 3
    assert by_name(manifests, Thresholds(flaky_runs=5))["web"].flips == 0
    assert by_name(manifests, Thresholds(flaky_flips=4))["web"].flaky is False


def test_a_renamed_host_is_followed_by_its_identity_under_its_newest_name() -> None:
    manifests = [
        make_manifest([entry("old-name", "F", identity="id-1"), entry("plain", "F")], run_id=run_id(0)),
        make_manifest([entry("new-name", "O", identity="id-1"), entry("plain2", "O")], run_id=run_id(1)),
        make_manifest([entry("new-name", "F", identity="id-1")], run_id=run_id(2)),
    ]
    found = by_name(manifests)
    assert "old-name" not in found
    assert found["new-name"].outcomes == ["failed", "ok", "failed"] and found["new-name"].identity == "id-1"
    # Without an identity a new name is another host.
    assert found["plain"].outcomes == ["failed", "absent", "absent"]
    assert found["plain2"].outcomes == ["absent", "ok", "absent"]


def test_check_mode_runs_and_runs_where_no_task_ran_are_left_out() -> None:
    manifests = runs(web="FOFOF")
    manifests[1]["check_mode"] = True
    manifests[3]["tasks_ran"] = False
    found = by_name(manifests)
    assert found["web"].outcomes == ["failed", "failed", "failed"]
    assert found["web"].chronic and found["web"].flips == 0


def schema_2(manifest: dict, ran: dict[str, bool]) -> dict:
    """A manifest as schema 2 writes it: each host entry names the run it ran in, or null."""
    manifest = dict(manifest, schema_version=2)
    manifest["hosts"] = [
        dict(
            host,
            run_id=manifest["run_id"] if ran[host["name"]] else None,
            finished=manifest["finished"] if ran[host["name"]] else None,
        )
        for host in manifest["hosts"]
    ]
    return manifest


def test_schema_2_entries_of_hosts_that_did_not_run_are_not_run() -> None:
    one, two, three = runs(web="FOF", db="OOO")
    # In run two the select role ended web: it was listed, but it did not run in it.
    two = schema_2(two, {"web": False, "db": True})
    three = schema_2(three, {"web": True, "db": True})
    three["hosts"][1]["finished"] = "2026-01-03T10:00:00+00:00"
    found = by_name([one, two, three])
    assert found["web"].outcomes == ["failed", "not_run", "failed"]
    assert found["web"].failures_in_a_row == 2 and found["web"].flips == 0
    assert found["db"].last_success == {"run_id": run_id(2), "finished": "2026-01-03T10:00:00+00:00"}


def test_a_host_listed_twice_in_one_run_keeps_the_first_entry() -> None:
    manifest = make_manifest([entry("a", "F", identity="same"), entry("b", "O", identity="same")], run_id=run_id(0))
    (only,) = histories([manifest])
    assert only.outcomes == ["failed"] and only.name == "a"


def test_report_holds_what_relaunch_info_returns() -> None:
    (history,) = histories(runs(web="FO"))
    assert history.report() == {
        "outcomes": ["failed", "ok"],
        "last_success": {"run_id": run_id(1), "finished": "2026-01-02T00:00:00+00:00"},
        "failures_in_a_row": 0,
        "flips": 1,
        "flaky": False,
        "chronic": False,
    }


@pytest.mark.parametrize("bad", [0, -1, True, "3", 2.5])
def test_thresholds_must_be_whole_numbers_of_at_least_one(bad: object) -> None:
    with pytest.raises(RelaunchError, match=r"option flaky_runs: .* is not a whole number of at least 1"):
        Thresholds(flaky_runs=bad)


# --- the run manifests of a run directory ---------------------------------------------------------------


def write(directory: str, name: str, text: str) -> None:
    with open(os.path.join(directory, name), "w", encoding="utf-8") as handle:
        handle.write(text)


def test_run_manifests_are_read_oldest_first_and_bad_ones_passed_over(tmp_path) -> None:
    directory = str(tmp_path)
    manifests = runs(web="FOFO")
    for manifest in reversed(manifests):
        write(directory, manifest["run_id"] + ".json", json.dumps(manifest))
    write(directory, "latest.json", json.dumps(manifests[-1]))
    write(directory, run_id(10) + ".json", "{not json")  # damaged
    write(directory, run_id(11) + ".json", json.dumps(manifests[0]))  # a copy under another run's name
    write(directory, run_id(12) + ".json", json.dumps({"schema_version": 99}))  # a newer schema
    write(directory, run_id(13) + ".journal", "")
    write(directory, "notes.json", "{}")
    read = [manifest["run_id"] for manifest in store.runs.run_manifests(directory)]
    assert read == [run_id(number) for number in range(4)]
    # The newest 6 runs by name, of which 3 cannot be read.
    newest = [manifest["run_id"] for manifest in store.runs.run_manifests(directory, limit=6)]
    assert newest == [run_id(1), run_id(2), run_id(3)]
    assert list(store.runs.run_manifests(directory, limit=0)) == []


def test_run_manifests_of_a_missing_directory_are_none(tmp_path) -> None:
    assert list(store.runs.run_manifests(str(tmp_path / "nowhere"))) == []
    assert list(store.runs.newest_run_manifests(str(tmp_path / "nowhere"))) == []


def test_newest_run_manifests_come_newest_first(tmp_path) -> None:
    for manifest in runs(web="FOF"):
        write(str(tmp_path), manifest["run_id"] + ".json", json.dumps(manifest))
    write(str(tmp_path), run_id(9) + ".json", "{not json")
    read = [manifest["run_id"] for manifest in store.runs.newest_run_manifests(str(tmp_path))]
    assert read == [run_id(2), run_id(1), run_id(0)]


# --- the histories of the current hosts -----------------------------------------------------------------


def test_histories_are_found_under_current_names_as_a_selection_finds_hosts() -> None:
    manifests = [
        make_manifest(
            [entry("old", "F", identity="id-1"), entry("plain", "F"), entry("gone", "F"), entry("taken", "F", "id-9")],
            run_id=run_id(0),
        )
    ]
    current = [CurrentHost("renamed", "id-1"), CurrentHost("plain"), CurrentHost("taken", "id-other")]
    found = by_current_name(histories(manifests), current)
    assert sorted(found) == ["plain", "renamed"]  # "taken" is another machine now
    assert found["renamed"].identity == "id-1"


def test_the_histories_of_manifests_are_those_of_their_run_directories(tmp_path) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    for directory, plan in ((first, "FO"), (second, "OF")):
        directory.mkdir()
        for manifest in runs(**{directory.name: plan}):
            write(str(directory), manifest["run_id"] + ".json", json.dumps(manifest))
    paths = [str(first / "latest.json"), str(first / (run_id(1) + ".json")), str(second / "latest.json")]
    assert run_directories(paths) == [str(first), str(second)]
    found = {history.name: history.outcomes for history in of_manifests(paths, Thresholds())}
    assert found == {"one": ["failed", "ok"], "two": ["ok", "failed"]}


def test_flaky_and_chronic_take_a_few_runs_before_any_host_can_be_either() -> None:
    assert fewest_runs_to_judge(Thresholds()) == 3  # three failures in a row; three flips take four runs
    assert fewest_runs_to_judge(Thresholds(flaky_flips=1, chronic_runs=5)) == 2
    assert fewest_runs_to_judge(Thresholds(flaky_flips=4, chronic_runs=1)) == 1


def test_run_directories_with_too_few_runs_to_flag_a_host_are_not_read(tmp_path, monkeypatch) -> None:
    few, enough = tmp_path / "few", tmp_path / "enough"
    for directory, plan in ((few, "FF"), (enough, "FFF")):
        directory.mkdir()
        for manifest in runs(**{directory.name: plan}):
            write(str(directory), manifest["run_id"] + ".json", json.dumps(manifest))
    paths = [str(few / "latest.json"), str(enough / "latest.json")]
    read = []
    newest = store.runs.newest_run_manifests

    def reading(directory):
        read.append(directory)
        return newest(directory)

    monkeypatch.setattr(store.runs, "newest_run_manifests", reading)
    found = flagged_histories(paths, Thresholds())
    assert read == [str(enough)]
    assert [(history.name, history.chronic) for history in found] == [("enough", True)]
    # With two failures in a row enough to be chronic, both directories are read, and both hosts are.
    read.clear()
    found = flagged_histories(paths, Thresholds(chronic_runs=2))
    assert read == [str(few), str(enough)]
    assert [(history.name, history.chronic) for history in found] == [("few", True), ("enough", True)]
