# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rollout state (latest.json): a first run and every relaunch made from it, merged host by host.

For each host the state holds the host's entry from the latest run (by run id, which sorts by start
time) that actually ran it. Merging works on host rows (recorder.HOST_KEYS), never on entry dicts,
so that publishing a large run stays fast.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Set as AbstractSet

from ..recorder import HOST_KEYS, PENDING_FROM, SCHEMA_VERSION, STATUSES, Manifest, failure_groups, manifest_parts

_IDENTITY = HOST_KEYS.index("identity")
_STATUSES = HOST_KEYS.index("statuses")
_RUN_ID = HOST_KEYS.index("run_id")
_PENDING = frozenset(PENDING_FROM)


def starts_rollout(
    run_head: dict, run_rows: list[tuple], state: Manifest | None, inventory_names: AbstractSet[str] | None
) -> bool:
    """Whether a run starts a new rollout rather than continuing the state's.

    It does when there is no state; or when it is not older than the state's newest run, ran without a
    --limit, was not narrowed by the relaunch selection, and left no pending host of the state that is in
    its inventory without running (a play whose ``hosts:`` is a lookup narrows a run without any limit).
    Without ``inventory_names`` every pending host counts as in the inventory: in doubt, the rollout goes on.
    """
    if state is None:
        return True
    if run_head["run_id"] < state.head["run_id"]:
        return False  # a run that started before the state's newest run finished later: it belongs to that rollout
    invocation = run_head.get("invocation", {})
    if invocation.get("limit_given", invocation.get("limit")) or run_head.get("narrowed"):
        return False
    ran_names = set()
    ran_identities = set()
    known_identities = set()
    for row in run_rows:
        if row[_IDENTITY] is not None:
            known_identities.add(row[_IDENTITY])
        if row[_RUN_ID] is not None:
            ran_names.add(row[0])
            if row[_IDENTITY] is not None:
                ran_identities.add(row[_IDENTITY])
    for row in state.rows("pending"):
        name, identity = row[0], row[_IDENTITY]
        if name in ran_names or (identity is not None and identity in ran_identities):
            continue
        in_inventory = (
            inventory_names is None
            or name in inventory_names
            or (identity is not None and identity in known_identities)
        )
        if in_inventory:
            return False
    return True


def merge(state: Manifest | None, run: dict | Manifest, inventory_names: AbstractSet[str] | None = None) -> Manifest:
    """The rollout state once ``run`` (a useful run: tasks ran, not a dry run) is merged into ``state``.

    Sets the run's own ``rollout`` (the rollout it was merged into, as of its merge) when the run is a
    Manifest (the Snapshot being published).
    """
    run_head, rows = manifest_parts(run)
    run_rows = list(rows)
    run_id = run_head["run_id"]
    if starts_rollout(run_head, run_rows, state, inventory_names):
        rollout = {"started_by": run_id, "runs": 1}
        if isinstance(run, Manifest):
            # The recorder counted and grouped these very rows: the state is the run itself.
            run.head["rollout"] = rollout
            return Manifest(run.head, run_rows)
        merged_rows = run_rows
        head = dict(run_head)
    else:
        if state is None:  # starts_rollout() is true without a state
            raise AssertionError("a continuation without a rollout state")
        merged_rows = _merged_rows(list(state.rows()), run_rows)
        rollout = {"started_by": state.head["rollout"]["started_by"], "runs": state.head["rollout"]["runs"] + 1}
        newest = run_head if run_id >= state.head["run_id"] else state.head
        head = dict(newest)
        head["invocation"] = state.head["invocation"]  # "relaunch all" means the first run's limit
        head["passwords_needed_to_start"] = sorted(
            {*state.head["passwords_needed_to_start"], *run_head["passwords_needed_to_start"]}
        )
    head["rollout"] = rollout
    head["retry_counts"] = _counts(merged_rows)
    head["failure_groups"] = failure_groups(merged_rows)
    if isinstance(run, Manifest):
        run.head["rollout"] = dict(rollout)
    elif run.get("schema_version") == SCHEMA_VERSION:
        run["rollout"] = dict(rollout)  # a recovered run's manifest, written before it died
    return Manifest(head, merged_rows)


def _merged_rows(state_rows: list[tuple], run_rows: Iterable[tuple]) -> list[tuple]:
    """The state's rows with each host that ran replacing its entry (by identity, else by name) unless that
    entry is of a newer run; hosts new to the state are added as they are."""
    by_identity: dict[str, int] = {}
    by_name: dict[str, int] = {}
    for index, row in enumerate(state_rows):
        by_name[row[0]] = index
        if row[_IDENTITY] is not None:
            by_identity[row[_IDENTITY]] = index
    added = []
    for row in run_rows:
        index = _entry_of(row, state_rows, by_identity, by_name)
        if index is None:
            added.append(row)
            continue
        entry_run = state_rows[index][_RUN_ID]
        if row[_RUN_ID] is not None and (entry_run is None or row[_RUN_ID] >= entry_run):
            state_rows[index] = row
    merged = state_rows + added
    merged.sort(key=_name_of)
    return merged


def _entry_of(row: tuple, state_rows: list[tuple], by_identity: dict[str, int], by_name: dict[str, int]) -> int | None:
    """The place of a run row's host in the state: by identity when it has one, else by name."""
    identity = row[_IDENTITY]
    if identity is not None:
        index = by_identity.get(identity)
        if index is not None:
            return index
    index = by_name.get(row[0])
    if index is None:
        return None
    # A name now held by another machine (another identity) is another host.
    other = state_rows[index][_IDENTITY]
    return index if identity is None or other is None or other == identity else None


def _name_of(row: tuple) -> str:
    return row[0]


def _counts(rows: Iterable[tuple]) -> dict[str, int]:
    counts = dict.fromkeys(STATUSES, 0)
    for row in rows:
        for status in row[_STATUSES]:
            counts[status] += 1
    return counts


def state_of(manifest: dict | None) -> Manifest | None:
    """A read latest.json as a state to merge into (None: none). A schema-1 latest.json, a copy of one run,
    is the state of a rollout that run started."""
    if manifest is None:
        return None
    head, rows = manifest_parts(manifest)
    if not head.get("rollout"):
        head["rollout"] = {"started_by": head["run_id"], "runs": 1}
    return Manifest(head, list(rows))
