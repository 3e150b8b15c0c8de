# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller-side glue: a host's identity and the current inventory, read from Ansible's objects.

The identity of a host is the first of the identity variables that is set for
it, resolved as a play sees inventory variables: inventory group vars (deeper
and higher-priority groups win), group_vars/ files, then inventory host vars
and host_vars/ files, beside the inventory sources and the playbook. Play vars,
facts and extra vars are left out on purpose: an identity names a machine of
the inventory, not something a run computes.

This reads host and group vars directly rather than through VariableManager,
which resolves every variable of a host and is ten times slower at 20,000 hosts.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, MutableMapping
from typing import TYPE_CHECKING

from ansible import constants as C
from ansible.errors import AnsibleError
from ansible.inventory.helpers import sort_groups
from ansible.template import Templar
from ansible.utils.vars import combine_vars, merge_hash
from ansible.vars.plugins import get_vars_from_path

if TYPE_CHECKING:
    from ansible_collections.relaunch.status.plugins.plugin_utils._core.selection import CurrentHost


def source_directories(sources: list | tuple | None, playbook_dir: str | None = None) -> list[str]:
    """Directories whose group_vars/ and host_vars/ apply: those of inventory sources, then the playbook's.

    A source's directory is the one ansible-core's ``get_vars_from_inventory_sources`` passes to the vars
    plugins (the same rule in 2.16 to 2.21): a directory source itself, a host list ("a,b," that is not a
    path) none, any other source the directory it is in; a directory of several sources counts where it
    comes last, as it does for ansible-core. The resolver needs the directories rather than
    that function's merged variables: it asks the vars plugins about many hosts per directory at once.
    tests/unit/test_inventory_glue.py checks that both give the same variables.
    """
    directories = []
    for source in sources or ():
        if not isinstance(source, str):
            continue
        if "," in source and not os.path.exists(source):
            continue
        directories.append(os.path.abspath(source if os.path.isdir(source) else os.path.dirname(source)))
    if playbook_dir:
        directories.append(os.path.abspath(playbook_dir))
    # ansible-core asks a directory again for each source in it, and the last time wins:
    # keep each directory once, at its last place.
    return list(reversed(dict.fromkeys(reversed(directories))))


# Host.get_vars() puts these over the host's own vars (ansible.inventory.host.Host.get_magic_vars).
_MAGIC_VARS = frozenset(("inventory_hostname", "inventory_hostname_short", "group_names"))

# Hosts asked about at once when checking whether the vars plugins have anything for them.
PROBE_CHUNK = 500


def _combined(name: str, layers: list[Mapping]) -> object:
    """The value of ``name`` in combine_vars of ``layers`` (lowest first), without building the whole
    dict; None if unset."""
    found, value = False, None
    for layer in layers:
        if name in layer:
            new = layer[name]
            if (
                found
                and isinstance(value, MutableMapping)
                and isinstance(new, MutableMapping)
                and C.DEFAULT_HASH_BEHAVIOUR == "merge"
            ):
                new = merge_hash(value, new)
            found, value = True, new
    return value


class IdentityResolver:
    """Resolves host identities; caches group variables, which many hosts share."""

    def __init__(self, loader, identity_vars: list[str], directories: list[str]) -> None:
        self._loader = loader
        self._identity_vars = list(identity_vars)
        self._directories = directories
        self._group_vars: dict[str, dict] = {}
        self._no_plugin_vars: set[str] = set()  # hosts the vars plugins were found to have nothing for

    def _plugin_vars(self, entity) -> dict:
        data: dict = {}
        for path in self._directories:
            data = combine_vars(data, get_vars_from_path(self._loader, path, [entity], "task"))
        return data

    def _vars_of_group(self, group) -> dict:
        cached = self._group_vars.get(group.name)
        if cached is None:
            cached = self._group_vars[group.name] = combine_vars(group.get_vars(), self._plugin_vars(group))
        return cached

    def resolve_all(self, hosts: list) -> list[CurrentHost]:
        """Every host with its identity, as :meth:`resolve` gives it one by one, at a fraction of the cost.

        Vars plugins take a list of hosts (a play asks them about all the groups of a host at
        once) and return the variables of all of them together: where they return nothing for a
        chunk of hosts, they have nothing for any host of it, and are not asked about each.
        """
        # Imported here: the callback resolves hosts one by one and never loads the selection engine while
        # hosts run (see core/store/__init__.py).
        from ansible_collections.relaunch.status.plugins.plugin_utils._core.selection import CurrentHost

        if not self._identity_vars:
            return [CurrentHost(host.name) for host in hosts]
        for start in range(0, len(hosts), PROBE_CHUNK):
            chunk = hosts[start : start + PROBE_CHUNK]
            if not any(get_vars_from_path(self._loader, path, chunk, "task") for path in self._directories):
                self._no_plugin_vars.update(host.name for host in chunk)
        try:
            return [CurrentHost(host.name, self.resolve(host)[0]) for host in hosts]
        finally:
            self._no_plugin_vars.clear()  # files may change before the next call

    def resolve(self, host) -> tuple[str | None, str | None]:
        """(identity, variable name) of a host, or (None, None)."""
        if not self._identity_vars:
            return None, None
        # The layers of combine_vars(host.get_vars(), plugin vars), read one name at a time:
        # most hosts hold a handful of names out of many variables.
        plugin_vars = {} if host.name in self._no_plugin_vars else self._plugin_vars(host)
        magic: dict | None = None
        groups = None
        for name in self._identity_vars:
            if name in _MAGIC_VARS and magic is None:
                magic = host.get_magic_vars()
            value = _combined(name, [host.vars, magic or {}, plugin_vars])
            if value is None:
                if groups is None:
                    groups = sort_groups(host.get_groups())
                for group in reversed(groups):
                    value = self._vars_of_group(group).get(name)
                    if value is not None:
                        break
            if isinstance(value, str) and ("{{" in value or "{%" in value):
                # A play sees the templated value (relaunch_id: "{{ serial }}"), not the template.
                host_vars = combine_vars(host.get_vars(), plugin_vars)
                value = self._template(host, host_vars, groups or sort_groups(host.get_groups()), value)
            if value is not None:
                # 2.19 tags template values with str subclasses; store plain text.
                return str(value), name
        return None, None

    def _template(self, host, host_vars: dict, groups: list, value: str):
        """A templated identity, rendered with the host's inventory variables; None if it cannot be."""
        variables: dict = {}
        for group in groups:
            variables = combine_vars(variables, self._vars_of_group(group))
        variables = combine_vars(variables, host_vars)
        variables.update(
            inventory_hostname=host.name,
            inventory_hostname_short=host.name.split(".")[0],
            group_names=sorted(group.name for group in groups if group.name != "all"),
        )
        try:
            rendered = Templar(loader=self._loader, variables=variables).template(value)
        except AnsibleError:
            return None  # it needs more than the inventory (facts, play vars): no identity rather than a wrong one
        return None if rendered is None or rendered == "" else rendered


def current_inventory(inventory, resolver: IdentityResolver) -> tuple[list[CurrentHost], list[str]]:
    """Every host of an InventoryManager or InventoryData with its identity, and the group names."""
    return resolver.resolve_all(list(inventory.hosts.values())), list(inventory.groups)
