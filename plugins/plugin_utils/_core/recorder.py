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
    failures ``play``, ``task``, ``action``, ``msg`` (from :func:`failure_message`:
    None for no_log tasks, known secrets redacted).
    ``selection``: true for a result that is no work of the run: a task of the
    relaunch selection itself (the relaunch_info action, the select role), or a
    play's implicit fact gathering that succeeded, which runs before the role
    can end a host.
    A run whose only results are those has ``tasks_ran`` false, and a host whose
    only results are those did not run. ``narrowed``: true on a selection
    result when the selection narrowed the run to a subset of its hosts.
``provision``
    ``host``, ``by``, ``identity``, ``identity_var``: add_host created a host.
``verdict``
    ``failed``: ansible-core's own failed and unreachable hosts (what its
    ``.retry`` file lists) as of a finished batch. It replaces the set derived
    from results so far.
``unstarted``
    ``hosts``: the hosts of the plays that never started, because the run was
    interrupted or a play stopped the playbook (any_errors_fatal, a failed batch).
    They are targeted and, unless failed, ``not_run``.
``stats``
    ``hosts``: ansible-core's own per-host counters at the end of the playbook.
"""

from __future__ import annotations

import contextlib
import gc
import operator
from collections.abc import Iterable, Iterator

SCHEMA_VERSION = 2  # of the manifests the recorder builds
SCHEMA_VERSIONS = (1, 2)  # of the manifests this collection reads
STATUSES = ("all", "failed", "unreachable", "changed", "ok", "skipped", "rescued", "ignored", "not_run", "pending")
STATUSES_V1 = STATUSES[:-1]  # the statuses of a schema-1 manifest, which has no pending
# A host is pending (still to do in its rollout) when it has any of these: the one definition of pending.
PENDING_FROM = ("failed", "not_run")
COUNTERS = ("ok", "changed", "failures", "unreachable", "skipped", "rescued", "ignored")
OUTCOMES = ("ok", "changed", "failed", "unreachable", "skipped")

# The statuses that mean "this counter is above zero" (AWX's meaning): those named as a counter is, with the
# counter's place in a host's counters.
COUNTER_STATUSES = tuple((status, COUNTERS.index(status)) for status in STATUSES if status in COUNTERS)

MESSAGE_MAX = 300  # characters of a failure message kept in a manifest

# The keys of a host's first_failure, in the order the recorder writes them.
FAILURE_KEYS = ("play", "task", "action", "unreachable", "message")

# The keys of a host entry, in the order of its line in a manifest file. A host row is a tuple of
# its values in this order, with the counters as a sequence in COUNTERS order: the Snapshot gives
# rows, :func:`host_entry` makes the dict of one, the store's encoder the line of one.
HOST_KEYS = (
    "name",
    "identity",
    "identity_var",
    "statuses",
    "counters",
    "provisioned",
    "provisioned_by",
    "first_failure",
    "run_id",
    "finished",
)
HOST_KEYS_V1 = HOST_KEYS[:-2]  # the keys of a host entry of a schema-1 manifest


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


# The place of each counter in a host's counters (COUNTERS order).
_OK, _CHANGED, _FAILURES, _UNREACHABLE, _SKIPPED, _RESCUED, _IGNORED = map(
    COUNTERS.index, ("ok", "changed", "failures", "unreachable", "skipped", "rescued", "ignored")
)


class HostRecord:
    """What the recorder knows of one host; slots keep 100,000 hosts small."""

    __slots__ = ("identity", "identity_var", "counters", "provisioned_by", "first_failure")

    def __init__(self) -> None:
        self.identity: str | None = None
        self.identity_var: str | None = None
        self.counters = [0] * len(COUNTERS)
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
        self._ran: set[str] = set()  # hosts with a result of a task other than the relaunch selection
        self.tasks_ran = False  # a host ran a task other than the relaunch selection
        self.narrowed = False  # the relaunch selection narrowed the run to some of its hosts
        self._handlers = {
            "start": self._on_start,
            "host": self._on_host,
            "play": self._on_play,
            "result": self._on_result,
            "provision": self._on_provision,
            "verdict": self._on_verdict,
            "unstarted": self._on_unstarted,
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
        if not event.get("selection"):
            self.tasks_ran = True
            self._ran.add(name)
        elif event.get("narrowed"):
            self.narrowed = True
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
                message = cut_message(event.get("msg"))
                record.first_failure = dict(
                    zip(
                        FAILURE_KEYS,
                        (event.get("play"), event.get("task"), event.get("action"), outcome == "unreachable", message),
                    )
                )
                if message is not None:
                    mask_early(message, host_words(name, record.identity))

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

    def _on_unstarted(self, event: dict) -> None:
        names = event["hosts"]
        self._targeted.update(names)
        self._not_run.update(names)
        for name in names:
            self._host(name)

    def _on_stats(self, event: dict) -> None:
        for name, counts in event["hosts"].items():
            self._host(name).counters = [int(counts.get(key, 0)) for key in COUNTERS]

    def failed_hosts(self) -> set[str]:
        return self._verdict | self._failed_since_verdict

    def manifest(self, complete: bool, finished: str | None) -> dict:
        """The manifest (schema version 1) of what was recorded so far, as one dict."""
        return self.snapshot(complete, finished).manifest()

    def snapshot(self, complete: bool, finished: str | None) -> Snapshot:
        """How every host ended so far: the manifest, with its host entries built on demand.

        An incomplete run also counts the hosts of its unfinished batch as
        ``not_run``: they never got to the end of their play.
        """
        with gc_paused():
            return self._snapshot(complete, finished)

    def _snapshot(self, complete: bool, finished: str | None) -> Snapshot:
        failed = self.failed_hosts()
        not_run = self._not_run | self._pending
        if not complete:
            not_run = not_run | self._batch
        not_run = not_run - failed
        ran = self._ran | failed  # ansible-core's verdict counts: a host it failed ran
        if not self.narrowed:
            # Unless the relaunch selection ended hosts, every host that got to its play ran it, even without a
            # result of its own (a run_once task reports for one host only).
            ran = ran | (self._targeted - not_run)
        names = []
        statuses_of = []
        shared: dict[tuple, list[str]] = {}  # a few distinct status lists, shared by every host that has one
        counts = dict.fromkeys(STATUSES, 0)
        for name in sorted(self.hosts):
            record = self.hosts[name]
            if name not in self._targeted and name not in failed:
                # Seen in cumulative stats of an earlier playbook only, or outside the --limit:
                # an inventory host and a host add_host created follow the same rule.
                continue
            statuses = ["all"]
            if name not in ran:
                statuses.extend(("not_run", "pending"))  # what the selection's own tasks did is no outcome
            else:
                if name in failed:
                    statuses.append("failed")
                for status, index in COUNTER_STATUSES:
                    if record.counters[index] > 0:
                        statuses.append(status)
                if name in not_run:
                    statuses.append("not_run")
                if name in failed or name in not_run:
                    statuses.append("pending")
            key = tuple(statuses)
            if key not in shared:
                statuses.sort()
                shared[key] = statuses
            for status in key:
                counts[status] += 1
            names.append(name)
            statuses_of.append(shared[key])
        head = {"schema_version": SCHEMA_VERSION}
        head.update(self.meta)
        head["finished"] = finished
        head["complete"] = complete
        head["tasks_ran"] = self.tasks_ran
        head["narrowed"] = self.narrowed
        head["rollout"] = None  # set when the run is merged into its rollout
        head["retry_counts"] = counts
        snapshot = Snapshot(head, names, statuses_of, self.hosts, failed, ran)
        head["failure_groups"] = failure_groups(snapshot.rows("failed"))
        return snapshot


class Manifest:
    """A manifest as its head and its host rows (see :data:`HOST_KEYS`), which the store encodes as it is.

    The rollout state the store builds by merging runs is one; a run's :class:`Snapshot` is another.
    """

    __slots__ = ("head", "_rows")

    def __init__(self, head: dict, rows: list[tuple]) -> None:
        self.head = head  # every key of the manifest but "hosts"
        self._rows = rows

    def rows(self, status: str | None = None) -> Iterator[tuple]:
        """The host rows in name order; only those with ``status`` when given."""
        if status is None:
            return iter(self._rows)
        return (row for row in self._rows if status in row[_STATUSES_AT])

    def hosts(self, status: str | None = None) -> Iterator[dict]:
        """The host entries in name order; only those with ``status`` when given."""
        return map(host_entry, self.rows(status))

    def manifest(self) -> dict:
        manifest = dict(self.head)
        hosts = manifest["hosts"] = []
        with gc_paused():
            for host in self.hosts():
                host["statuses"] = list(host["statuses"])  # a list of its own, free to change
                hosts.append(host)
        return manifest


class Snapshot(Manifest):
    """A manifest whose host entries are built one at a time, when read.

    Held as one dict, a 100,000-host manifest takes about 700 B per host on top
    of the recorder; the store writes it from here host by host instead
    (docs/performance.md). It reads the recorder's own host records, so take it
    once recording is over. Status lists are shared among hosts: read them, never change them.
    """

    __slots__ = ("_names", "_statuses", "_records", "_failed", "_ran")

    def __init__(
        self,
        head: dict,
        names: list[str],
        statuses: list[list[str]],
        records: dict[str, HostRecord],
        failed: set[str],
        ran: set[str] | None = None,
    ) -> None:
        super().__init__(head, [])
        self._names = names
        self._statuses = statuses
        self._records = records
        self._failed = failed
        self._ran = set(names) if ran is None else ran

    def rows(self, status: str | None = None) -> Iterator[tuple]:
        """The host rows (see :data:`HOST_KEYS`) in name order; only those with ``status`` when given.

        The one place where a host's record becomes its manifest entry.
        """
        records, failed, ran = self._records, self._failed, self._ran
        run_id, finished = self.head.get("run_id"), self.head.get("finished")
        for name, statuses in zip(self._names, self._statuses):
            if status is not None and status not in statuses:
                continue
            record = records[name]
            provisioned_by = record.provisioned_by
            yield (
                name,
                record.identity,
                record.identity_var,
                statuses,
                record.counters,
                provisioned_by is not None,
                sorted(provisioned_by) if provisioned_by else [],
                record.first_failure if name in failed else None,
                *((run_id, finished) if name in ran else (None, None)),
            )


def host_entry(row: tuple) -> dict:
    """The host entry of a row, as a manifest (dict) holds it."""
    entry = dict(zip(HOST_KEYS, row))
    entry["counters"] = dict(zip(COUNTERS, entry["counters"]))
    return entry


_ENTRY_VALUES = operator.itemgetter(*HOST_KEYS)
_ENTRY_VALUES_V1 = operator.itemgetter(*HOST_KEYS_V1)
_COUNTER_VALUES = operator.itemgetter(*COUNTERS)
_STATUSES_AT = HOST_KEYS.index("statuses")
_FAILURE_AT = HOST_KEYS.index("first_failure")


def host_row(entry: dict) -> tuple:
    """The row of a host entry: :func:`host_entry` undone."""
    values = _ENTRY_VALUES(entry)
    return (*values[:4], _COUNTER_VALUES(values[4]), *values[5:])


def _host_row_v1(entry: dict, run_id: str, finished: str | None) -> tuple:
    """The row of a schema-1 host entry: its run is the manifest's, and pending is derived."""
    values = _ENTRY_VALUES_V1(entry)
    statuses = values[3]
    if "pending" not in statuses and not PENDING_SET.isdisjoint(statuses):
        statuses = [*statuses, "pending"]
    return (*values[:3], statuses, _COUNTER_VALUES(values[4]), *values[5:], run_id, finished)


PENDING_SET = frozenset(PENDING_FROM)


def manifest_parts(manifest: dict | Manifest) -> tuple[dict, Iterable[tuple]]:
    """A manifest's head (every key but "hosts") and its host rows, whether it is a dict, a Snapshot or a Manifest.

    What the store and the selection read of a manifest: a Snapshot (the run being
    published) gives its rows without building its host entries. A schema-1 manifest is
    read as schema 2 says: each host's run is the manifest's, pending is derived.
    """
    if isinstance(manifest, Manifest):
        return manifest.head, manifest.rows()
    head = {key: value for key, value in manifest.items() if key != "hosts"}
    if head.get("schema_version", SCHEMA_VERSION) >= SCHEMA_VERSION:
        return head, map(host_row, manifest["hosts"])
    hosts = manifest["hosts"]
    counts = head["retry_counts"] = dict(head["retry_counts"])
    counts["pending"] = sum(1 for host in hosts if not PENDING_SET.isdisjoint(host["statuses"]))
    run_id, finished = head.get("run_id"), head.get("finished")
    return head, (_host_row_v1(host, run_id, finished) for host in hosts)


def current_schema(manifest: dict | Manifest) -> dict | Manifest:
    """A manifest as the recorder writes it today: one of an older schema is read (:func:`manifest_parts`) and
    given the keys it lacks, so that it is written again as a valid manifest of this schema."""
    if isinstance(manifest, Manifest) or manifest.get("schema_version", SCHEMA_VERSION) >= SCHEMA_VERSION:
        return manifest
    head, rows = manifest_parts(manifest)
    rows = list(rows)
    head.update(schema_version=SCHEMA_VERSION, narrowed=False, rollout=None, failure_groups=failure_groups(rows))
    return Manifest(head, rows)


def failure_groups(rows: Iterable[tuple]) -> list[dict]:
    """The failure groups of the failed hosts among ``rows`` (failures.py), as a manifest keeps them."""
    failed = [row for row in rows if "failed" in row[_STATUSES_AT]]
    if not failed:
        return []
    from .failures import failure_of, group_failures  # loaded only when a host failed

    failures = [failure_of(row[0], row[_FAILURE_AT], host_words(row[0], row[1])) for row in failed]
    return [group.as_dict() for group in group_failures(failures)]


def host_words(name: str, identity: str | None) -> tuple[str, ...]:
    """The words that identify a host in its failure message (failures.normalise): its name, and its identity."""
    return (name, identity) if identity and identity != name else (name,)


def mask_early(message: str, words: tuple[str, ...]) -> None:
    """Mask a host's first failure message as it is recorded, while hosts run, for the end of the run to find it
    masked (failures.normalise keeps it); the end of a run with 20,000 failed hosts is then none the slower for
    grouping them (docs/performance.md)."""
    from .failures import normalise  # loaded at a run's first failure, not with the callback

    normalise(message, words)


REDACTED = "********"


def failure_message(result: dict, no_log: bool, secrets: Iterable[str] = ()) -> str | None:
    """The message of a failed result as the manifest may keep it.

    None for a ``no_log`` task or a result ansible-core censored; otherwise the
    first of ``msg``, ``reason``, ``stderr``, ``module_stderr``, with every
    value of ``secrets`` (vaulted values, passwords) replaced by ``REDACTED``,
    then cut. Redacted before it is cut, so no part of a secret survives.
    """
    if no_log or result.get("censored"):
        return None
    message = result.get("msg") or result.get("reason") or result.get("stderr") or result.get("module_stderr")
    if not message:
        return None
    # Whitespace collapsed before redacting, in the message and in each secret alike, so that a secret spread
    # over several lines is still found; the text is then only cut, as it has no whitespace left to collapse.
    text = _one_line(message)
    # Longest first: a secret that contains another is redacted whole.
    for secret in sorted({_one_line(secret) for secret in secrets}, key=len, reverse=True):
        if secret and secret in text:
            text = text.replace(secret, REDACTED)
    return _cut(text)


def cut_message(message: object) -> str | None:
    """A failure message on one line, cut to a length fit for a summary line."""
    if message is None:
        return None
    return _cut(_one_line(message))


def _one_line(message: object) -> str:
    """The text of a message with every run of whitespace, line breaks included, made one space."""
    return " ".join(str(message).split())


def _cut(text: str) -> str:
    return text if len(text) <= MESSAGE_MAX else text[: MESSAGE_MAX - 1] + "\u2026"
