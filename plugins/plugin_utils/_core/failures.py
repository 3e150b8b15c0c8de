# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Failed hosts grouped by cause: failure messages with their varying parts masked, then grouped.

Real failure messages carry the host's name, its address, sizes, durations, ports and ids, so the
same cause on 30 hosts reads as 30 different messages. :func:`normalise` masks those parts with
readable placeholders (``<host>``, ``<ip>``, ``<n>``, ``<hex>``, ``<uuid>``, ``<tmp>``, ``<time>``),
:func:`group_failures` groups hosts by task and masked message, :func:`summary_lines` renders the
groups in a bounded number of lines and :meth:`FailureGroup.as_dict` gives each its JSON form.
:func:`group_id` names a group the same way in every run: the one place its id is computed.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Sequence
from typing import NamedTuple

from .errors import counted

HOST = "<host>"
PLACEHOLDERS = {
    "tmp": "<tmp>",
    "uuid": "<uuid>",
    "time": "<time>",
    "ip": "<ip>",
    "hex": "<hex>",
    "n": "<n>",
}
# Said of one host or many: "1 host failed because of ...", "2 hosts failed because of ...".
FAILED_BECAUSE_OF_OTHERS = (
    "failed because of other hosts (any_errors_fatal, max_fail_percentage or a failed run_once task)"
)
NAMES_SHOWN = 10
LINE_MAX = 160
# The recorder cuts long messages and ends them with this mark (recorder.cut_message, at 300 characters).
CUT_MARK = "\u2026"
CUT_KEPT = 200
# Host words shorter than this are left alone: masking "a" or "db" would mask ordinary words.
HOST_WORD_MIN = 3
# A failure group's id: this many hex digits of the SHA-256 of what makes the group (see group_id).
ID_LENGTH = 8
ID_PATTERN = f"^[0-9a-f]{{{ID_LENGTH}}}$"

_HEX = "[0-9a-fA-F]"
_H16 = _HEX + "{1,4}"
_MONTH = "(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_WEEKDAY = "(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
_CLOCK = r"\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?"
_OFFSET = r"(?:Z|[+-]\d{2}:?\d{2})"
_ZONE = rf"(?:{_OFFSET}|UTC|GMT|[A-Z]{{1,2}}[DS]T|CES?T|EES?T|WES?T)"
_IPV4 = r"(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV6 = (
    rf"(?:(?:{_H16}:){{7}}{_H16}"
    rf"|(?:{_H16}(?::{_H16}){{0,6}})?::(?:{_H16}(?::{_H16}){{0,6}})?)"
    rf"(?::?{_IPV4})?"  # an IPv4 tail: ::ffff:10.0.0.1
)
_UNIT = (
    r"(?:[kKMGTPE]i?[bB]|[kKMGTPE]|[bB]|bytes?|ms|us|\u00b5s|ns|seconds?|secs?|s"
    r"|minutes?|mins?|m|hours?|hrs?|h|days?|d|%)"
)

# One alternation, the longer and more specific kinds first: at a given position the first kind that
# matches wins (a UUID is not five hex ids, an address is not four numbers, a timestamp is not numbers).
# Every kind starts only where a word starts (the lookbehinds) and ends where a word ends (the
# lookaheads), so a word that merely holds digits (python3, sha256, x86_64, utf-8) is left alone, and
# every kind is a sequence of distinct character classes: a failed match backtracks linearly, never
# catastrophically. The common gate in front lets the search skip most positions at once: inside a word,
# or at a character no kind starts with.
_MASKS = re.compile(
    r"(?<![\w>])(?=[0-9a-fA-FJMNOSTW/~\[:+-])(?:"
    + "|".join(
        (
            # Temporary paths: /tmp/..., /var/tmp/..., ~/.ansible/tmp/..., /home/u/.ansible/tmp/...
            r"(?P<tmp>(?<![\w>./~-])(?:(?:~|(?:/[\w.-]+)*)/\.ansible/tmp|/(?:var/)?tmp)"
            r"(?:/(?:[^\s'\"`,;:()\[\]{}]*[^\s'\"`,;:()\[\]{}.])?)?)",
            rf"(?P<uuid>(?<![\w>-]){_HEX}{{8}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}}(?![\w<-]))",
            "(?P<time>(?:"
            # ISO 8601: 2026-12-03, 2026-12-03T17:03:44.123+00:00, 2026/12/03 17:03:44
            rf"(?<![\w>.])\d{{4}}(?:-\d{{2}}-|/\d{{2}}/)\d{{2}}(?:[T ]{_CLOCK}{_OFFSET}?)?"
            # syslog and date(1): Dec  3 17:03:44, Thu Dec  3 17:03:44 UTC 2026
            rf"|(?<![\w>])(?:{_WEEKDAY},? +)?{_MONTH} +\d{{1,2}},? +(?:\d{{4}} +)?{_CLOCK}(?: +{_ZONE})?(?: +\d{{4}})?"
            # RFC 2822 (mail, HTTP): Thu, 03 Dec 2026 17:03:44 GMT
            rf"|(?<![\w>])(?:{_WEEKDAY},? +)?\d{{1,2}} +{_MONTH} +\d{{4}} +{_CLOCK}(?: +{_ZONE})?"
            # a clock alone: 17:03:44, 17:03:44.250
            rf"|(?<![\w>:.]){_CLOCK}"
            r")(?![\w<:]|\.\d))",
            "(?P<ip>"
            rf"\[{_IPV6}\]:\d{{1,5}}(?![\w<])"  # [2001:db8::1]:22; without a port, the brackets stay
            rf"|(?<![\w>.]){_IPV4}(?:/\d{{1,2}})?(?::\d{{1,5}})?(?![\w<]|\.\d)"  # 10.0.3.17, 10.0.3.17:22
            rf"|(?<![\w>:.]){_IPV6}(?:/\d{{1,3}})?(?![\w<:]|\.\d)"  # 2001:db8::1, fe80::1%eth0 is not kept
            ")",
            "(?P<hex>(?:"
            rf"(?<![\w>:.-])(?:{_HEX}{{2}}[:-]){{5}}{_HEX}{{2}}(?![\w<:-])"  # a MAC address
            rf"|(?<![\w>.])0[xX]{_HEX}+(?![\w<])"
            # ids, digests: at least 7 hex digits, with a digit and a letter (a number or a word is not an id)
            rf"|(?<![\w>.])(?=\d*[a-fA-F])(?=[a-fA-F]*\d){_HEX}{{7,}}(?![\w<])"
            "))",
            # Numbers: 42, -1, 12.5, 1,024, 2.16.0, with a size or duration unit (12.5MB, 30s, 90%).
            # Not after a letter and a dash, so utf-8 and node-12 stay names.
            rf"(?P<n>(?<![\w>.])(?<![A-Za-z>]-)[-+]?(?:\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?|\d+(?:\.\d+)*){_UNIT}?"
            r"(?![\w<]|\.\d))",
        )
    )
    + ")"
)


def _placeholder(match: re.Match) -> str:
    text = match.group()
    if text == "::":  # the unspecified IPv6 address, far more often punctuation
        return text
    return PLACEHOLDERS[match.lastgroup or "n"]


def _mask_kinds(text: str) -> str:
    return _MASKS.sub(_placeholder, text)


@functools.lru_cache(maxsize=4096)
def _maskable_word(word: str) -> bool:
    """Whether a host word is worth its own mask: long enough, and not one token of a fixed kind.

    An address given as ``ansible_host`` is masked as ``<ip>`` like any address, so that a host whose
    message holds its own address groups with a host whose message holds another one.
    """
    return len(word) >= HOST_WORD_MIN and _mask_kinds(word) not in PLACEHOLDERS.values()


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


def _stands_alone(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` is a whole word: web1 is not one in web10, nor host in <host>."""
    before = text[start - 1] if start else " "
    after = text[end : end + 2] or " "
    return not (_is_word_char(before) or before in ".<-") and not (
        _is_word_char(after[0]) or after[0] in ">-" or (after[0] == "." and _is_word_char(after[1:] or " "))
    )


def _mask_host_words(message: str, host_words: Iterable[str]) -> str:
    # Plain string search: a regular expression per host would be compiled once per host.
    lowered = message.lower()
    if len(lowered) != len(message):  # a few characters change length in lower case: match case as it is
        lowered = message
    words = sorted(
        {word.lower() for word in host_words if word and word.lower() in lowered and _maskable_word(word)},
        key=lambda word: (-len(word), word),
    )
    spans: list[tuple[int, int]] = []
    masked = bytearray(len(lowered))  # 1 where a longer word was masked already
    for word in words:  # longest first: web07.example.com before web07
        start = lowered.find(word)
        while start != -1:
            end = start + len(word)
            if _stands_alone(lowered, start, end) and not any(masked[start:end]):
                spans.append((start, end))
                masked[start:end] = b"\x01" * (end - start)
            start = lowered.find(word, start + 1)
    if not spans:
        return message
    parts = []
    position = 0
    for start, end in sorted(spans):
        parts += [message[position:start], HOST]
        position = end
    parts.append(message[position:])
    return "".join(parts)


# normalise()'s results in this process, by message and host words. A run masks each host's first failure as the
# recorder records it (recorder.py), while hosts run; the end of the run then finds it here for the run's manifest
# and again for its rollout's latest.json, where most failed hosts are the run's own, instead of masking 20,000
# messages once or twice when the user waits for the summary (docs/performance.md). A result depends on the message
# and the words only, so an entry is never stale; past MEMO_MAX entries (about 25 MB) the memo starts over, and a
# run with more failed hosts than that masks some of them twice.
MEMO_MAX = 100_000
_memo: dict[tuple[str, tuple[str, ...]], str] = {}


def normalise(message: str | None, host_words: Iterable[str] = ()) -> str | None:
    """``message`` with its varying parts masked: what two hosts failing for the same cause share.

    ``host_words`` are the strings that identify the host: its name, its ``ansible_host`` and any
    other the caller knows; each is masked as ``<host>`` where it stands as a whole word (words
    shorter than HOST_WORD_MIN are left alone). Then addresses, numbers, ids, temporary paths and
    timestamps are masked, each kind by its placeholder. A message cut short (ending in CUT_MARK) is
    cut again after its masking (:func:`_cut_again`). Idempotent; None stays None. Each message and
    words are masked once in a process (the memo above).
    """
    if message is None:
        return None
    key = (message, tuple(host_words))
    masked = _memo.get(key)
    if masked is None:
        masked = _masked(message, key[1])
        if len(_memo) >= MEMO_MAX:
            _memo.clear()
        _memo[key] = masked
    return masked


def _masked(message: str, host_words: Sequence[str]) -> str:
    masked = _mask_kinds(_mask_host_words(message, host_words))
    if masked.endswith(CUT_MARK):
        return _cut_again(masked[: -len(CUT_MARK)])
    return masked


def _cut_again(body: str) -> str:
    """A masked message that was cut short, cut again at most CUT_KEPT characters in, before a space.

    The recorder cuts every message at the same length, so the same message keeps less of its end on a
    host with a longer name or address. Cut again well before, the two keep the same text. The last word
    of a cut text is a piece of a word (unless a space follows it): it goes. The result ends with a space
    and CUT_MARK, so that cutting it again changes nothing.
    """
    body = body[: CUT_KEPT + 1]
    if not body.endswith(" ") and " " in body:
        body = body[: body.rfind(" ") + 1]
    return body + CUT_MARK


def group_id(task: str | None, action: str | None, unreachable: bool, message: str | None) -> str:
    """The id of the failure group of hosts that failed at ``task`` (``action``), unreachable or not, with the
    normalised ``message``: the first ID_LENGTH hex digits of the SHA-256 of those four, as JSON.

    The same failure has the same id in every run and every manifest (its rank among the groups changes from
    one run to the next); the hosts are not part of it. ``task`` None: the hosts that failed because of others.
    """
    key = json.dumps([task, action, bool(unreachable), message], ensure_ascii=True, separators=(",", ":"))
    return hashlib.sha256(key.encode("ascii")).hexdigest()[:ID_LENGTH]


def id_of(group: dict) -> str:
    """The id of a manifest's ``failure_groups`` entry: the one it records, else computed (manifests written before
    ids were recorded)."""
    recorded = group.get("id")
    if isinstance(recorded, str) and recorded:
        return recorded
    return group_id(group.get("task"), group.get("action"), bool(group.get("unreachable")), group.get("message"))


class Failure(NamedTuple):
    """How one failed host failed. ``task`` None: it failed because of other hosts, at no task of its own."""

    host: str
    task: str | None
    action: str | None
    message: str | None
    unreachable: bool = False
    host_words: Sequence[str] = ()


class FailureGroup(NamedTuple):
    """Hosts that failed at the same task (name and action) with the same normalised message."""

    task: str | None
    action: str | None
    message: str | None  # normalised
    example: str | None  # the first real message of the group, unmodified
    unreachable: bool
    hosts: list[str]
    id: str = ""  # group_id(); "" until known, see key

    @property
    def because_of_others(self) -> bool:
        return self.task is None

    @property
    def key(self) -> str:
        """The group's id (:func:`group_id`), the same in every run for the same failure."""
        return self.id or group_id(self.task, self.action, self.unreachable, self.message)

    @classmethod
    def from_dict(cls, group: dict) -> FailureGroup:
        """A manifest's ``failure_groups`` entry, with its recorded id or, when it has none, a computed one."""
        return cls(
            group.get("task"),
            group.get("action"),
            group.get("message"),
            group.get("example"),
            bool(group.get("unreachable")),
            list(group.get("hosts") or ()),
            id_of(group),
        )

    def as_dict(self) -> dict:
        """The JSON-able form of the group, as a manifest keeps it."""
        return {
            "id": self.key,
            "task": self.task,
            "action": self.action,
            "message": self.message,
            "example": self.example,
            "unreachable": self.unreachable,
            "hosts": list(self.hosts),
        }


def failures_of(hosts: Iterable[dict], words_of: dict[str, Sequence[str]] | None = None) -> list[Failure]:
    """The failures of a manifest's failed host entries (``name``, ``statuses``, ``first_failure``).

    ``words_of`` maps a host name to its identifying words; by default a host's only word is its name.
    """
    words_of = words_of or {}
    return [
        failure_of(host["name"], host.get("first_failure"), words_of.get(host["name"]) or (host["name"],))
        for host in hosts
        if "failed" in host["statuses"]
    ]


def failure_of(name: str, first_failure: dict | None, words: Sequence[str]) -> Failure:
    """The failure of a failed host, from its ``first_failure`` (None: it failed because of others)."""
    if not first_failure:
        return Failure(name, None, None, None, False, words)
    return Failure(
        name,
        first_failure.get("task") or "",
        first_failure.get("action"),
        first_failure.get("message"),
        bool(first_failure.get("unreachable")),
        words,
    )


_DIGITS = re.compile(r"(\d+)")


def natural_key(name: str) -> tuple:
    """Sorts host names as people do: web2 before web10, 10.0.0.9 before 10.0.0.10."""
    parts: list = _DIGITS.split(name.casefold())
    parts[1::2] = map(int, parts[1::2])
    # Text and numbers alternate from text at 0, so two keys never compare text with a number; the
    # name itself last, for names the key does not tell apart (web07 and web7).
    return (tuple(parts), name)


def group_failures(failures: Iterable[Failure | tuple]) -> list[FailureGroup]:
    """Failed hosts grouped by task (name and action), unreachable or failed, and normalised message.

    Hosts that failed because of other hosts (``task`` None) form a group of their own. A host listed
    twice counts once, in the group of its first failure. Largest group first, ties by task then
    message; host names sorted naturally.
    """
    groups: dict[tuple, FailureGroup] = {}
    seen: set[str] = set()
    for item in failures:
        failure = item if isinstance(item, Failure) else Failure(*item)
        if failure.host in seen:
            continue
        seen.add(failure.host)
        if failure.task is None:
            key: tuple = (None, None, False, None)
            message = None
        else:
            message = normalise(failure.message, failure.host_words)
            key = (failure.task, failure.action, bool(failure.unreachable), message)
        group = groups.get(key)
        if group is None:
            group = groups[key] = FailureGroup(
                key[0], key[1], message, failure.message, key[2], [], group_id(key[0], key[1], key[2], message)
            )
        group.hosts.append(failure.host)
    for group in groups.values():
        group.hosts.sort(key=natural_key)
    return sorted(groups.values(), key=_group_order)


def _group_order(group: FailureGroup) -> tuple:
    return (
        -len(group.hosts),
        group.task is None,
        group.task or "",
        group.message or "",
        group.action or "",
        group.unreachable,
    )


def _cut(line: str, limit: int = LINE_MAX) -> str:
    return line if len(line) <= limit else line[: limit - 3] + "..."


def cause_line(group: FailureGroup) -> str:
    """``N hosts failed at TASK [x]: <message>``, at most LINE_MAX characters."""
    if group.because_of_others:
        return f"{counted(len(group.hosts), 'host')} {FAILED_BECAUSE_OF_OTHERS}"
    kind = "unreachable" if group.unreachable else "failed"
    line = f"{counted(len(group.hosts), 'host')} {kind} at TASK [{group.task}]"
    if group.message:
        line += f": {group.message}"
    return _cut(line)


def names_line(hosts: Sequence[str], shown: int = NAMES_SHOWN, limit: int = LINE_MAX) -> str:
    """The first ``shown`` host names and ``and K more``, as many as fit in ``limit`` characters."""
    for count in range(min(shown, len(hosts)), 0, -1):
        rest = len(hosts) - count
        line = ", ".join(hosts[:count]) + (f" and {rest} more" if rest else "")
        if len(line) <= limit:
            return line
    return _cut(f"{hosts[0]} and {len(hosts) - 1} more", limit) if hosts else ""


def summary_lines(
    groups: Sequence[FailureGroup],
    max_lines: int = 10,
    indent: str = "  ",
    command_of: Callable[[str], str | None] | None = None,
) -> list[str]:
    """The groups as at most ``max_lines`` lines of the end-of-run summary, whatever their number.

    Two lines a group shown: its cause, then its first host names, further indented; with
    ``command_of`` (a group id -> the command that relaunches exactly that group, or None), a third:
    the group's id and that command, never cut. When some groups do not fit, the last line says how
    many groups and hosts are not shown.
    """
    if max_lines <= 0 or not groups:
        return []
    per_group = 2 if command_of is None else 3
    shown = len(groups) if per_group * len(groups) <= max_lines else (max_lines - 1) // per_group
    lines = []
    names_indent = indent + "    "
    for group in groups[:shown]:
        lines.append(indent + _cut(cause_line(group), LINE_MAX - len(indent)))
        lines.append(names_indent + names_line(group.hosts, limit=LINE_MAX - len(names_indent)))
        if command_of is not None:
            command = command_of(group.key)
            how = command or f"lookup('relaunch.status.limit', group='{group.key}') (it has no limit file)"
            lines.append(f"{names_indent}group {group.key}: {how}")
    left_out = groups[shown:]
    if left_out:
        hosts = sum(len(group.hosts) for group in left_out)
        what = counted(len(left_out), "more failure group" if shown else "failure group")
        lines.append(f"{indent}{what} of {counted(hosts, 'host')} not shown")
    return lines
