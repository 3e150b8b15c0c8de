# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a valid manifest is, and reading a manifest file through that check."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from itertools import repeat
from operator import itemgetter
from typing import NamedTuple

from ..errors import RelaunchError, brief
from ..recorder import (
    COUNTERS,
    FAILURE_KEYS,
    HOST_KEYS,
    HOST_KEYS_V1,
    MESSAGE_MAX,
    SCHEMA_VERSION,
    SCHEMA_VERSIONS,
    STATUSES,
    STATUSES_V1,
)
from .layout import RUN_ID


def read_manifest(path: str) -> dict:
    """Read and validate a manifest file; any problem is one RelaunchError naming the file."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise RelaunchError(f"manifest {path} cannot be read: {exc.strerror}") from None
    except ValueError:  # a NUL in the path
        raise RelaunchError(f"manifest {brief(path, 200)} cannot be read: the path holds a NUL character") from None
    try:
        manifest = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise RelaunchError(
            f"manifest {path} is not valid JSON ({type(exc).__name__}); it is damaged: "
            "rerun the playbook or name another manifest"
        ) from None
    validate(manifest, path)
    return manifest


def not_a_manifest(path: str, problem: str) -> RelaunchError:
    return RelaunchError(f"manifest {path} is not a relaunch.status manifest: {problem}")


def validate(manifest: object, path: str) -> None:
    """Check every rule of a manifest; raise one clear RelaunchError naming the first broken one."""
    if not isinstance(manifest, dict):
        raise not_a_manifest(path, f"top level is a {type(manifest).__name__}, not an object")
    version = _check_schema_version(manifest.get("schema_version"), path)
    rules = _RULES[version]
    problem = _keys_problem(manifest, rules.top_keys, _TOP_OPTIONAL) or _rules_problem(manifest, rules.head)
    if problem:
        raise not_a_manifest(path, problem)
    problem = _hosts_problem(manifest["hosts"], rules)
    if problem:
        raise not_a_manifest(path, problem)


def _check_schema_version(version: object, path: str) -> int:
    # Not math.isnan() of an int: an int too large for a float raises OverflowError.
    if (
        isinstance(version, bool)
        or not isinstance(version, (int, float))
        or (isinstance(version, float) and math.isnan(version))
    ):
        raise not_a_manifest(path, "schema_version is missing or not a number")
    if version > SCHEMA_VERSION:
        raise RelaunchError(
            f"manifest {path} has schema version {brief(version)}, newer than this collection reads "
            f"({SCHEMA_VERSION}); upgrade relaunch.status"
        )
    if version not in SCHEMA_VERSIONS:
        raise not_a_manifest(path, f"unknown schema version {brief(version)}")
    return int(version)


# The rules of a valid manifest, each stated once; docs/manifest.schema.json says the same
# (tests/property/test_schema_agreement.py checks that both accept and reject the same documents).
# Patterns are matched with re.search, as JSON Schema validators match "pattern".
_STATUS_SET = frozenset(STATUSES)
_STATUS_SET_V1 = frozenset(STATUSES_V1)
_COUNTER_SET = frozenset(COUNTERS)
_TOP_KEYS_V1 = frozenset(
    (
        "schema_version", "run_id", "playbook", "started", "finished", "complete", "check_mode",
        "ansible_version", "invocation", "passwords_needed_to_start", "retry_counts", "hosts",
    )
)  # fmt: skip
_TOP_KEYS = _TOP_KEYS_V1 | {"narrowed", "rollout", "failure_groups"}
_ROLLOUT_KEYS = frozenset(("started_by", "runs"))
_GROUP_KEYS = frozenset(("task", "action", "message", "example", "unreachable", "hosts"))
_GROUP_ID = re.compile("^[0-9a-f]{8}$")  # failures.ID_PATTERN; absent from manifests of earlier versions
_TOP_OPTIONAL = frozenset(("tasks_ran",))  # absent in manifests of earlier versions
_INVOCATION_KEYS = frozenset(("limit", "inventory", "tags", "skip_tags"))
_INVOCATION_OPTIONAL = frozenset(("limit_given",))
_HOST_KEYS = frozenset(HOST_KEYS)
_FAILURE_KEYS = frozenset(FAILURE_KEYS)
_FAILURE_TEXTS = tuple(key for key in FAILURE_KEYS if key != "unreachable")  # each a string or null
_TIMESTAMP = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$")
_PASSWORD = re.compile(r"^(ssh_password|become_password|vault_password(\..+)?)$")
_ABSENT = object()  # an optional key that is not there: its rule passes

# A rule: (key, check, problem). check(value) is true when the value at key is right, and problem is the text
# of the error when it is not, or a function of the value that gives it. A rule without a check (None) is an
# object with rules of its own: its problem function gives the first one broken, or None.
# The first rule broken is the one reported.
Rule = tuple[str, "Callable[[object], object] | None", "str | Callable[[object], str | None]"]


def _keys_problem(value: dict, required: frozenset, optional: frozenset = frozenset()) -> str | None:
    """What is wrong with an object's keys: a required one missing, or one that is not known."""
    keys = value.keys()
    if keys == required:
        return None
    missing = sorted(required - keys)
    if missing:
        return f"{missing[0]} is missing"
    unknown = sorted(keys - required - optional)
    return f"has an unknown key {brief(unknown[0])}" if unknown else None


def _rules_problem(value: dict, rules: tuple[Rule, ...]) -> str | None:
    """The problem of the first rule that ``value`` (an object whose keys were checked) breaks, or None."""
    for key, check, problem in rules:
        item = value.get(key, _ABSENT)
        if item is _ABSENT or (check is not None and check(item)):
            continue
        found = problem if isinstance(problem, str) else problem(item)
        if found:
            return found
    return None


def _is_count(value: object) -> bool:
    """A JSON Schema integer of at least 0: 2.0 is the number 2, true is not a number."""
    if value.__class__ is int:  # almost every count: the cheap test first
        return value >= 0
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return (isinstance(value, int) or value.is_integer()) and value >= 0


def _is_str(value: object) -> bool:
    return isinstance(value, str)


def _is_bool(value: object) -> bool:
    return isinstance(value, bool)


def _is_str_list(value: object) -> bool:
    # map() of isinstance rather than a generator: no Python frame per item, for every host's status list.
    return isinstance(value, list) and all(map(isinstance, value, repeat(str)))


def _optional_str(value: object) -> bool:
    return value is None or isinstance(value, str)


def _is_timestamp(value: object) -> bool:
    return _TIMESTAMP.search(value) is not None  # the rule before checked that it is a str


def _is_optional_timestamp(value: object) -> bool:
    return value is None or (isinstance(value, str) and _TIMESTAMP.search(value) is not None)


def _is_run_id(value: object) -> bool:
    return RUN_ID.search(value) is not None  # the rule before checked that it is a str


def _is_optional_run_id(value: object) -> bool:
    return value is None or (isinstance(value, str) and RUN_ID.search(value) is not None)


def _is_password_list(value: object) -> bool:
    return _is_str_list(value) and all(_PASSWORD.search(item) for item in value) and len(set(value)) == len(value)


def _invocation_problem(invocation: dict) -> str | None:
    problem = _keys_problem(invocation, _INVOCATION_KEYS, _INVOCATION_OPTIONAL)
    if problem:
        return f"invocation.{problem}" if "missing" in problem else f"invocation {problem}"
    return _rules_problem(invocation, _INVOCATION_RULES)


def _retry_counts_problem(counts: object, statuses: frozenset = _STATUS_SET) -> str | None:
    if not isinstance(counts, dict):
        return "retry_counts is not an object"
    problem = _keys_problem(counts, statuses)
    if problem:
        return f"retry_counts {problem}"
    for status, count in counts.items():
        if not _is_count(count):
            return f"retry_counts has a bad entry {brief(status)}: {brief(count)}"
    return None


_INVOCATION_RULES: tuple[Rule, ...] = (
    ("limit", _is_str, "invocation.limit is not a string"),
    ("limit_given", _is_str, "invocation.limit_given is not a string"),
    ("inventory", _is_str_list, "invocation.inventory is not a list of strings"),
    ("tags", _is_str_list, "invocation.tags is not a list of strings"),
    ("skip_tags", _is_str_list, "invocation.skip_tags is not a list of strings"),
)


def _is_rollout(value: object) -> bool:
    if value is None:
        return True
    return (
        isinstance(value, dict)
        and value.keys() == _ROLLOUT_KEYS
        and isinstance(value["started_by"], str)
        and RUN_ID.search(value["started_by"]) is not None
        and _is_count(value["runs"])
        and value["runs"] >= 1
    )


def _is_failure_group(value: object) -> bool:
    return (
        isinstance(value, dict)
        and (value.keys() == _GROUP_KEYS or (value.keys() - {"id"} == _GROUP_KEYS and _is_group_id(value["id"])))
        and all(_optional_str(value[key]) for key in ("task", "action", "message", "example"))
        and isinstance(value["unreachable"], bool)
        and _is_str_list(value["hosts"])
    )


def _is_group_id(value: object) -> bool:
    return isinstance(value, str) and _GROUP_ID.search(value) is not None


def _is_failure_groups(value: object) -> bool:
    return isinstance(value, list) and all(map(_is_failure_group, value))


# The head of a manifest: every key but "hosts", whose entries _HOST_RULES check.
_HEAD_RULES_V1: tuple[Rule, ...] = (
    ("tasks_ran", _is_bool, "tasks_ran is not true or false"),
    ("run_id", _is_str, "run_id is not a str"),
    ("playbook", _is_str, "playbook is not a str"),
    ("started", _is_str, "started is not a str"),
    ("ansible_version", _is_str, "ansible_version is not a str"),
    ("invocation", lambda value: isinstance(value, dict), "invocation is not a dict"),
    ("complete", _is_bool, "complete is not true or false"),
    ("check_mode", _is_bool, "check_mode is not true or false"),
    ("run_id", _is_run_id, lambda value: f"run_id {brief(value)} is not a run id"),
    ("playbook", bool, "playbook is empty"),
    ("started", _is_timestamp, "started is not an ISO 8601 time"),
    ("finished", _is_optional_timestamp, "finished is not an ISO 8601 time or null"),
    ("invocation", None, _invocation_problem),
    (
        "passwords_needed_to_start",
        _is_password_list,
        "passwords_needed_to_start must list each of ssh_password, become_password, vault_password, "
        "vault_password.<id> at most once",
    ),
    ("retry_counts", None, lambda value: _retry_counts_problem(value, _STATUS_SET_V1)),
    ("hosts", lambda value: isinstance(value, list), "hosts is not a list"),
)
_HEAD_RULES: tuple[Rule, ...] = (
    *(rule for rule in _HEAD_RULES_V1 if rule[0] != "retry_counts"),
    ("retry_counts", None, _retry_counts_problem),
    ("narrowed", _is_bool, "narrowed is not true or false"),
    ("rollout", _is_rollout, "rollout is not null or an object of started_by (a run id) and runs (at least 1)"),
    (
        "failure_groups",
        _is_failure_groups,
        "failure_groups is not a list of objects of task, action, message, example, unreachable and hosts "
        "(and an id of 8 hex digits)",
    ),
)


def _is_status_list(value: object, statuses: frozenset = _STATUS_SET) -> bool:
    return _is_str_list(value) and statuses.issuperset(value) and "all" in value and len(set(value)) == len(value)


def _is_status_list_v1(value: object) -> bool:
    return _is_status_list(value, _STATUS_SET_V1)


def _is_counters(value: object) -> bool:
    return isinstance(value, dict) and value.keys() == _COUNTER_SET and all(map(_is_count, value.values()))


def _is_first_failure(value: object) -> bool:
    if value is None:
        return True
    return (
        isinstance(value, dict)
        and value.keys() == _FAILURE_KEYS
        and all(_optional_str(value[key]) for key in _FAILURE_TEXTS)
        and isinstance(value["unreachable"], bool)
        and (value["message"] is None or len(value["message"]) <= MESSAGE_MAX)
    )


# A host entry, after its place in the error (e.g. "hosts[3].name is not a non-empty string").
_HOST_RULES_V1: tuple[tuple[str, Callable[[object], object], str], ...] = (
    ("name", lambda value: isinstance(value, str) and value, ".name is not a non-empty string"),
    ("identity", _optional_str, ".identity is not a string or null"),
    ("identity_var", _optional_str, ".identity_var is not a string or null"),
    ("statuses", _is_status_list_v1, f".statuses must list all and any of {', '.join(STATUSES_V1[1:])}, each once"),
    ("counters", _is_counters, f".counters is not a map of {', '.join(COUNTERS)} to numbers"),
    ("provisioned", _is_bool, ".provisioned is not true or false"),
    ("provisioned_by", _is_str_list, ".provisioned_by is not a list of host names"),
    (
        "first_failure",
        _is_first_failure,
        f".first_failure is not null or an object of {', '.join(sorted(_FAILURE_KEYS))} "
        f"(message at most {MESSAGE_MAX} characters)",
    ),
)


_HOST_RULES = (
    *(rule for rule in _HOST_RULES_V1 if rule[0] != "statuses"),
    ("statuses", _is_status_list, f".statuses must list all and any of {', '.join(STATUSES[1:])}, each once"),
    ("run_id", _is_optional_run_id, ".run_id is not a run id or null"),
    ("finished", _is_optional_timestamp, ".finished is not an ISO 8601 time or null"),
)


class _Rules(NamedTuple):
    """The rules of one schema version."""

    top_keys: frozenset
    head: tuple[Rule, ...]
    host_keys: frozenset
    host: tuple


_RULES = {
    1: _Rules(_TOP_KEYS_V1, _HEAD_RULES_V1, frozenset(HOST_KEYS_V1), _HOST_RULES_V1),
    SCHEMA_VERSION: _Rules(_TOP_KEYS, _HEAD_RULES, _HOST_KEYS, _HOST_RULES),
}


def _host_problem(host: object, rules: _Rules = _RULES[SCHEMA_VERSION]) -> str | None:
    """What is wrong with a host entry (after its place, e.g. ".name is empty"), or None."""
    if not isinstance(host, dict):
        return " is not an object"
    problem = _keys_problem(host, rules.host_keys)
    if problem:
        return f".{problem}" if "missing" in problem else f" {problem}"
    # Every host of a large manifest comes here: the rules are read inline rather than through _rules_problem.
    for key, check, problem in rules.host:
        if not check(host[key]):
            return problem
    return None


def _hosts_problem(hosts: list, rules: _Rules) -> str | None:
    """What is wrong with the first bad host entry (e.g. "hosts[3].name is not a non-empty string"), or None.

    Entries of the current schema go through :func:`_quick_host` first, a few inline checks in one pass (a
    manifest of 20,000 hosts has 20,000 entries to check); only an entry it cannot vouch for goes through the
    rules one by one, which say what is wrong. Either way an entry passes only if every rule holds.
    """
    seen = _Seen() if rules is _RULES[SCHEMA_VERSION] else None
    for index, host in enumerate(hosts):
        if seen is not None and _quick_host(host, seen):
            continue
        problem = _host_problem(host, rules)
        if problem:
            return f"hosts[{index}]{problem}"
    return None


class _Seen:
    """Values found valid in earlier host entries of one manifest: most entries share their statuses, failure,
    run id and finishing time, and a set lookup is cheaper than checking each again."""

    __slots__ = ("statuses", "failures", "run_ids", "times")

    def __init__(self) -> None:
        self.statuses: set[tuple] = set()
        self.failures: set[tuple] = set()
        self.run_ids: set[str] = set()
        self.times: set[str] = set()


_HOST_VALUES = itemgetter(*HOST_KEYS)
_COUNTER_VALUES = itemgetter(*COUNTERS)
_FAILURE_VALUES = itemgetter(*FAILURE_KEYS)
_FAILURE_TEXT_VALUES = itemgetter(*_FAILURE_TEXTS)
_COUNTER_TYPES = (int,) * len(COUNTERS)


def _quick_host(host: object, seen: _Seen) -> bool:
    """True only for a host entry of the current schema that every rule of _HOST_RULES accepts.

    Stricter than the rules where that is cheaper (exact types, counters that are ints): False sends an entry
    to :func:`_host_problem`, which decides. A value found valid in an earlier entry is valid again: a string
    equals only a string, so an equal tuple of strings (or nulls) is one of the same types.
    """
    if host.__class__ is not dict or len(host) != len(HOST_KEYS):
        return False
    try:
        # As many keys as HOST_KEYS, and each of them there: exactly those keys.
        name, identity, identity_var, statuses, counters, provisioned, provisioned_by, failure, run_id, finished = (
            _HOST_VALUES(host)
        )
        return (
            name.__class__ is str
            and name != ""
            and (identity is None or identity.__class__ is str)
            and (identity_var is None or identity_var.__class__ is str)
            and provisioned.__class__ is bool
            and provisioned_by.__class__ is list
            and (not provisioned_by or _is_str_list(provisioned_by))
            and statuses.__class__ is list
            and _seen_valid(tuple(statuses), seen.statuses, _is_status_list, statuses)
            and _quick_counters(counters)
            and (failure is None or _quick_failure(failure, seen))
            and _quick_run(run_id, finished, seen)
        )
    except (KeyError, TypeError):  # a key missing, or a list or an object where a string belongs
        return False


def _quick_run(run_id: object, finished: object, seen: _Seen) -> bool:
    return (run_id is None or (run_id.__class__ is str and _seen_valid(run_id, seen.run_ids, _is_run_id))) and (
        finished is None or (finished.__class__ is str and _seen_valid(finished, seen.times, _is_timestamp))
    )


def _quick_counters(counters: object) -> bool:
    if counters.__class__ is not dict or len(counters) != len(COUNTERS):
        return False
    values = _COUNTER_VALUES(counters)  # KeyError unless the keys are COUNTERS
    return tuple(map(type, values)) == _COUNTER_TYPES and min(values) >= 0


def _quick_failure(failure: object, seen: _Seen) -> bool:
    if failure.__class__ is not dict or len(failure) != len(FAILURE_KEYS):
        return False
    _FAILURE_VALUES(failure)  # KeyError unless the keys are FAILURE_KEYS
    return failure["unreachable"].__class__ is bool and _seen_valid(
        _FAILURE_TEXT_VALUES(failure), seen.failures, _failure_texts_valid
    )


def _failure_texts_valid(texts: tuple) -> bool:
    """Whether the texts of a first_failure (in _FAILURE_TEXTS order, the message last) are each a string or null,
    the message at most MESSAGE_MAX characters."""
    return all(map(_optional_str, texts)) and (texts[-1] is None or len(texts[-1]) <= MESSAGE_MAX)


def _seen_valid(key: object, found: set, check: Callable[[object], bool], value: object = None) -> bool:
    """Whether ``value`` (``key`` when not given) is valid: ``key`` was found so before, or ``check`` says so now
    (and ``key`` is remembered)."""
    if key in found:
        return True
    if check(key if value is None else value):
        found.add(key)
        return True
    return False
