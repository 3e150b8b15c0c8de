# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The event recorder: turns a stream of simple events into how each host ended.

Events are plain JSON-able dicts with a key ``e`` naming their kind, so the
same stream can be journalled to disk during a run and replayed after a crash.
Nothing here knows about Ansible's objects; the callback plugin translates
Ansible's callback calls into these events.

Event kinds:

``start``
    ``run_id``, ``playbook``, ``started``, ``invocation``,
    ``passwords_needed_to_start``, ``check_mode``, ``ansible_version``.
``host``
    ``name``, ``identity``, ``identity_var``: a host seen for the first time.
``play``
    ``name``, ``batch`` (host names of this serial batch) and, on the first
    batch of a play only, ``pending`` (the play's other hosts, for later batches).
``result``
    ``host``, ``outcome`` (one of OUTCOMES), ``ignored``, ``rescued``, and for
    failures ``play``, ``task``, ``action``, ``msg`` (None for no_log tasks).
``provision``
    ``host``, ``by``, ``identity``, ``identity_var``: add_host created a host.
``verdict``
    ``failed``: ansible-core's own failed and unreachable hosts (what its
    ``.retry`` file lists) as of a finished batch. It replaces the set derived
    from results so far.
``stats``
    ``hosts``: ansible-core's own per-host counters at the end of the playbook.
"""

from __future__ import annotations

import contextlib
import gc

STATUSES = ("all", "failed", "unreachable", "changed", "ok", "skipped", "rescued", "ignored", "not_run")
COUNTERS = ("ok", "changed", "failures", "unreachable", "skipped", "rescued", "ignored")
OUTCOMES = ("ok", "changed", "failed", "unreachable", "skipped")

# The statuses that mean "this counter is above zero" (AWX's meaning).
COUNTER_STATUSES = tuple((status, COUNTERS.index(status)) for status in ("unreachable", "changed", "ok", "skipped", "rescued", "ignored"))

MESSAGE_MAX = 300


@contextlib.contextmanager
def gc_paused():
    """Pause the cyclic garbage collector while building many acyclic objects.

    A 100,000-host manifest allocates about a million dicts, lists and strings;
    the collector would walk the whole heap hundreds of times for nothing
    (it halved the time to build and write one, see docs/performance.md).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


_OK, _CHANGED, _FAILURES, _UNREACHABLE, _SKIPPED, _RESCUED, _IGNORED = range(7)


class HostRecord:
    """What the recorder knows of one host; slots keep 100,000 hosts small."""

    __slots__ = ("identity", "identity_var", "counters", "provisioned_by", "first_failure")

    def __init__(self) -> None:
        self.identity: str | None = None
        self.identity_var: str | None = None
        self.counters = [0, 0, 0, 0, 0, 0, 0]
        self.provisioned_by: list[str] | None = None
        self.first_failure: dict | None = None


class Recorder:
    """Consumes events with :meth:`apply` and builds the manifest with :meth:`manifest`."""

    def __init__(self) -> None:
        self.meta: dict = {}
        self.hosts: dict[str, HostRecord] = {}
        self._targeted: set[str] = set()
        self._verdict: set[str] = set()
        self._failed_since_verdict: set[str] = set()
        self._batch: set[str] = set()
        self._pending: set[str] = set()
        self._not_run: set[str] = set()
        self._handlers = {
            "start": self._on_start,
            "host": self._on_host,
            "play": self._on_play,
            "result": self._on_result,
            "provision": self._on_provision,
            "verdict": self._on_verdict,
            "stats": self._on_stats,
        }

    def apply(self, event: dict) -> None:
        """Apply one event; unknown kinds are ignored so newer journals still replay."""
        handler = self._handlers.get(event.get("e"))
        if handler is not None:
            handler(event)

    def _host(self, name: str) -> HostRecord:
        record = self.hosts.get(name)
        if record is None:
            record = self.hosts[name] = HostRecord()
        return record

    def _on_start(self, event: dict) -> None:
        self.meta = {key: value for key, value in event.items() if key != "e"}

    def _on_host(self, event: dict) -> None:
        record = self._host(event["name"])
        record.identity = event.get("identity")
        record.identity_var = event.get("identity_var")

    def _on_play(self, event: dict) -> None:
        batch = event.get("batch") or []
        pending = event.get("pending")
        if pending is not None:
            # A new play: whatever the last play never put in a batch did not run.
            self._not_run.update(self._pending)
            self._pending = set(pending)
            self._targeted.update(pending)
        self._pending.difference_update(batch)
        self._batch = set(batch)
        self._targeted.update(batch)
        for name in batch:
            self._host(name)
        for name in self._pending:
            self._host(name)

    def _on_result(self, event: dict) -> None:
        outcome = event["outcome"]
        if outcome not in OUTCOMES:
            return  # a newer journal's outcome: not ours to guess
        name = event["host"]
        record = self.hosts.get(name) or self._host(name)
        counters = record.counters
        if outcome == "ok":
            counters[_OK] += 1
        elif outcome == "changed":
            counters[_OK] += 1
            counters[_CHANGED] += 1
        elif outcome == "skipped":
            counters[_SKIPPED] += 1
        elif event.get("ignored"):
            counters[_OK] += 1
            counters[_IGNORED] += 1
        elif outcome == "failed" and event.get("rescued"):
            counters[_RESCUED] += 1
        else:
            counters[_FAILURES if outcome == "failed" else _UNREACHABLE] += 1
            self._failed_since_verdict.add(name)
            if record.first_failure is None:
                record.first_failure = {
                    "play": event.get("play"),
                    "task": event.get("task"),
                    "action": event.get("action"),
                    "unreachable": outcome == "unreachable",
                    "message": cut_message(event.get("msg")),
                }

    def _on_provision(self, event: dict) -> None:
        record = self._host(event["host"])
        if record.provisioned_by is None:
            record.provisioned_by = []
        if event["by"] not in record.provisioned_by:
            record.provisioned_by.append(event["by"])
        if event.get("identity") is not None:
            record.identity = event["identity"]
            record.identity_var = event.get("identity_var")

    def _on_verdict(self, event: dict) -> None:
        self._verdict = set(event["failed"])
        self._failed_since_verdict = set()
        for name in self._verdict:
            self._host(name)

    def _on_stats(self, event: dict) -> None:
        for name, counts in event["hosts"].items():
            self._host(name).counters = [int(counts.get(key, 0)) for key in COUNTERS]

    def failed_hosts(self) -> set[str]:
        return self._verdict | self._failed_since_verdict

    def manifest(self, complete: bool, finished: str | None) -> dict:
        """The manifest (schema version 1) of what was recorded so far.

        An incomplete run also counts the hosts of its unfinished batch as
        ``not_run``: they never got to the end of their play.
        """
        with gc_paused():
            return self._manifest(complete, finished)

    def _manifest(self, complete: bool, finished: str | None) -> dict:
        failed = self.failed_hosts()
        not_run = self._not_run | self._pending
        if not complete:
            not_run = not_run | self._batch
        not_run = not_run - failed
        hosts = []
        counts = dict.fromkeys(STATUSES, 0)
        for name in sorted(self.hosts):
            record = self.hosts[name]
            if name not in self._targeted and name not in failed and record.provisioned_by is None:
                continue  # seen in cumulative stats of an earlier playbook only
            statuses = ["all"]
            if name in failed:
                statuses.append("failed")
            for status, index in COUNTER_STATUSES:
                if record.counters[index] > 0:
                    statuses.append(status)
            if name in not_run:
                statuses.append("not_run")
            statuses.sort()
            for status in statuses:
                counts[status] += 1
            hosts.append(
                {
                    "name": name,
                    "identity": record.identity,
                    "identity_var": record.identity_var,
                    "statuses": statuses,
                    "counters": dict(zip(COUNTERS, record.counters)),
                    "provisioned": record.provisioned_by is not None,
                    "provisioned_by": sorted(record.provisioned_by or ()),
                    "first_failure": record.first_failure if name in failed else None,
                }
            )
        manifest = {"schema_version": 1}
        manifest.update(self.meta)
        manifest["finished"] = finished
        manifest["complete"] = complete
        manifest["retry_counts"] = counts
        manifest["hosts"] = hosts
        return manifest


def cut_message(message: object) -> str | None:
    """A failure message cut to a length fit for a summary line."""
    if message is None:
        return None
    text = " ".join(str(message).split())
    if len(text) > MESSAGE_MAX:
        text = text[: MESSAGE_MAX - 1] + "\u2026"
    return text
