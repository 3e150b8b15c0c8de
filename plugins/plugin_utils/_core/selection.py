# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The selection engine: from manifests and the current inventory to an exact limit.

Every plugin of the collection selects through a :class:`Selector` (plugins reach it through
``_selector.select_each``, their one way in; :func:`select` is the one-off form), so a status
means the same hosts whichever way a user relaunches; the limit files a run leaves are made
here too (:func:`limit_file_texts`), and the store only writes them.

Exactness rests on how ansible-core evaluates host patterns
(``ansible.inventory.manager``): a limit or ``hosts:`` string that contains a
comma is split on commas only and each part is stripped; a part that is the
exact name of an inventory host selects that host before any glob, group or
prefix rule applies; an inline ``--limit`` part starting with ``@`` names a
file; limit files are split on newlines; and when no part is left that starts
with something other than ``!`` or ``&``, ansible-core adds ``all``.
A name that would not survive that trip is written as an anchored ``~regex``
that escapes every character other than ASCII letters and digits.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Iterable, Iterator
from collections.abc import Set as AbstractSet
from operator import itemgetter

from .errors import RelaunchError, brief, counted
from .recorder import HOST_KEYS, SCHEMA_VERSION, STATUSES, Manifest, failure_groups, manifest_parts
from .store.layout import FAILURE_LIMIT_PREFIX

# Where a user finds the ids of failure groups, for the error that names an id no manifest knows.
GROUP_IDS_LISTED = "the run's summary, 'ansible-relaunch report' and the manifest's failure_groups list them"
# The limit files of failure groups: those of the largest this many groups of a manifest (a run can have thousands).
GROUP_LIMIT_FILES = 20

# What selecting reads of a host entry, and of a host row (in the order of HOST_KEYS).
_SELECTED = ("name", "identity", "statuses", "provisioned", "provisioned_by")
_SELECTED_VALUES = itemgetter(*_SELECTED)
_SELECTED_OF_ROW = itemgetter(*map(HOST_KEYS.index, _SELECTED))

# Names ansible-core treats as the implicit localhost when the inventory lacks them.
IMPLICIT_LOCALHOST = frozenset(("localhost", "127.0.0.1", "::1"))


class CurrentHost:
    """A host of the current inventory: its name and identity (None when unset)."""

    __slots__ = ("name", "identity")

    def __init__(self, name: str, identity: str | None = None) -> None:
        self.name = name
        self.identity = identity


class HostIndex:
    """The current hosts by name and by identity; pass it to :func:`select` or :class:`Selector`
    in place of the host list to share it among several of them."""

    __slots__ = ("identities", "by_identity", "shared_identities")

    def __init__(self, current_hosts: Iterable[CurrentHost]) -> None:
        self.identities: dict[str, str | None] = {}  # every current host name -> its identity
        self.by_identity: dict[str, str] = {}  # identity -> the one current host that holds it
        self.shared_identities: dict[str, list[str]] = {}  # identity -> its holders, when there are several
        for host in current_hosts:
            self.identities[host.name] = host.identity
            if host.identity is None:
                continue
            holder = self.by_identity.pop(host.identity, None)
            if holder is not None:
                self.shared_identities[host.identity] = [holder, host.name]
            elif host.identity in self.shared_identities:
                self.shared_identities[host.identity].append(host.name)
            else:
                self.by_identity[host.identity] = host.name

    @property
    def names(self) -> AbstractSet[str]:
        """The current host names."""
        return self.identities.keys()


# What relaunch_info returns of a selection (its RETURN documents each key), beside targets().
REPORTED = {"reported": True}


@dataclasses.dataclass
class Selection:
    """What a status selection resolved to; :meth:`report` is what the relaunch_info module returns of it."""

    statuses: list[str] = dataclasses.field(default_factory=list, metadata=REPORTED)
    group: str | None = dataclasses.field(default=None, metadata=REPORTED)  # the failure group selected, by id
    hosts: list[str] = dataclasses.field(default_factory=list, metadata=REPORTED)  # current inventory names, sorted
    # Hosts add_host re-creates during the relaunch.
    provisioned: list[str] = dataclasses.field(default_factory=list, metadata=REPORTED)
    implicit_provisioners: list[str] = dataclasses.field(default_factory=list)  # the implicit localhost, if it did
    unresolved: list[dict] = dataclasses.field(default_factory=list, metadata=REPORTED)  # recorded hosts not found
    renamed: dict[str, str] = dataclasses.field(default_factory=dict, metadata=REPORTED)  # recorded -> current name
    warnings: list[str] = dataclasses.field(default_factory=list)  # shown to the user, not returned
    retry_counts: dict[str, int] = dataclasses.field(default_factory=dict, metadata=REPORTED)
    passwords_needed_to_start: list[str] = dataclasses.field(default_factory=list, metadata=REPORTED)
    # None when merged manifests' limits cannot be combined.
    original_limit: str | None = dataclasses.field(default="", metadata=REPORTED)
    patterns: list[str] = dataclasses.field(default_factory=list)  # one host pattern per selected name (not "all")
    limit: str = dataclasses.field(default="", metadata=REPORTED)
    # False only for status all of a run without --limit: relaunch with no --limit then, since
    # "--limit all" would skip plays on the implicit localhost and "--limit ''" is no limit only by accident.
    limited: bool = dataclasses.field(default=True, metadata=REPORTED)

    def targets(self) -> list[str]:
        """Every name the relaunch targets, for in-play selection (the role)."""
        names = set(self.hosts) | set(self.provisioned)
        names.update(self.implicit_provisioners)
        return sorted(names)

    def as_dict(self) -> dict:
        """Every field, and the targets."""
        data = {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}
        data["targets"] = self.targets()
        return data

    def report(self) -> dict:
        """The fields the relaunch_info module returns, and the targets."""
        data = {field.name: getattr(self, field.name) for field in dataclasses.fields(self) if field.metadata}
        data["targets"] = self.targets()
        return data


def parse_statuses(value: object, option: str = "hosts") -> list[str]:
    """Statuses from a string (comma separated) or a list; unknown ones are an error."""
    if isinstance(value, str):
        items = value.split(",")
    elif isinstance(value, (list, tuple)):
        items = []
        for item in value:
            if not isinstance(item, str):
                raise RelaunchError(
                    f"option {option}: {brief(item)} is not a status; use one or more of {', '.join(STATUSES)}"
                )
            items.extend(item.split(","))
    else:
        raise RelaunchError(
            f"option {option}: expected a status or a list of statuses, got {type(value).__name__}; "
            f"use one or more of {', '.join(STATUSES)}"
        )
    statuses = []
    for item in items:
        status = item.strip()
        if not status:
            continue
        if status not in STATUSES:
            raise RelaunchError(
                f"option {option}: unknown status {brief(status)}; use one or more of {', '.join(STATUSES)}"
            )
        if status not in statuses:
            statuses.append(status)
    if not statuses:
        raise RelaunchError(f"option {option}: no status given; use one or more of {', '.join(STATUSES)}")
    return statuses


@dataclasses.dataclass(frozen=True)
class FailureGroupChoice:
    """One failure group to select, by its id (``failures.group_id``), in place of statuses: the hosts the
    manifests record in that group of their ``failure_groups``."""

    id: str


def parse_group(value: object, option: str = "group") -> str:
    """A failure group id from an option: its 8 hex digits (case and surrounding spaces aside)."""
    text = value.strip().lower() if isinstance(value, str) else None
    if text is None or not re.fullmatch("[0-9a-f]{8}", text):
        raise RelaunchError(
            f"option {option}: {brief(value)} is not a failure group id (8 hex digits, such as 3f9a2c1b); "
            f"{GROUP_IDS_LISTED}"
        )
    return text


def needs_regex(name: str) -> bool:
    """Whether a host name cannot be written as itself in a limit.

    A leading ``@`` names a limit file, a leading ``-`` reads as an option to
    ``ansible-playbook --limit``, and a NUL cannot be in a command-line argument.
    A glob, a subscript or a leading ``~`` is exact only while the host exists:
    once a limit file outlives it, such a name would match other hosts. So would
    a name of the implicit localhost (ansible-core then takes a localhost-like
    inventory host such as ``127.0.0.1`` for it), and a lone ``!`` or ``&``
    becomes an empty exclusion or intersection, on which ansible-core fails.
    """
    # Chained "in" tests: twice as fast as one regex search, and limit files of 100,000 hosts call this per status.
    return (
        not name
        or name[0] in "@-~"
        or name in ("!", "&")
        or name in IMPLICIT_LOCALHOST
        or name != name.strip()
        or "," in name
        or "\n" in name
        or "\r" in name
        or "\x00" in name
        or "*" in name
        or "?" in name
        or "[" in name
    )


def regex_pattern(name: str) -> str:
    r"""An anchored ``~regex`` matching exactly ``name``; it holds no comma, space or newline.

    ``\Z`` rather than ``$``: ``$`` also matches before a trailing newline.
    """
    escaped = []
    for char in name:
        if char.isascii() and char.isalnum():
            escaped.append(char)
        elif ord(char) < 0x100:
            escaped.append(f"\\x{ord(char):02x}")
        elif ord(char) < 0x10000:
            escaped.append(f"\\u{ord(char):04x}")
        else:
            escaped.append(f"\\U{ord(char):08x}")
    return "~^" + "".join(escaped) + "\\Z"


def host_patterns(
    names: list[str], inventory_names: AbstractSet[str], group_names: list[str] | tuple = ()
) -> list[str]:
    """Patterns that select exactly ``names`` under ansible-core's rules.

    A name of a current inventory host is written as itself unless
    :func:`needs_regex`; any other name (a host add_host will create) as a
    regex, since only existing host names are matched before globs and groups.
    A regex also matches group names, so one that would match a group is refused.
    """
    wanted = set(names)

    def regex_for(name: str) -> str:
        pattern = regex_pattern(name)
        # A host named like the pattern itself would be taken by its exact name first.
        while pattern in inventory_names or pattern in wanted:
            pattern = pattern[:2] + "(?:)" + pattern[2:]
        compiled = re.compile(pattern[1:])
        clash = [group for group in group_names if compiled.match(group)]
        if clash:
            raise RelaunchError(
                f"host {brief(name, 200)} cannot be selected exactly: "
                f"a pattern for it would also match group {brief(clash[0], 200)}; "
                "rename the host or the group"
            )
        return pattern

    patterns = [name if name in inventory_names and not needs_regex(name) else regex_for(name) for name in names]
    # Only '!' and '&' patterns would make ansible-core add 'all': lead with a plain one.
    if patterns and all(pattern[0] in "!&" for pattern in patterns):
        try:
            patterns[0] = regex_for(names[0])
        except RelaunchError:
            # A group has that very name: lead with a regex that matches nothing instead.
            nothing = "~(?!)"
            while nothing in inventory_names or nothing in wanted:
                nothing = nothing[:1] + "(?:)" + nothing[1:]
            patterns.insert(0, nothing)
    return patterns


def limit_string(patterns: list[str]) -> str:
    """A ``--limit``/``hosts:`` string; always with a comma so it is split on commas only."""
    if not patterns:
        return ""
    return ",".join(patterns) + ("," if len(patterns) == 1 else "")


def limit_file_text(patterns: list[str]) -> str:
    """The text of a ``--limit @file``: one pattern a line."""
    return "".join(pattern + "\n" for pattern in patterns)


def merge_limits(limits: set[str]) -> str | None:
    """The limit that covers every run of merged manifests; None when that cannot be said.

    No limit in one run means all hosts; plain patterns join as a union; a
    ``!`` or ``&`` pattern would change meaning when joined, and so would a
    limit without a comma that ansible-core splits on spaces, colons or
    brackets instead: both are refused.
    """
    if len(limits) == 1:
        return next(iter(limits))
    if any(not limit.replace(",", "").strip() for limit in limits):
        return ""  # no pattern at all: ansible-core ran on every host
    if any(re.search(r"(^|[,:\s])[!&]", limit) for limit in limits):
        return None
    if any("," not in limit and re.search(r"[\s:\[\]]", limit) for limit in limits):
        return None
    return ",".join(sorted(limit.strip(",") for limit in limits))


def select(
    manifests: list[tuple[str, dict | Manifest]],
    statuses: list[str],
    current_hosts: Iterable[CurrentHost] | HostIndex,
    group_names: list[str] | tuple = (),
    allow_empty: bool = False,
    in_play: bool = False,
    build_limit: bool = True,
) -> Selection:
    """Resolve ``statuses`` of one or more manifests against the current inventory.

    ``manifests`` holds (path, validated manifest or Manifest) pairs; their hosts are merged.
    Raises :class:`RelaunchError` when nothing is selected (unless
    ``allow_empty``), so an empty selection never turns into "all hosts".
    ``in_play`` (the role) also counts the implicit localhost and hosts that
    add_host will create, which a play can select but a ``--limit`` cannot.
    ``build_limit=False`` skips the limit (the inventory groups need only names).
    """
    return Selector(manifests, current_hosts, group_names).select(statuses, allow_empty, in_play, build_limit)


class RecordedHosts:
    """The hosts of one or more manifests, merged: what selecting needs of them, read once."""

    def __init__(self, manifests: list[tuple[str, dict | Manifest]]) -> None:
        self.counts: dict[str, int] = dict.fromkeys(STATUSES, 0)  # retry_counts, summed
        passwords: set[str] = set()
        self.limits: set[str] = set()
        # name -> (identity, statuses, provisioned_by or None), each a tuple: what selecting needs, not the whole entry.
        self.hosts: dict[str, tuple] = {}
        self.by_status: dict[str, list[str]] = {status: [] for status in STATUSES}  # names, in recorded order
        # Each manifest's recorded failure groups (else the manifest, whose groups are computed when asked for), and
        # the hosts it has the say on (None: every host it lists). Not the whole manifest: a RecordedHosts may be
        # kept for the next selection (_selector.recorded_hosts).
        self._sources: list[tuple[list | None, dict | Manifest | None, set[str] | None]] = []
        self.ambiguous_groups: set[str] = set()  # ids of two failures of one manifest, known once by_group is read
        for index, (_path, manifest) in enumerate(manifests):
            if isinstance(manifest, dict) and manifest.get("schema_version") == SCHEMA_VERSION:
                # A manifest as read: the few values selecting needs, straight from its host entries.
                head, rows = manifest, map(_SELECTED_VALUES, manifest["hosts"])
            else:
                head, rows = manifest_parts(manifest)
                rows = map(_SELECTED_OF_ROW, rows)
            for status, count in head["retry_counts"].items():
                self.counts[status] = self.counts.get(status, 0) + count
            passwords.update(head["passwords_needed_to_start"])
            self.limits.add(head["invocation"]["limit"])
            recorded = head.get("failure_groups")
            own = self._add_rows(rows, collect=index > 0)
            self._sources.append((recorded, None if recorded is not None else manifest, own))
        self.passwords = sorted(passwords)
        self.paths = ", ".join(path for path, _manifest in manifests)
        self.original_limit = merge_limits(self.limits)

    def _add_rows(self, rows: Iterable[tuple], collect: bool = False) -> set[str] | None:
        """Add (name, identity, statuses, provisioned, provisioned_by) of each host entry; with ``collect``, returns
        the names it added."""
        hosts, by_status = self.hosts, self.by_status
        added: set[str] | None = set() if collect else None
        for name, identity, statuses, provisioned, provisioned_by in rows:
            if name not in hosts:  # the first manifest that lists a host has the say
                # Tuples of strings, which the cyclic garbage collector stops tracking: a RecordedHosts kept for
                # the next selection adds nothing to its rounds.
                statuses = tuple(statuses)
                hosts[name] = (identity, statuses, tuple(provisioned_by) if provisioned else None)
                for status in statuses:
                    by_status[status].append(name)
                if added is not None:
                    added.add(name)
        return added

    @functools.cached_property
    def by_group(self) -> dict[str, list[str]]:
        """The recorded host names of each failure group, by id; a host is in the group its own manifest (the first
        that lists it) puts it in. Read only when a group is asked for: manifests of schema 1 record no groups, and
        theirs are computed then, as the recorder computes them."""
        from .failures import id_of  # loaded only for a group

        groups: dict[str, list[str]] = {}
        for recorded, manifest, own in self._sources:
            if recorded is None:
                recorded = failure_groups(manifest_parts(manifest)[1])
            seen: set[str] = set()
            for group in recorded:
                group_id = id_of(group)
                if group_id in seen:  # two failures of one manifest share an id: selecting it would take both
                    self.ambiguous_groups.add(group_id)
                seen.add(group_id)
                names = groups.setdefault(group_id, [])
                names.extend(name for name in group["hosts"] if name in self.hosts and (own is None or name in own))
        return groups

    def group_hosts(self, group_id: str) -> list[str]:
        """The recorded hosts of a failure group; an id the manifests do not know, or that names two of their
        groups, is an error."""
        groups = self.by_group
        if group_id not in groups:
            known = sorted(groups, key=lambda known_id: (-len(groups[known_id]), known_id))
            listed = (
                f"its failure groups are {', '.join(known[:5])}{' and more' if len(known) > 5 else ''}"
                if known
                else f"it has no failure group (failed={self.counts.get('failed', 0)})"
            )
            raise RelaunchError(
                f"failure group {group_id} is not in {self.paths} (a failure that no longer happens has no group): "
                f"{listed}; {GROUP_IDS_LISTED}; nothing to relaunch"
            )
        if group_id in self.ambiguous_groups:
            raise RelaunchError(
                f"failure group {group_id} names two different failures in {self.paths}; it cannot select one of "
                "them: relaunch on status failed, or select the hosts by name"
            )
        return groups[group_id]

    def largest_groups(self, count: int) -> list[str]:
        """The ids of the ``count`` failure groups with the most recorded hosts, unambiguous ones; ties in the order the
        manifests list them (the recorder's: by task, then message)."""
        groups = self.by_group
        ids = [group_id for group_id in groups if group_id not in self.ambiguous_groups]
        ids.sort(key=lambda group_id: -len(groups[group_id]))
        return ids[: max(count, 0)]

    def run_hosts(self, inventory_names: AbstractSet[str] | None = None) -> Iterator[CurrentHost]:
        """The recorded hosts as the inventory at the end of their run: every recorded name is current then.

        Hosts add_host created are left out, and with ``inventory_names`` (the hosts the
        inventory had before the run) so is the implicit localhost, which a limit cannot select alone.
        """
        for name, (identity, _statuses, provisioned_by) in self.hosts.items():
            if provisioned_by is None and (inventory_names is None or name in inventory_names):
                yield CurrentHost(name, identity)


class Selector:
    """Manifests merged and set against the current inventory once, for any number of selections.

    One selection per status (the limit files, the inventory groups) reads the
    manifests once instead of once per status.
    """

    def __init__(
        self,
        manifests: list[tuple[str, dict | Manifest]] | RecordedHosts,
        current_hosts: Iterable[CurrentHost] | HostIndex,
        group_names: list[str] | tuple = (),
    ) -> None:
        self.recorded = manifests if isinstance(manifests, RecordedHosts) else RecordedHosts(manifests)
        self.index = current_hosts if isinstance(current_hosts, HostIndex) else HostIndex(current_hosts)
        self.group_names = group_names

    @classmethod
    def for_run(
        cls,
        manifest: dict | Manifest,
        group_names: list[str] | tuple = (),
        inventory_names: AbstractSet[str] | None = None,
    ) -> Selector:
        """A run's manifest set against the run's own hosts as they are when it ends (:meth:`RecordedHosts.run_hosts`).

        The manifest's host entries are read once and never all held in memory at once.
        """
        recorded = RecordedHosts([("", manifest)])
        return cls(recorded, recorded.run_hosts(inventory_names), group_names)

    def select(
        self,
        statuses: list[str] | FailureGroupChoice,
        allow_empty: bool = False,
        in_play: bool = False,
        build_limit: bool = True,
    ) -> Selection:
        """What :func:`select` returns for ``statuses``, or for one failure group (a :class:`FailureGroupChoice`)."""
        if isinstance(statuses, FailureGroupChoice):
            return self.select_group(statuses.id, allow_empty, in_play, build_limit)
        selection = self.find(statuses).selection(statuses, self.recorded)
        if "all" in statuses:
            selection.limit = self._original_limit()
            selection.limited = bool(selection.limit)
        return self._finish(selection, allow_empty, in_play, build_limit and "all" not in statuses)

    def select_group(
        self, group_id: str, allow_empty: bool = False, in_play: bool = False, build_limit: bool = True
    ) -> Selection:
        """The current hosts of one failure group's recorded hosts, found as a status's are, and their exact limit.

        An id the manifests do not know is an error, never a wider selection.
        """
        selection = self._find(self.recorded.group_hosts(group_id)).selection([], self.recorded)
        selection.group = group_id
        return self._finish(selection, allow_empty, in_play, build_limit)

    def select_groups(
        self, count: int, allow_empty: bool = False, in_play: bool = False, build_limit: bool = True
    ) -> list[Selection]:
        """The selections of the ``count`` largest failure groups (:meth:`RecordedHosts.largest_groups`)."""
        if count <= 0:
            return []  # the groups are not even read
        return [
            self.select_group(group_id, allow_empty, in_play, build_limit)
            for group_id in self.recorded.largest_groups(count)
        ]

    def _finish(self, selection: Selection, allow_empty: bool, in_play: bool, build_limit: bool) -> Selection:
        """A selection with its limit, or the error for one of 0 hosts."""
        if build_limit and (selection.hosts or selection.provisioned):
            selection.patterns = self._patterns(selection, in_play)
            selection.limit = limit_string(selection.patterns)
        if allow_empty or selection.hosts or (in_play and selection.targets()):
            return selection
        raise RelaunchError(self._nothing_selected(selection))

    def find(self, statuses: list[str]) -> Finding:
        """The current hosts of the recorded hosts that have any of ``statuses``."""
        if len(set(statuses)) == 1:  # one status: only its own hosts, in the order they were recorded
            return self._find(self.recorded.by_status.get(statuses[0], ()))
        wanted = set(statuses)
        recorded = self.recorded.hosts
        return self._find(name for name in recorded if not wanted.isdisjoint(recorded[name][1]))

    def _find(self, names: Iterable[str]) -> Finding:
        """The current hosts of the recorded hosts ``names``."""
        recorded = self.recorded.hosts
        identities, by_identity = self.index.identities, self.index.by_identity
        finding = Finding(self.index, recorded)
        selected = finding.selected
        for name in names:
            identity, _statuses, provisioned_by = recorded[name]
            if provisioned_by is None and (
                by_identity.get(identity) == name if identity is not None else name in identities
            ):
                selected[name] = None  # the common case, in short: the host is current under its recorded name
                continue
            finding.add(name, identity, provisioned_by)
        return finding

    def _original_limit(self) -> str:
        """The limit of status all: the original --limit of the runs."""
        if self.recorded.original_limit is None:
            raise RelaunchError(
                f"status all: the manifests {self.recorded.paths} were run with limits that cannot be merged "
                f"({', '.join(sorted(map(repr, self.recorded.limits)))}); relaunch each manifest on its own"
            )
        return self.recorded.original_limit

    def _patterns(self, selection: Selection, in_play: bool) -> list[str]:
        """The host patterns of a selection's limit (none in a play when no exact limit exists); the implicit
        localhost's warnings join the selection's."""
        try:
            patterns = host_patterns(selection.hosts + selection.provisioned, self.index.names, self.group_names)
        except RelaunchError:
            if not in_play:
                raise
            return []  # a play selects by name; no exact limit exists, so none is given
        if selection.hosts and patterns:
            names, warnings = implicit_localhost_patterns(
                selection.implicit_provisioners, self.index.names, self.group_names
            )
            patterns.extend(names)
            selection.warnings.extend(warnings)
        return patterns

    def _nothing_selected(self, selection: Selection) -> str:
        """Why a selection of no host is refused, in one line."""
        wanted = f"failure group {selection.group}" if selection.group else f"status {','.join(selection.statuses)}"
        paths = self.recorded.paths
        counts = ", ".join(f"{status}={self.recorded.counts.get(status, 0)}" for status in STATUSES)
        if selection.provisioned and selection.implicit_provisioners:
            return (
                f"{wanted} in {paths} selects only hosts that the implicit localhost provisioned "
                f"({', '.join(selection.provisioned[:5])}; {counts}), and a --limit cannot select the implicit "
                "localhost alone; use the relaunch.status.select role in the play instead"
            )
        unresolved = len(selection.unresolved)
        detail = (
            f"; {counted(unresolved, 'recorded host')} {'is' if unresolved == 1 else 'are'} "
            "not in the current inventory"
            if unresolved
            else ""
        )
        return f"{wanted} selects 0 hosts in {paths} ({counts}){detail}; nothing to relaunch"


def implicit_localhost_patterns(
    provisioners: list[str], inventory_names: AbstractSet[str], group_names: list[str] | tuple
) -> tuple[list[str], list[str]]:
    """The names of the implicit localhost that provisioned hosts, for a limit beside real hosts, and warnings.

    The implicit localhost matches only its literal name, and only beside a real host; ansible-core
    would take a group of that name, or a localhost-like inventory host, instead: such a name is
    left out with a warning.
    """
    local = sorted(IMPLICIT_LOCALHOST & inventory_names)
    patterns, warnings = [], []
    for name in provisioners:
        if name in group_names or local:
            stand_in = f"group {name!r}" if name in group_names else f"inventory host {local[0]!r}"
            warnings.append(
                f"not selecting the implicit {name!r} that provisioned hosts: ansible-core would take {stand_in} "
                "for it; use the relaunch.status.select role"
            )
        else:
            patterns.append(name)
    return patterns, warnings


class Finding:
    """The current hosts a selection finds, and what it learns on the way: renames, hosts not found, warnings.

    :meth:`Selector.find` takes the common case (a host current under its recorded name) itself; :meth:`add`
    resolves the others.
    """

    def __init__(self, index: HostIndex, recorded: dict[str, tuple]) -> None:
        self.index = index
        self.recorded = recorded
        # Current names in recorded order (a dict keeps it): sorting names that are mostly in order already is quick.
        self.selected: dict[str, None] = {}
        self.provisioned: set[str] = set()
        self.implicit: set[str] = set()  # names of the implicit localhost that provisioned hosts
        self.renamed: dict[str, str] = {}
        self.unresolved: list[dict] = []
        self.warnings: list[str] = []

    def add(self, name: str, identity: str | None, provisioned_by: Iterable[str] | None) -> None:
        """Select the current host of one recorded host, or the provisioners of a host add_host created."""
        if provisioned_by is not None and name not in self.index.identities:
            # The relaunch must re-create it: select its provisioners, and name it too.
            self.provisioned.add(name)
            for provisioner in provisioned_by:
                current = self.current_provisioner(provisioner)
                if current is not None:
                    self.selected[current] = None
            return
        current = self.current_name(name, identity)
        if current is not None:
            self.selected[current] = None

    def current_name(self, name: str, identity: str | None) -> str | None:
        """The current name of a recorded host, or None (and why, in unresolved)."""
        identities = self.index.identities
        if identity is None:
            if name in identities:
                return name
            return self._unresolved(name, identity, "not in the current inventory")
        holder = self.index.by_identity.get(identity)
        if holder is not None:
            if holder != name:
                self.renamed[name] = holder
            return holder
        holders = self.index.shared_identities.get(identity)
        if holders:
            held = f"{counted(len(holders), 'current host')}: {', '.join(sorted(holders)[:5])}"
            return self._unresolved(name, identity, f"identity {identity!r} is held by {held}")
        if name in identities:
            reason = f"current host {name!r} has identity {identities[name]!r}, not {identity!r}: a different machine"
            self.warnings.append(f"not selecting {name!r}: {reason}")
            return self._unresolved(name, identity, reason)
        return self._unresolved(name, identity, f"no current host has identity {identity!r}")

    def current_provisioner(self, name: str) -> str | None:
        """The current name of a host that ran add_host; None for the implicit localhost (kept aside)."""
        if name not in self.index.identities and name in IMPLICIT_LOCALHOST:
            self.implicit.add(name)
            return None
        if name in self.recorded:
            return self.current_name(name, self.recorded[name][0])
        return name if name in self.index.identities else None

    def _unresolved(self, name: str, identity: str | None, reason: str) -> None:
        self.unresolved.append({"name": name, "identity": identity, "reason": reason})
        return None

    def selection(self, statuses: list[str], recorded: RecordedHosts) -> Selection:
        """The selection of what was found, before its limit."""
        hosts = sorted(self.selected)
        return Selection(
            statuses=list(statuses),
            hosts=hosts,
            provisioned=sorted(self.provisioned.difference(hosts)),
            implicit_provisioners=sorted(self.implicit),
            unresolved=self.unresolved,
            renamed=self.renamed,
            warnings=self.warnings,
            retry_counts=dict(recorded.counts),
            passwords_needed_to_start=list(recorded.passwords),
            original_limit=recorded.original_limit,
        )


def limit_file_texts(
    manifest: dict | Manifest, group_names: list[str] | tuple = (), inventory_names: AbstractSet[str] | None = None
) -> dict[str, str]:
    """The text of the limit file of each status of a run that has hosts a limit can select, and of each of its
    GROUP_LIMIT_FILES largest failure groups (keyed ``failure-<id>``).

    For the store, which writes them beside the run's manifest when the run ends: the run's own
    hosts are the inventory then (:meth:`Selector.for_run`). A status with 0 hosts has none here (the
    store writes a file that selects nothing and says why), nor has a status whose hosts no limit can
    select (hosts created by add_host from the implicit localhost); "all" relaunches with the run's
    original --limit instead.
    """
    selector = Selector.for_run(manifest, group_names, inventory_names)
    texts = {}
    for status in STATUSES:
        if status == "all" or not selector.recorded.counts.get(status):
            continue
        try:
            selection = selector.select([status])
        except RelaunchError:
            continue
        texts[status] = limit_file_text(selection.patterns)
    if selector.recorded.counts.get("failed"):
        for group_id in selector.recorded.largest_groups(GROUP_LIMIT_FILES):
            try:
                selection = selector.select_group(group_id)
            except RelaunchError:
                continue
            texts[FAILURE_LIMIT_PREFIX + group_id] = limit_file_text(selection.patterns)
    return texts
