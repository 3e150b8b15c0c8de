# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the manifest callback reads of a playbook being run, in Ansible's terms: the plays, the tasks of the
relaunch selection, the hosts add_host created, the hosts of the plays that never started."""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_text

from ansible_collections.relaunch.status.plugins.plugin_utils import _compat as compat
from ansible_collections.relaunch.status.plugins.plugin_utils._core import command, store
from ansible_collections.relaunch.status.plugins.plugin_utils._inventory import IdentityResolver

# The relaunch selection itself: its results are no work of the run (the recorder's tasks_ran).
SELECTION_ACTION = "relaunch.status.relaunch_info"
SELECT_ROLE = (
    os.path.realpath(os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, "roles", "select")) + os.sep
)
_PLUGIN_UTILS = "ansible_collections.relaunch.status.plugins.plugin_utils."


def late(module: str):
    """A module of plugin_utils that only some runs need (the selection engine for a limit file, the secrets at
    the first failure, the summary at the end), loaded when first needed: ansible-core compiles a collection's
    modules from source on every run, before it forks its workers (docs/performance.md)."""
    return importlib.import_module(_PLUGIN_UTILS + module)


@dataclass
class Playbook:
    """What the callback follows of the playbook being recorded, in Ansible's terms."""

    plays: list  # the playbook's plays, in order
    resolver: IdentityResolver
    loader: object  # the playbook's DataLoader, for the known secrets
    passwords: dict | None  # the TaskQueueManager's, for the known secrets
    rescued_seen: dict[str, int]
    command_line: command.CommandLine
    seen_hosts: set[str] = field(default_factory=set)
    started_plays: set[str] = field(default_factory=set)  # uuids of the plays that started
    play: object = None  # the play running now
    play_uuid: str | None = None
    play_name: str = ""
    groups: list[str] = field(default_factory=list)
    secrets: object = None  # the KnownSecrets, made at the first failure

    def known_secrets(self):
        if self.secrets is None:
            self.secrets = late("_secrets").KnownSecrets(self.loader, self.passwords)
        return self.secrets

    def unstarted_hosts(self) -> dict:
        """The hosts (by name) of the plays that never started (Ctrl-C, an aborted play); once per playbook.

        They are resolved when the playbook stops, from the inventory as it is then (add_host
        and group_by included), under the run's --limit, as ansible-core would have resolved
        them. A play whose ``hosts:`` is a template is left out: resolving it would run
        templates and lookups the run never got to.
        """
        started = [index for index, play in enumerate(self.plays) if compat.object_id(play) in self.started_plays]
        unstarted = self.plays[started[-1] + 1 :] if started else self.plays
        self.plays = []
        hosts = {}
        for play in unstarted:
            hosts.update((host.name, host) for host in _hosts_of_unstarted_play(play))
        return hosts


def _hosts_of_unstarted_play(play) -> list:
    patterns = [play.hosts] if isinstance(play.hosts, str) else list(play.hosts or ())
    if any("{{" in pattern or "{%" in pattern for pattern in map(to_text, patterns)):
        return []
    inventory = compat.play_inventory(play)
    if inventory is None:
        return []
    try:
        return inventory.get_hosts(patterns, ignore_restrictions=True, order=play.order)
    except AnsibleError:
        return []  # ansible-core would have stopped on this play's pattern too


def is_selection(task) -> bool:
    """Whether a task is part of the relaunch selection: the relaunch_info action, or a task of the
    select role (with the validation of its arguments that ansible-core adds to it)."""
    if (task.resolved_action or task.action) == SELECTION_ACTION:
        return True
    context = task.args.get("validate_args_context") if isinstance(task.args, dict) else None
    path = str(context.get("path") or "") if isinstance(context, dict) else (task.get_path() or "").rsplit(":", 1)[0]
    return bool(path) and (os.path.realpath(path) + os.sep).startswith(SELECT_ROLE)


def is_implicit_fact_gathering(task) -> bool:
    """Whether a task is the fact gathering ansible-core adds at the start of a play (``gather_facts``): no work
    of the run, as it runs on every host of the play before the select role can end those outside the selection."""
    return task.action == "gather_facts" and task.name == "Gathering Facts"


def narrowed(task, data: dict) -> bool:
    """Whether a result of the relaunch selection kept a subset of the hosts: a relaunch_info task that found its
    manifest and limited the play (the select role with relaunch_hosts), as opposed to one that kept every host."""
    return (
        (task.resolved_action or task.action) == SELECTION_ACTION
        and data.get("manifest_found") is True
        and data.get("limited") is True
    )


def added_hosts(data: dict) -> Iterator[dict]:
    """The ``add_host`` entries of an add_host result, looped or not."""
    for item in [data] + [item for item in data.get("results", ()) if isinstance(item, dict)]:
        added = item.get("add_host")
        if isinstance(added, dict) and added.get("host_name"):
            yield added


def provision_event(provisioner: str, added: dict, inventory_hosts: Iterable[str], identity_vars) -> dict | None:
    """The recorder's event for a host add_host created; None for an inventory host it put in a group."""
    name = to_text(added["host_name"])
    if name in inventory_hosts:
        return None
    host_vars = added.get("host_vars") or {}
    identity, variable = next(
        ((to_text(host_vars[var]), var) for var in identity_vars if host_vars.get(var) is not None), (None, None)
    )
    return {"e": "provision", "host": name, "by": provisioner, "identity": identity, "identity_var": variable}


# <run id>.pending.limit: what is left to do in the rollout right after that run was merged.
PENDING_LIMIT = ".pending.limit"
# How a limit file that selects no host begins (store.limits.empty_limit_text).
_SELECTS_NO_HOST = b"~(?#relaunch.status found 0 "


def relaunch_files(directory: str, run_id: str, counts: dict) -> tuple[list[str], bool | None]:
    """The limit files of a run's relaunch command, and whether the rollout has pending hosts.

    Only files of the run's own, so that runs that overlap in one directory each print their own
    hosts: ``<run id>.pending.limit``, what is left in the rollout right after this run was merged
    (None for "pending" when the store wrote none); else ``<run id>.failed.limit``, this run's failed
    hosts, with latest.json's ``failed.limit`` and ``not_run.limit`` when hosts never finished.
    """
    pending = os.path.join(directory, run_id + PENDING_LIMIT)
    try:
        with open(pending, "rb") as handle:
            return [pending], not handle.read(len(_SELECTS_NO_HOST)).startswith(_SELECTS_NO_HOST)
    except OSError:
        pass
    if counts.get("not_run"):
        statuses = [status for status in ("failed", "not_run") if counts.get(status)]
        return [os.path.join(directory, status + store.layout.LIMIT) for status in statuses], None
    return [store.layout.run_limit_file(directory, run_id)], None
