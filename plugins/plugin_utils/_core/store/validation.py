# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a valid manifest is, and reading a manifest file through that check."""

from __future__ import annotations

import json
import math
import re

from ..errors import RelaunchError, brief
from ..recorder import COUNTERS, HOST_KEYS, MESSAGE_MAX, SCHEMA_VERSION, STATUSES
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
            f"manifest {path} is not valid JSON ({type(exc).__name__}); it is damaged: rerun the playbook or name another manifest"
        ) from None
    validate(manifest, path)
    return manifest


# The rules of a valid manifest, each stated once; docs/manifest.schema.json says the same
# (tests/property/test_schema_agreement.py checks that both accept and reject the same documents).
# Patterns are matched with re.search, as JSON Schema validators match "pattern".
_STATUS_SET = frozenset(STATUSES)
_COUNTER_SET = frozenset(COUNTERS)
_TOP_KEYS = frozenset(
    (
        "schema_version", "run_id", "playbook", "started", "finished", "complete", "check_mode",
        "ansible_version", "invocation", "passwords_needed_to_start", "retry_counts", "hosts",
    )
)  # fmt: skip
_TOP_OPTIONAL = frozenset(("tasks_ran",))  # absent in manifests of earlier versions
_INVOCATION_KEYS = frozenset(("limit", "inventory", "tags", "skip_tags"))
_INVOCATION_OPTIONAL = frozenset(("limit_given",))
_HOST_KEYS = frozenset(HOST_KEYS)
_FAILURE_KEYS = frozenset(("play", "task", "action", "unreachable", "message"))
_TIMESTAMP = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$")
_PASSWORD = re.compile(r"^(ssh_password|become_password|vault_password(\..+)?)$")


def not_a_manifest(path: str, problem: str) -> RelaunchError:
    return RelaunchError(f"manifest {path} is not a relaunch.status manifest: {problem}")


def _is_count(value: object) -> bool:
    """A JSON Schema integer of at least 0: 2.0 is the number 2, true is not a number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return (isinstance(value, int) or value.is_integer()) and value >= 0


def _is_str_list(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _optional_str(value: object) -> bool:
    return value is None or isinstance(value, str)


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


def validate(manifest: object, path: str) -> None:
    """Check every rule of a manifest; raise one clear RelaunchError naming the first broken one."""
    if not isinstance(manifest, dict):
        raise not_a_manifest(path, f"top level is a {type(manifest).__name__}, not an object")
    version = manifest.get("schema_version")
    # Not math.isnan() of an int: an int too large for a float raises OverflowError.
    if (
        isinstance(version, bool)
        or not isinstance(version, (int, float))
        or (isinstance(version, float) and math.isnan(version))
    ):
        raise not_a_manifest(path, "schema_version is missing or not a number")
    if version > SCHEMA_VERSION:
        raise RelaunchError(
            f"manifest {path} has schema version {brief(version)}, newer than this collection reads ({SCHEMA_VERSION}); upgrade relaunch.status"
        )
    if version != SCHEMA_VERSION:
        raise not_a_manifest(path, f"unknown schema version {brief(version)}")
    problem = _keys_problem(manifest, _TOP_KEYS, _TOP_OPTIONAL)
    if problem:
        raise not_a_manifest(path, problem)
    if "tasks_ran" in manifest and not isinstance(manifest["tasks_ran"], bool):
        raise not_a_manifest(path, "tasks_ran is not true or false")
    for key, kind in (
        ("run_id", str),
        ("playbook", str),
        ("started", str),
        ("ansible_version", str),
        ("invocation", dict),
    ):
        if not isinstance(manifest[key], kind):
            raise not_a_manifest(path, f"{key} is not a{'n' if kind.__name__[0] in 'aeiou' else ''} {kind.__name__}")
    for key in ("complete", "check_mode"):
        if not isinstance(manifest[key], bool):
            raise not_a_manifest(path, f"{key} is not true or false")
    if not RUN_ID.search(manifest["run_id"]):
        raise not_a_manifest(path, f"run_id {brief(manifest['run_id'])} is not a run id")
    if not manifest["playbook"]:
        raise not_a_manifest(path, "playbook is empty")
    if not _TIMESTAMP.search(manifest["started"]):
        raise not_a_manifest(path, "started is not an ISO 8601 time")
    finished = manifest["finished"]
    if finished is not None and (not isinstance(finished, str) or not _TIMESTAMP.search(finished)):
        raise not_a_manifest(path, "finished is not an ISO 8601 time or null")
    invocation = manifest["invocation"]
    problem = _keys_problem(invocation, _INVOCATION_KEYS, _INVOCATION_OPTIONAL)
    if problem:
        raise not_a_manifest(path, f"invocation.{problem}" if "missing" in problem else f"invocation {problem}")
    for key in ("limit", "limit_given"):
        if key in invocation and not isinstance(invocation[key], str):
            raise not_a_manifest(path, f"invocation.{key} is not a string")
    for key in ("inventory", "tags", "skip_tags"):
        if not _is_str_list(invocation[key]):
            raise not_a_manifest(path, f"invocation.{key} is not a list of strings")
    passwords = manifest["passwords_needed_to_start"]
    if (
        not _is_str_list(passwords)
        or not all(_PASSWORD.search(item) for item in passwords)
        or len(set(passwords)) != len(passwords)
    ):
        raise not_a_manifest(
            path,
            "passwords_needed_to_start must list each of ssh_password, become_password, vault_password, vault_password.<id> at most once",
        )
    counts = manifest["retry_counts"]
    if not isinstance(counts, dict):
        raise not_a_manifest(path, "retry_counts is not an object")
    problem = _keys_problem(counts, _STATUS_SET)
    if problem:
        raise not_a_manifest(path, f"retry_counts {problem}")
    for status, count in counts.items():
        if not _is_count(count):
            raise not_a_manifest(path, f"retry_counts has a bad entry {brief(status)}: {brief(count)}")
    hosts = manifest["hosts"]
    if not isinstance(hosts, list):
        raise not_a_manifest(path, "hosts is not a list")
    for index, host in enumerate(hosts):
        problem = _host_problem(host)
        if problem:
            raise not_a_manifest(path, f"hosts[{index}]{problem}")


def _host_problem(host: object) -> str | None:
    """What is wrong with a host entry (after its place, e.g. ".name is empty"), or None."""
    if not isinstance(host, dict):
        return " is not an object"
    problem = _keys_problem(host, _HOST_KEYS)
    if problem:
        return f".{problem}" if "missing" in problem else f" {problem}"
    if not isinstance(host["name"], str) or not host["name"]:
        return ".name is not a non-empty string"
    if not _optional_str(host["identity"]):
        return ".identity is not a string or null"
    if not _optional_str(host["identity_var"]):
        return ".identity_var is not a string or null"
    statuses = host["statuses"]
    if (
        not _is_str_list(statuses)
        or not _STATUS_SET.issuperset(statuses)
        or "all" not in statuses
        or len(set(statuses)) != len(statuses)
    ):
        return f".statuses must list all and any of {', '.join(STATUSES[1:])}, each once"
    counters = host["counters"]
    if not isinstance(counters, dict) or counters.keys() != _COUNTER_SET or not all(map(_is_count, counters.values())):
        return f".counters is not a map of {', '.join(COUNTERS)} to numbers"
    if not isinstance(host["provisioned"], bool):
        return ".provisioned is not true or false"
    if not _is_str_list(host["provisioned_by"]):
        return ".provisioned_by is not a list of host names"
    failure = host["first_failure"]
    if failure is None:
        return None
    if (
        not isinstance(failure, dict)
        or failure.keys() != _FAILURE_KEYS
        or not all(_optional_str(failure[key]) for key in ("play", "task", "action", "message"))
        or not isinstance(failure["unreachable"], bool)
        or (failure["message"] is not None and len(failure["message"]) > MESSAGE_MAX)
    ):
        return f".first_failure is not null or an object of {', '.join(sorted(_FAILURE_KEYS))} (message at most {MESSAGE_MAX} characters)"
    return None
