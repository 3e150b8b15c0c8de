# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The callback records ansible-core's own per-host counters: AggregateStats.summarize() has the recorder's keys."""

from __future__ import annotations

from ansible.executor.stats import AggregateStats

from ansible_collections.relaunch.status.plugins.plugin_utils._core.recorder import COUNTERS


def test_summarize_gives_every_counter_of_the_recorder() -> None:
    # Checked against ansible-core 2.16's ansible/executor/stats.py too: the same seven keys.
    stats = AggregateStats()
    for what in ("ok", "ok", "changed", "failures", "dark", "skipped", "rescued", "ignored"):
        stats.increment(what, "web1")
    summary = stats.summarize("web1")
    assert sorted(summary) == sorted(COUNTERS)
    assert summary == {"ok": 2, "changed": 1, "failures": 1, "unreachable": 1, "skipped": 1, "rescued": 1, "ignored": 1}
