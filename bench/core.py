# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The recorder core alone: a synthetic event stream through Recorder.apply, Recorder.manifest and publish.

The events are the dicts the callback emits (plugins/callback/manifest.py), in
the order it emits them: start, one host event per host, a play, then one
result event per host and task with mixed outcomes, a verdict and the stats.
"""

from __future__ import annotations

import gc
import json
import os
import tempfile
import time
import tracemalloc
from collections.abc import Iterator

from .common import ensure_collection

ensure_collection()

from ansible_collections.relaunch.status.plugins.plugin_utils._core import store  # noqa: E402
from ansible_collections.relaunch.status.plugins.plugin_utils._core.recorder import COUNTERS, Recorder  # noqa: E402
from ansible_collections.relaunch.status.plugins.plugin_utils._core.recorder import gc_paused as recorder_gc_paused  # noqa: E402
from ansible_collections.relaunch.status.plugins.plugin_utils._core.selection import limit_file_texts  # noqa: E402

# CPU time of this process: the machine may be busy with other work, which wall time would count.
_clock = time.process_time

# Out of 100 results of hosts that do not fail: ok, changed, skipped, an ignored failure, a rescued failure.
_MIX = ["ok"] * 62 + ["changed"] * 20 + ["skipped"] * 15 + ["ignored"] * 2 + ["rescued"] * 1
# One host in 10 fails one task and one in 50 is unreachable once, as in a bad day of a large fleet.
_FAILS_EVERY = 10
_UNREACHABLE_EVERY = 50


def host_name(index: int) -> str:
    return f"node-{index:06d}.dc{index % 8}.example.com"


def header(hosts: int) -> list[dict]:
    names = [host_name(index) for index in range(hosts)]
    events: list[dict] = [
        {
            "e": "start",
            "run_id": store.layout.new_run_id(),
            "playbook": "/srv/ansible/site.yml",
            "started": store.layout.utc_now(),
            "check_mode": False,
            "ansible_version": "2.19.14",
            "invocation": {"limit": "", "inventory": ["inventory/hosts.yml"], "tags": ["all"], "skip_tags": []},
            "passwords_needed_to_start": [],
        }
    ]
    events.extend(
        {"e": "host", "name": name, "identity": f"asset-{index:07d}", "identity_var": "relaunch_id"}
        for index, name in enumerate(names)
    )
    events.append({"e": "verdict", "failed": []})
    events.append({"e": "play", "name": "Configure the fleet", "batch": names, "pending": []})
    return events


def result_event(name: str, index: int, task: int) -> dict:
    kind = _MIX[(index * 7919 + task * 104729) % 100]
    if task == index % 20:
        if index % _FAILS_EVERY == 0:
            kind = "failed"
        elif index % _UNREACHABLE_EVERY == 1:
            kind = "unreachable"
    if kind in ("ok", "changed", "skipped"):
        return {"e": "result", "host": name, "outcome": kind}
    outcome = "unreachable" if kind == "unreachable" else "failed"
    return {
        "e": "result",
        "host": name,
        "outcome": outcome,
        "ignored": kind == "ignored",
        "rescued": kind == "rescued",
        "play": "Configure the fleet",
        "task": f"Task number {task}",
        "action": "ansible.builtin.command",
        "msg": f"non-zero return code {index % 5}: simulated failure of task {task}",
    }


def task_chunk(names: list[str], task: int) -> list[dict]:
    return [result_event(name, index, task) for index, name in enumerate(names)]


def trailer(recorder_hosts: list[str], failed: set[str], counters: dict) -> list[dict]:
    return [{"e": "verdict", "failed": sorted(failed)}, {"e": "stats", "hosts": counters}]


def _stats_of(recorder: Recorder) -> dict:
    return {name: dict(zip(COUNTERS, record.counters)) for name, record in recorder.hosts.items()}


def _baseline_apply(counts: dict, events: list[dict]) -> None:
    """The least a recorder could do: one counter per host and outcome."""
    for event in events:
        if event["e"] == "result":
            per_host = counts.get(event["host"])
            if per_host is None:
                per_host = counts[event["host"]] = {}
            outcome = event["outcome"]
            per_host[outcome] = per_host.get(outcome, 0) + 1


def run_speed(hosts: int, tasks: int) -> dict:
    """Events/s through Recorder.apply, and the manifest build and write, against plain baselines."""
    names = [host_name(index) for index in range(hosts)]
    recorder = Recorder()
    counts: dict = {}
    head = header(hosts)
    gc.collect()
    apply_time = baseline_time = 0.0
    events = 0

    def feed(chunk: list[dict]) -> None:
        nonlocal apply_time, baseline_time, events
        apply = recorder.apply
        start = _clock()
        for event in chunk:
            apply(event)
        apply_time += _clock() - start
        start = _clock()
        _baseline_apply(counts, chunk)
        baseline_time += _clock() - start
        events += len(chunk)

    feed(head)
    for task in range(tasks):
        feed(task_chunk(names, task))
    feed(trailer(names, recorder.failed_hosts(), _stats_of(recorder)))

    with tempfile.TemporaryDirectory(prefix="relaunch-bench-") as tmp:
        directory = os.path.join(tmp, "site")
        store.layout.ensure_run_directory(directory)
        # As the callback does: a snapshot of the recorder, published host by host.
        start = _clock()
        snapshot = recorder.snapshot(complete=True, finished=store.layout.utc_now())
        build_time = _clock() - start
        start = _clock()
        path = store.publishing.publish(directory, snapshot, keep=20, limit_texts=limit_file_texts)
        publish_time = _clock() - start
        size = os.path.getsize(path)
        limit_names = sorted(name for name in os.listdir(directory) if name.endswith(store.layout.LIMIT))
        # The limit files alone (publish writes them beside latest.json), to tell the two costs apart.
        start = _clock()
        with recorder_gc_paused():
            store.limits.limit_files(snapshot, limit_file_texts)
        limit_time = _clock() - start
        # Baseline writer: the same manifest, as one dict, through one json.dumps, written and fsynced once.
        manifest = snapshot.manifest()
        start = _clock()
        data = json.dumps(manifest).encode("utf-8")
        with open(os.path.join(tmp, "plain.json"), "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        dumps_time = _clock() - start
    manifest_time = build_time + publish_time - limit_time
    return {
        "hosts": hosts,
        "tasks": tasks,
        "events": events,
        "apply_s": apply_time,
        "events_per_s": events / apply_time,
        "ns_per_event": apply_time / events * 1e9,
        "baseline_apply_s": baseline_time,
        "apply_vs_baseline": apply_time / baseline_time,
        "manifest_build_s": build_time,
        "publish_s": publish_time,
        "limit_files_s": limit_time,
        "manifest_write_s": manifest_time,
        "total_write_s": build_time + publish_time,
        "us_per_host_manifest": manifest_time / hosts * 1e6,
        "us_per_host_total": (build_time + publish_time) / hosts * 1e6,
        "baseline_dumps_s": dumps_time,
        "manifest_vs_dumps": manifest_time / dumps_time,
        "total_vs_dumps": (build_time + publish_time) / dumps_time,
        "manifest_bytes": size,
        "limit_files": limit_names,
        "failed": manifest["retry_counts"]["failed"],
    }


def _stream(hosts: int, tasks: int) -> Iterator[dict]:
    """The same events one at a time, so the input never holds more than one event."""
    names = [host_name(index) for index in range(hosts)]
    yield from header(hosts)
    for task in range(tasks):
        for index, name in enumerate(names):
            yield result_event(name, index, task)


def run_memory(hosts: int, tasks: int) -> dict:
    """Peak memory per host (tracemalloc) of recording, building and writing the manifest."""
    gc.collect()
    tracemalloc.start()
    try:
        base, _peak = tracemalloc.get_traced_memory()
        recorder = Recorder()
        for event in _stream(hosts, tasks):
            recorder.apply(event)
        recorder.apply({"e": "verdict", "failed": sorted(recorder.failed_hosts())})
        retained, record_peak = tracemalloc.get_traced_memory()
        with tempfile.TemporaryDirectory(prefix="relaunch-bench-") as tmp:
            directory = os.path.join(tmp, "site")
            store.layout.ensure_run_directory(directory)
            tracemalloc.reset_peak()
            snapshot = recorder.snapshot(complete=True, finished=store.layout.utc_now())
            store.publishing.publish(directory, snapshot, keep=20, limit_texts=limit_file_texts)
            del snapshot
            _current, write_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # The host names are input the recorder must keep; they are counted, since they live in its state.
    return {
        "hosts": hosts,
        "tasks": tasks,
        "recorder_bytes_per_host": (retained - base) / hosts,
        "record_peak_bytes_per_host": (record_peak - base) / hosts,
        "write_peak_bytes_per_host": (write_peak - base) / hosts,
        "peak_bytes_per_host": (max(record_peak, write_peak) - base) / hosts,
    }


def run(sizes: list[int], tasks: int, memory_sizes: list[int]) -> dict:
    speed = []
    for hosts in sizes:
        speed.append(run_speed(hosts, tasks))
        last = speed[-1]
        print(
            f"  core {hosts} hosts x {tasks} tasks: {last['events_per_s']:,.0f} events/s, "
            f"manifest {last['manifest_write_s']:.3f} s",
            flush=True,
        )
    memory = []
    for hosts in memory_sizes:
        memory.append(run_memory(hosts, tasks))
        print(f"  core memory {hosts} hosts: peak {memory[-1]['peak_bytes_per_host']:.0f} B/host", flush=True)
    return {"tasks": tasks, "speed": speed, "memory": memory}
