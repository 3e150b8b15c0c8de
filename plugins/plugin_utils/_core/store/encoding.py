# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A manifest as the bytes of its file: JSON with one host a line, fast to write and readable in a diff."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Iterator

from ..recorder import COUNTERS, HOST_KEYS, Manifest, manifest_parts

# One encoder for every value of a host line: json.dumps() with options builds a new one per call.
_HOST_JSON = json.JSONEncoder(ensure_ascii=False, check_circular=False).encode
_JSON_STRING = json.encoder.encode_basestring  # one str, as _HOST_JSON writes it (ensure_ascii=False)
# The text before each value of a host line: "{" or ", ", then the key, from the same HOST_KEYS as the
# host entry, so that the line is what _HOST_JSON writes of the entry.
(
    _NAME,
    _IDENTITY,
    _IDENTITY_VAR,
    _STATUSES,
    _COUNTERS,
    _PROVISIONED,
    _PROVISIONED_BY,
    _FIRST_FAILURE,
    _RUN_ID,
    _FINISHED,
) = (("{" if index == 0 else ", ") + _JSON_STRING(key) + ": " for index, key in enumerate(HOST_KEYS))


def encode(manifest: dict | Manifest) -> bytes:
    """A manifest as the bytes of its file."""
    return b"".join(encode_chunks(manifest))


def encode_chunks(manifest: dict | Manifest, hosts_per_chunk: int = 2000) -> Iterator[bytes]:
    """A manifest's file in pieces, so a large one is never held whole in memory."""
    head, rows = manifest_parts(manifest)
    lines = host_lines(rows)
    head_text = json.dumps(head, ensure_ascii=False)[:-1]
    chunk = list(itertools.islice(lines, hosts_per_chunk))
    if not chunk:
        yield (head_text + ', "hosts": []}\n').encode("utf-8")
        return
    opening = head_text + ', "hosts": [\n'
    while chunk:
        yield (opening + ",\n".join(chunk)).encode("utf-8")
        opening = ",\n"
        chunk = list(itertools.islice(lines, hosts_per_chunk))
    yield b"\n]}\n"


def host_lines(rows: Iterable[tuple]) -> Iterator[str]:
    """The line of each host row: the text of ``_HOST_JSON(host_entry(row))``, without building the entry.

    Status lists and counters repeat from host to host, so each distinct one is
    encoded once (a third of the time to write a 100,000-host manifest, docs/performance.md).
    """
    statuses_json: dict[tuple, str] = {}
    counters_json: dict[tuple, str] = {}
    for (
        name,
        identity,
        identity_var,
        statuses,
        counters,
        provisioned,
        provisioned_by,
        first_failure,
        run_id,
        finished,
    ) in rows:
        key = tuple(statuses)
        statuses_text = statuses_json.get(key)
        if statuses_text is None:
            statuses_text = statuses_json[key] = _HOST_JSON(statuses)
        key = tuple(counters)
        counters_text = counters_json.get(key)
        if counters_text is None:
            counters_text = counters_json[key] = _HOST_JSON(dict(zip(COUNTERS, key)))
        # One join of constants and encoded values: a third faster than formatting, and str values
        # (all of them in a valid manifest) go straight to the C string encoder.
        yield "".join(
            (
                _NAME,
                _JSON_STRING(name) if name.__class__ is str else _json_value(name),
                _IDENTITY,
                _JSON_STRING(identity) if identity.__class__ is str else _json_value(identity),
                _IDENTITY_VAR,
                _JSON_STRING(identity_var) if identity_var.__class__ is str else _json_value(identity_var),
                _STATUSES,
                statuses_text,
                _COUNTERS,
                counters_text,
                _PROVISIONED,
                "true" if provisioned else "false",
                _PROVISIONED_BY,
                _HOST_JSON(provisioned_by) if provisioned_by else "[]",
                _FIRST_FAILURE,
                "null" if first_failure is None else _HOST_JSON(first_failure),
                _RUN_ID,
                "null" if run_id is None else _JSON_STRING(run_id),
                _FINISHED,
                "null" if finished is None else _JSON_STRING(finished),
                "}",
            )
        )


def _json_value(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return _JSON_STRING(value)
    return _HOST_JSON(value)
