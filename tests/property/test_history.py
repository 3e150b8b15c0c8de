# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The history across runs, on any runs: one outcome per run kept, flips bounded by the runs, chronic only
after enough failures in a row, and a host that never failed neither flaky nor chronic."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.relaunch.status.plugins.plugin_utils._core import report
from ansible_collections.relaunch.status.plugins.plugin_utils._core.failures import natural_key
from ansible_collections.relaunch.status.plugins.plugin_utils._core.history import (
    FAILURES,
    RAN,
    Thresholds,
    fewest_runs_to_judge,
    flaky_and_chronic,
    histories,
    newest_histories,
)

from .manifests import host_entry, make_manifest

NAMES = ("a", "b", "c", "web")
IDENTITIES = (None, None, "i1", "i2")
STATUS_SETS = (("failed",), ("failed", "unreachable"), ("ok",), ("ok", "changed"), ("not_run",), ("skipped",), ())


@st.composite
def run_manifest(draw, number: int) -> dict:
    hosts, seen = [], set()
    for name in draw(st.lists(st.sampled_from(NAMES), max_size=4, unique=True)):
        identity = draw(st.sampled_from(IDENTITIES))
        if identity in seen:
            identity = None
        seen.add(identity)
        hosts.append(host_entry(name, draw(st.sampled_from(STATUS_SETS)), identity))
    run_id = f"20260101T0000{number:02d}000000Z-{100 + number}-abcd"
    manifest = make_manifest(hosts, run_id=run_id)
    manifest["check_mode"] = draw(st.booleans()) and draw(st.booleans())
    if draw(st.booleans()):  # schema 2: some hosts listed but not run
        manifest["schema_version"] = 2
        for host in hosts:
            ran = draw(st.booleans()) or draw(st.booleans())
            host.update(run_id=run_id if ran else None, finished=manifest["finished"] if ran else None)
    return manifest


@st.composite
def run_manifests(draw) -> list[dict]:
    count = draw(st.integers(min_value=0, max_value=12))
    return [draw(run_manifest(number)) for number in range(count)]


thresholds = st.builds(
    Thresholds,
    flaky_runs=st.integers(min_value=1, max_value=12),
    flaky_flips=st.integers(min_value=1, max_value=5),
    chronic_runs=st.integers(min_value=1, max_value=5),
)


@given(run_manifests(), thresholds)
def test_history_invariants(manifests: list[dict], limits: Thresholds) -> None:
    kept = [manifest for manifest in manifests if not manifest["check_mode"]]
    found = histories(manifests, limits)
    for history in found:
        assert len(history.outcomes) == len(kept)
        ran = [result for result in history.outcomes if result in RAN]
        window = [result for result in history.outcomes[-limits.flaky_runs :] if result in RAN]
        assert history.flips <= max(0, min(len(kept), limits.flaky_runs) - 1)
        assert history.flips <= max(0, len(window) - 1)
        if history.chronic:
            assert history.failures_in_a_row >= limits.chronic_runs
            assert all(result in FAILURES for result in ran[-limits.chronic_runs :])
        if history.flaky:
            assert history.flips >= limits.flaky_flips
        if not any(result in FAILURES for result in history.outcomes):
            assert (history.flaky, history.chronic, history.flips, history.failures_in_a_row) == (False, False, 0, 0)
        if history.last_success is not None:
            assert "ok" in history.outcomes
    # Every host that ran in a kept run has that run's outcome, once.
    for index, manifest in enumerate(kept):
        listed = {host["identity"] or ("name", host["name"]) for host in manifest["hosts"]}
        assert sum(history.outcomes[index] != "absent" for history in found) == len(listed)


@given(run_manifests(), thresholds)
def test_reading_only_the_newest_runs_judges_every_host_alike(manifests: list[dict], limits: Thresholds) -> None:
    """The inventory groups read only the newest runs that flaky and chronic look at: same judgement."""
    judged = {(history.name, history.identity): history for history in histories(manifests, limits)}
    windowed = newest_histories(reversed(manifests), limits, runs=limits.window)
    for history in windowed:
        full = judged.pop((history.name, history.identity))
        assert (history.flaky, history.chronic, history.flips) == (full.flaky, full.chronic, full.flips)
        assert history.outcomes == full.outcomes[-limits.window :]
    # Hosts only older runs had are neither.
    assert not any(history.flaky or history.chronic for history in judged.values())


@given(run_manifests(), thresholds)
def test_the_report_judges_every_host_as_the_history_does(manifests: list[dict], limits: Thresholds) -> None:
    """The report judges flaky and chronic hosts from its grid of outcomes: the same hosts as the history."""
    found = report.build("/srv/.relaunch/site", None, reversed(manifests), limits)
    judged = histories(manifests, limits)
    assert found.flaky == sorted((history.name for history in judged if history.flaky), key=natural_key)
    assert found.chronic == sorted((history.name for history in judged if history.chronic), key=natural_key)
    for history in judged:
        assert flaky_and_chronic(history.outcomes, limits) == (history.flaky, history.chronic)


@given(run_manifests(), thresholds)
def test_fewer_runs_than_it_takes_to_judge_flag_no_host(manifests: list[dict], limits: Thresholds) -> None:
    """The inventory groups do not read a run directory that keeps fewer runs: none of its hosts could be flagged."""
    kept = manifests[: fewest_runs_to_judge(limits) - 1]
    assert not any(history.flaky or history.chronic for history in histories(kept, limits))
