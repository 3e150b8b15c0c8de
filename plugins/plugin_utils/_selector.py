# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one path from plugin options to a :class:`Selection`, shared by every selecting plugin.

The lookup, the relaunch_info action (and so the role), the inventory plugin and
the callback's check of a stale limit file are thin adapters over
:func:`select_each` (:func:`select_one` for a single selection): a
:class:`SelectionRequest` (where the manifests are, the current inventory) and
the statuses go in; Selections come out, or a :class:`RelaunchError` that each
plugin shows as its own one-line error.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable

from ansible import context

from ansible_collections.relaunch.status.plugins.plugin_utils import _compat as compat
from ansible_collections.relaunch.status.plugins.plugin_utils._core import store
from ansible_collections.relaunch.status.plugins.plugin_utils._core.errors import RelaunchError, counted
from ansible_collections.relaunch.status.plugins.plugin_utils._core.recorder import STATUSES, gc_paused
from ansible_collections.relaunch.status.plugins.plugin_utils._core.selection import (
    IMPLICIT_LOCALHOST,
    CurrentHost,
    FailureGroupChoice,
    RecordedHosts,
    Selection,
    Selector,
    limit_string,
)
from ansible_collections.relaunch.status.plugins.plugin_utils._inventory import (
    IdentityResolver,
    current_inventory,
    source_directories,
)

# The plugin whose documented options carry the settings shared through env and ansible.cfg.
SETTINGS_PLUGIN = "relaunch.status.limit"


class ManifestMissing(RelaunchError):
    """No manifest exists yet where one was looked for (the role runs on every host then)."""


def selected_limit(given: str) -> str | None:
    """What a ``--limit`` selected, as a limit string that no longer depends on any file; None if it cannot be said.

    Each ``@file`` part is replaced by the patterns the file holds now, read as ansible-core's
    ``InventoryManager.subset()`` reads them (lines stripped, each taken whole, empty ones skipped),
    so that "relaunch all" later selects what this run selected even once the file is rewritten.
    None when a line holds a comma (a comma-separated limit cannot carry it) or a file cannot be read.
    """
    from ansible.inventory.manager import split_host_pattern

    parts = split_host_pattern(given)
    if not any(part.startswith("@") for part in parts):
        return given
    patterns: list[str] = []
    for part in parts:
        if not part.startswith("@"):
            patterns.append(part)
            continue
        try:
            with open(part[1:]) as handle:  # text mode, as ansible-core opens it: "\r\n" ends a line too
                patterns.extend(line.strip() for line in handle.read().split("\n"))
        except (OSError, UnicodeDecodeError):
            return None
    patterns = [pattern for pattern in patterns if pattern]
    if any("," in pattern for pattern in patterns):
        return None
    # With no plain pattern ansible-core adds "all"; an empty string would mean no limit at all.
    return limit_string(patterns) if patterns else "all"


def _limit_files_manifest(parts: list[str]) -> tuple[str, list[str] | FailureGroupChoice] | None:
    """The manifest beside limit files the callback wrote, and their statuses (or the failure group of a
    ``failure-<id>.limit`` given alone); None for other files, or files of several manifests."""
    directory, name = os.path.split(os.path.abspath(parts[0][1:]))
    if len(parts) == 1 and store.layout.FAILURE_LIMIT.match(name):
        group = name[len(store.layout.FAILURE_LIMIT_PREFIX) : -len(store.layout.LIMIT)]
        return os.path.join(directory, store.layout.LATEST), FailureGroupChoice(group)
    manifests, statuses = set(), []
    for part in parts:
        directory, name = os.path.split(os.path.abspath(part[1:]))
        status = name[: -len(store.layout.LIMIT)] if name.endswith(store.layout.LIMIT) else ""
        manifest_path = os.path.join(directory, store.layout.LATEST)
        failed_run_id = name[: -len(store.layout.FAILED_LIMIT)]
        pending_run_id = name[: -len(store.layout.PENDING_LIMIT)]
        if name.endswith(store.layout.FAILED_LIMIT) and store.layout.RUN_ID.match(failed_run_id):
            # One run's own failed hosts (the summary's command).
            status, manifest_path = "failed", os.path.join(directory, failed_run_id + ".json")
        elif name.endswith(store.layout.PENDING_LIMIT) and store.layout.RUN_ID.match(pending_run_id):
            # The rollout's pending hosts right after one run (the summary's command): later runs of the
            # rollout may have finished some since, but every one of them is still a host of the rollout.
            status = "all"
        manifests.add(manifest_path)
        statuses.append(status)
    statuses = sorted(set(statuses))
    if len(manifests) != 1 or not set(statuses) <= set(STATUSES):
        return None
    return manifests.pop(), statuses


def stale_limit_file(
    given_limit: str,
    inventory,
    loader,
    identity_vars: list[str],
    playbook_dir: str | None,
    warn: Callable[[str], None] | None = None,
) -> str | None:
    """Why a ``--limit @<dir>/<status>.limit`` (a limit file the callback wrote) would now select hosts
    that its manifest does not select for that status in the current inventory; None when it would not.

    A limit file holds names, and no host pattern can tell a host from a group of the same name or one
    machine from another that took its name: once the inventory changes, only the manifest beside the
    file, resolved by identity, says which hosts the file meant. ``inventory`` has the limit applied.
    ``warn`` is told, in one line, of the file's hosts that were renamed since: the file cannot select them.
    """
    from ansible.inventory.manager import split_host_pattern

    # One limit file, or several of one directory joined by commas (the summary's "failed and not_run").
    parts = split_host_pattern(given_limit)
    found = _limit_files_manifest(parts) if parts and all(part.startswith("@") for part in parts) else None
    if found is None or not os.path.isfile(found[0]):
        return None
    latest, statuses = found
    given = ",".join(parts)
    request = SelectionRequest(
        inventory=inventory, loader=loader, identity_vars=identity_vars, manifest=latest, playbook_dir=playbook_dir
    )
    try:
        selection, _paths = select_one(request, statuses, allow_empty=True, build_limit=False)
    except RelaunchError as exc:
        return f"--limit {given} cannot be checked against its manifest: {exc}"
    limited = {host.name for host in inventory.get_hosts("all")}
    extra = sorted(limited.difference(selection.hosts))
    if not extra:
        renamed = renamed_out_of_limit(given, selection, limited)
        if renamed and warn is not None:
            warn(renamed)
        return None
    if isinstance(statuses, FailureGroupChoice):
        recorded = f"its failure group {statuses.id}'s"
    elif statuses == ["all"] and given.endswith(store.layout.PENDING_LIMIT):
        recorded = "the rollout's"
    else:
        recorded = "its " + " and ".join(statuses)
    return (
        f"--limit {given} would now select {counted(len(extra), 'host')} that {'is' if len(extra) == 1 else 'are'} "
        f"not {recorded} hosts ({', '.join(map(repr, extra[:5]))}): "
        f"the inventory changed since {latest} was written (a group, or another machine, now has a recorded name); "
        "relaunch with the relaunch.status.groups inventory or the relaunch.status.limit lookup, which follow "
        "identities"
    )


def renamed_out_of_limit(given: str, selection: Selection, limited: set[str]) -> str | None:
    """The warning for the hosts of a limit file renamed since its run (their identity is now another name's):
    the file names them by their old names, so the run cannot select them, and they stay pending."""
    missed = {old: new for old, new in selection.renamed.items() if new not in limited}
    if not missed:
        return None
    pairs = ", ".join(f"{old} is now {new}" for old, new in sorted(missed.items())[:10])
    more = f" and {len(missed) - 10} more" if len(missed) > 10 else ""
    one = len(missed) == 1
    return (
        f"--limit {given}: {pairs}{more} (renamed since the run, same identity); the limit file cannot select "
        f"{'it' if one else 'them'}, so {'it stays' if one else 'they stay'} pending in the rollout; relaunch with "
        "the relaunch.status.groups inventory (-i relaunch.yml --limit relaunch_failed) or the relaunch.status.limit "
        "lookup, which follow renames"
    )


def configured(name: str):
    """A shared setting (manifest_dir, identity_vars) as env and ansible.cfg set it, else its default.

    A module's options cannot come from env or ansible.cfg, so the action plugin reads them as
    options of the lookup, whose documentation (the manifest doc fragment) declares those sources,
    through ansible-core's config manager. The config manager learns a plugin's options only when
    PluginLoader loads the plugin, and keeps those of a collection's plugin under its Python module
    name (2.16 to 2.21 alike): so the lookup's class is loaded, with no instance and no option set.
    """
    from ansible import constants
    from ansible.plugins.loader import lookup_loader

    lookup = lookup_loader.get(SETTINGS_PLUGIN, class_only=True)
    return constants.config.get_config_value(name, plugin_type="lookup", plugin_name=lookup.__module__)


def playbooks() -> list[str]:
    """Absolute paths of the playbooks on the ansible-playbook command line.

    Other commands (``ansible``, ``ansible-inventory``) take host patterns there; those are not files.
    """
    paths = [
        os.path.abspath(os.path.expanduser(str(arg)))
        for arg in context.CLIARGS.get("args") or ()
        if isinstance(arg, str) and arg
    ]
    return [path for path in paths if os.path.isfile(path)]


def only_playbook() -> str | None:
    """The playbook on the command line when there is exactly one, else None."""
    candidates = playbooks()
    return candidates[0] if len(candidates) == 1 else None


def current_playbook(hint: str | None = None) -> str:
    """The playbook being run: the only one given, or the one ``hint`` (a task's file) names."""
    candidates = playbooks()
    if hint:
        path = os.path.abspath(hint.rsplit(":", 1)[0] if not os.path.exists(hint) else hint)
        if path in candidates:
            return path
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise RelaunchError(
            "option manifest: not set, and no playbook is being run to find its latest manifest; "
            "name a manifest file or directory"
        )
    raise RelaunchError(
        f"option manifest: not set, and {len(candidates)} playbooks are on the command line "
        f"({', '.join(os.path.basename(path) for path in candidates[:5])}); name the manifest to use"
    )


def _absolute(location: str, base_dirs: list[str]) -> str:
    """A relative path is looked up in each base directory in turn; the first that exists wins."""
    path = os.path.expanduser(location)
    if os.path.isabs(path):
        return os.path.normpath(path)
    candidates = [os.path.abspath(os.path.join(base, path)) for base in base_dirs or [os.getcwd()]]
    for candidate in candidates:
        if os.path.exists(candidate):
            return candidate
    return candidates[0]


def _has_manifest(path: str, playbook: str | None) -> bool:
    """Whether ``path`` (a directory) holds any manifest that :func:`store.reading.locate` could pick."""
    if store.reading.latest_manifest(path):
        return True
    if playbook:
        return store.reading.latest_manifest(store.layout.run_directory(path, playbook)) is not None
    try:
        return any(store.reading.latest_manifest(os.path.join(path, name)) for name in os.listdir(path))
    except OSError:
        return False


def locate_one(location: str, playbook: str | None, base_dirs: list[str], strict: bool = False) -> str:
    """The manifest file of one location.

    ``playbook`` picks its subdirectory of a manifest directory; unless
    ``strict``, only when that directory has one, so a relaunch playbook of
    another name can read the manifest of the playbook it relaunches.
    """
    path = _absolute(location, base_dirs)
    if (
        playbook
        and not strict
        and (
            not os.path.isdir(path) or store.reading.latest_manifest(store.layout.run_directory(path, playbook)) is None
        )
    ):
        playbook = None
    try:
        return store.reading.locate(path, playbook)
    except RelaunchError as exc:
        if not os.path.exists(path) or (os.path.isdir(path) and not _has_manifest(path, playbook)):
            raise ManifestMissing(str(exc)) from None
        raise


def manifest_paths(
    option, manifest_dir: str | None = None, base_dirs: list[str] | None = None, hint: str | None = None
) -> list[str]:
    """The manifest files named by a ``manifest`` option (a path or a list), deduplicated.

    Without ``option``: the latest manifest of the playbook being run, under
    ``manifest_dir`` or ``.relaunch`` beside the playbook.
    """
    base_dirs = list(base_dirs or [os.getcwd()])
    if option is None or option == "" or option == []:
        playbook = current_playbook(hint)
        root = _absolute(str(manifest_dir), base_dirs) if manifest_dir else store.layout.manifest_root(None, playbook)
        path = locate_one(root, playbook, base_dirs, strict=True)
        store.reading.check_playbook(path, root, playbook)
        return [path]
    if isinstance(option, str):
        locations = [option]
    elif isinstance(option, (list, tuple)) and all(isinstance(item, str) and item for item in option):
        locations = list(option)
    else:
        raise RelaunchError(f"option manifest: expected a path or a list of paths, got {option!r}")
    playbook = only_playbook()  # picks the playbook's subdirectory of a shared manifest directory
    paths: list[str] = []
    for location in locations:
        path = locate_one(str(location), playbook, base_dirs)
        if path not in paths:
            paths.append(path)
    return paths


def load_manifests(paths: list[str]) -> list[tuple[str, dict]]:
    return [(path, store.reading.load(path)) for path in paths]


class _LastRead:
    """The recorded hosts of the manifests read last, and the bytes of their files.

    ansible-core templates a play's ``hosts:`` twice when the play has no name (its name is the
    hosts string until templated), so the lookup selects twice in a row from the same files.
    """

    key: tuple | None = None
    recorded: RecordedHosts | None = None


def _contents(paths: list[str]) -> tuple | None:
    """The paths and the bytes of manifest files whose loading reads nothing else, or None.

    None for a journal, a latest.json beside the journal of a run that died (loading merges it in), or a file
    that cannot be read (loading says why).
    """
    contents = []
    for path in paths:
        if store.layout.run_id_of(os.path.basename(path), store.layout.JOURNAL) is not None:
            return None
        if os.path.basename(path) == store.layout.LATEST:
            dead = 0
            for _run_id, _journal, fd in store.journal.dead_journals(os.path.dirname(path)):
                os.close(fd)
                dead += 1
            if dead:
                return None
        try:
            with open(path, "rb") as handle:
                contents.append((path, handle.read()))
        except (OSError, ValueError):
            return None
    return tuple(contents)


def recorded_hosts(paths: list[str]) -> RecordedHosts:
    """The hosts of the manifests ``paths``, merged, as :class:`RecordedHosts` reads them.

    Those of the manifests read last when every file still holds the same bytes (they are replaced by renaming,
    never rewritten in place) and none needs a journal merged in: a second selection from the same files
    (the lookup in an unnamed play's ``hosts:``) does not parse and validate them again.
    """
    key = _contents(paths)
    if key is not None and key == _LastRead.key and _LastRead.recorded is not None:
        return _LastRead.recorded
    recorded = RecordedHosts(load_manifests(paths))
    # Should a file change while it is loaded, its new bytes differ from the key: the next call loads it again.
    _LastRead.key, _LastRead.recorded = key, recorded
    return recorded


def find_inventory(variables: dict | None):
    """The InventoryManager of the run: behind ``hostvars`` in a task, on the call stack elsewhere.

    A play's ``hosts:`` is templated without ``hostvars`` (and with no task
    queue at all under ``--list-hosts``); the PlaybookExecutor templating it
    holds the inventory.
    """
    inventory = compat.hostvars_inventory(variables or {})
    if inventory is None:
        inventory = compat.inventory_on_stack()
    if inventory is not None:
        return inventory
    raise RelaunchError(
        "the current inventory is not available here; relaunch.status plugins run inside ansible-playbook"
    )


def inventory_hosts(
    inventory, loader, identity_vars: list[str], playbook_dir: str | None = None, extra_dirs: list[str] | None = None
):
    """(current hosts with identities, group names) of an InventoryManager or InventoryData."""
    directories = source_directories(
        list(extra_dirs or []) + list(context.CLIARGS.get("inventory") or ()), playbook_dir
    )
    resolver = IdentityResolver(loader, list(identity_vars or []), directories)
    return current_inventory(inventory, resolver)


@dataclasses.dataclass(frozen=True, kw_only=True)
class SelectionRequest:
    """What a selecting plugin asks about: which manifests, set against which inventory.

    ``manifest`` is the plugin's option of that name: a path, a list of paths, or
    nothing for the latest manifest of the playbook being run, under ``manifest_dir``
    (else ``.relaunch`` beside the playbook). Relative paths are looked up in each of
    ``base_dirs`` in turn. ``hint``, a task's file, picks the playbook when several
    are on the command line. Identities are read with ``identity_vars`` from the
    inventory's variables and the group_vars/ and host_vars/ beside the inventory
    sources, in ``extra_dirs`` and in ``playbook_dir``.
    """

    inventory: object
    loader: object
    identity_vars: list[str]
    manifest: object = None
    manifest_dir: str | None = None
    base_dirs: list[str] | None = None
    playbook_dir: str | None = None
    hint: str | None = None
    extra_dirs: list[str] | None = None


def select_each(
    request: SelectionRequest,
    status_sets: list[list[str] | FailureGroupChoice],
    *,
    allow_empty: bool = False,
    in_play: bool = False,
    build_limit: bool = True,
    failure_groups: int = 0,
) -> tuple[list[Selection], list[str]]:
    """The selection of each list of statuses (or failure group) in ``status_sets``, then of the ``failure_groups``
    largest failure groups of the manifests, and the manifest paths read.

    The one way every plugin selects: the manifests are read and the current hosts
    resolved once, for all the selections. ``in_play`` counts what only a play can
    select: the implicit localhost (when the inventory does not define it) and hosts
    that add_host will create. ``build_limit=False`` skips the limits (names only).
    An empty selection is a RelaunchError unless ``allow_empty``.
    """
    paths = manifest_paths(request.manifest, request.manifest_dir, request.base_dirs, request.hint)
    # Tens of thousands of acyclic objects: the cyclic collector would walk the whole
    # inventory's heap again and again for nothing (a third of the cost at 20,000 hosts).
    # They are freed before it resumes (the manifests and hosts live in the helper only): left
    # alive, they went to the older generations and brought on one more collection of the whole
    # heap (0.9 s at 20,000 hosts).
    with gc_paused():
        selections = _select_each(paths, request, status_sets, allow_empty, in_play, build_limit, failure_groups)
    return selections, paths


def _select_each(paths, request, status_sets, allow_empty, in_play, build_limit, failure_groups=0) -> list[Selection]:
    recorded = recorded_hosts(paths)
    hosts, groups = inventory_hosts(
        request.inventory, request.loader, request.identity_vars, request.playbook_dir, request.extra_dirs
    )
    # A play reaches the implicit localhost by its name; it has no inventory vars, so no identity.
    if in_play and not any(host.name in IMPLICIT_LOCALHOST for host in hosts):
        hosts = [*hosts, CurrentHost("localhost")]
    selector = Selector(recorded, hosts, groups)
    selections = [selector.select(statuses, allow_empty, in_play, build_limit) for statuses in status_sets]
    return selections + selector.select_groups(failure_groups, allow_empty, in_play, build_limit)


def select_one(
    request: SelectionRequest,
    statuses: list[str] | FailureGroupChoice,
    *,
    allow_empty: bool = False,
    in_play: bool = False,
    build_limit: bool = True,
) -> tuple[Selection, list[str]]:
    """The selection of ``statuses`` (the union of their hosts) or of one failure group, and the manifest paths read:
    :func:`select_each` of one."""
    (selection,), paths = select_each(
        request, [statuses], allow_empty=allow_empty, in_play=in_play, build_limit=build_limit
    )
    return selection, paths


def messages(selection: Selection) -> list[str]:
    """Warnings a user should see: different machines under a recorded name, hosts not found."""
    lines = list(selection.warnings)
    # A different machine under a recorded name is already among the warnings.
    unresolved = [host for host in selection.unresolved if "a different machine" not in host["reason"]]
    if unresolved:
        shown = "; ".join(f"{host['name']!r} ({host['reason']})" for host in unresolved[:10])
        more = f"; and {len(unresolved) - 10} more" if len(unresolved) > 10 else ""
        one = len(unresolved) == 1
        found = "is not selected because it" if one else "are not selected because they"
        lines.append(f"{counted(len(unresolved), 'recorded host')} {found} cannot be found: {shown}{more}")
    return lines


def limit_messages(selection: Selection) -> list[str]:
    """:func:`messages`, and what a limit does about hosts the implicit localhost provisioned."""
    lines = messages(selection)
    if selection.implicit_provisioners and selection.hosts and selection.limit:
        one = len(selection.provisioned) == 1
        names = ", ".join(selection.provisioned[:5])
        lines.append(
            f"{'host' if one else 'hosts'} {names} {'was' if one else 'were'} provisioned by the implicit localhost; "
            "the limit names localhost beside the other hosts so that the relaunch re-creates "
            f"{'it' if one else 'them'}"
        )
    return lines


def renames(selection: Selection) -> str | None:
    if not selection.renamed:
        return None
    pairs = ", ".join(f"{old} -> {new}" for old, new in sorted(selection.renamed.items())[:10])
    one = len(selection.renamed) == 1
    return (
        f"{counted(len(selection.renamed), 'host')} {'was' if one else 'were'} renamed since the run "
        f"and {'is' if one else 'are'} selected by {'its current name' if one else 'their current names'}: {pairs}"
    )
