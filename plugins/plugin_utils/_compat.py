# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every access to ansible-core internals (underscore names, objects no API hands over), in one place.

ansible-core gives callbacks and lookups no public way to reach some of what
they need: its own failed and unreachable sets (what its .retry file lists),
the inventory behind a play or a task's ``hostvars``, a stable id of a play or
task. Each item below names the ansible-core versions it was checked on;
tests/ecosystem/test_compat.py checks on every supported version that each one
still exists and still means what this module assumes, against public facts
(the .retry file, the recap, the inventory).

Nothing here reads a deprecated attribute: which result API a version has is
told from the result's type, never from an instance property. Not listed here:
what the plugin base classes hand to plugins as their own (``self._loader``,
``self._task``, ``self._display``, ``self._read_config_data``).
"""

from __future__ import annotations

import sys

# What a caller is told when the TaskQueueManager cannot be reached.
APPROXIMATE_WITHOUT_TQM = (
    "ansible-core's own failed and unreachable sets cannot be reached, so the statuses failed, unreachable and "
    "rescued are approximate: derived from task results, they miss hosts failed by any_errors_fatal, "
    "max_fail_percentage or a failed run_once task, keep hosts cleared by meta: clear_host_errors, and count "
    "rescued failures as failed"
)


def calling_object(pick):
    """The first non-None ``pick(obj)`` over the ``self`` of each calling frame, innermost first.

    Callbacks get no reference to the TaskQueueManager that calls them, and a
    play's ``hosts:`` is templated without ``hostvars``; the object that holds
    what is needed is a caller's ``self``. Returns None when no frame has it.
    ``sys._getframe``: CPython 3.10 to 3.13.
    """
    frame = sys._getframe(1)
    while frame is not None:
        found = pick(frame.f_locals.get("self"))
        if found is not None:
            return found
        frame = frame.f_back
    return None


# --- task results (2.16 to 2.18: TaskResult; 2.19 to 2.21: CallbackTaskResult) ---------------


def public_result(result) -> bool:
    """Whether a task result has the public ``host``/``task``/``result`` attributes.

    Asked of the type, never of the instance: on 2.21 reading the deprecated
    ``task_fields`` property of a result warns and walks the call stack.
    Checked: ``host`` is a property of CallbackTaskResult on 2.19, 2.20 and
    2.21, and no attribute of TaskResult on 2.16, 2.17 and 2.18.
    """
    return hasattr(type(result), "host")


def result_host_task(result):
    """(host, task) of a task result: public attributes from 2.19 on, ``_host``/``_task`` on 2.16 to 2.18."""
    if public_result(result):
        return result.host, result.task
    return result._host, result._task


def result_data(result) -> dict:
    """The result dict of a task result: ``result`` from 2.19 on, ``_result`` on 2.16 to 2.18.

    From 2.19 on, the first read of ``result.result`` deep-copies and converts
    the whole dict for this callback alone: most of the callback's cost per
    result (see docs/performance.md), so read it only where it is needed.
    """
    return result.result if public_result(result) else result._result


# --- the TaskQueueManager (checked on 2.16 to 2.21) --------------------------------------------


def find_task_queue_manager():
    """The TaskQueueManager calling this callback (its ``send_callback`` is on the stack), or None.

    Checked on 2.16 to 2.21: callbacks are only called from
    ``TaskQueueManager.send_callback``.
    """
    from ansible.executor.task_queue_manager import TaskQueueManager

    return calling_object(lambda obj: obj if isinstance(obj, TaskQueueManager) else None)


def tqm_failed_hosts(tqm) -> set[str]:
    """What ansible-core's .retry file lists: ``tqm._failed_hosts`` | ``tqm._unreachable_hosts`` (dicts by host name).

    Checked on 2.16 to 2.21 (executor/playbook_executor.py writes the .retry
    file from exactly these two).
    """
    return set(tqm._failed_hosts) | set(tqm._unreachable_hosts)


def tqm_inventory(tqm):
    """The InventoryManager of the run, as the TaskQueueManager holds it (``tqm._inventory``), or None.

    Checked on 2.16 to 2.21.
    """
    return getattr(tqm, "_inventory", None)


def tqm_rescued(tqm) -> dict[str, int]:
    """Rescued count per host so far: ``tqm._stats.rescued``, the AggregateStats the recap prints.

    Checked on 2.16 to 2.21: the strategy counts a rescued failure there
    before it calls ``v2_runner_on_failed``.
    """
    return tqm._stats.rescued


# --- plays, tasks and the inventory (checked on 2.16 to 2.21) ----------------------------------


def play_inventory(play):
    """The InventoryManager of a play: ``play.get_variable_manager()._inventory``. Checked on 2.16 to 2.21.

    None for a play loaded without a VariableManager (not by ansible-playbook).
    """
    return getattr(play.get_variable_manager(), "_inventory", None)


def hostvars_inventory(variables: dict):
    """The InventoryManager behind a task's ``hostvars`` (``HostVars._inventory``), or None.

    Going through ``hostvars[name]`` instead would resolve every variable of
    every host. Checked on 2.16 to 2.21.
    """
    return getattr((variables or {}).get("hostvars"), "_inventory", None)


def inventory_on_stack():
    """The InventoryManager a caller holds as ``_inventory`` (the PlaybookExecutor templating ``hosts:``), or None.

    Checked on 2.16 to 2.21: ``PlaybookExecutor._inventory`` and ``VariableManager._inventory``.
    """
    from ansible.inventory.manager import InventoryManager

    def pick(obj):
        candidate = getattr(obj, "_inventory", None)
        return candidate if isinstance(candidate, InventoryManager) else None

    return calling_object(pick)


def object_id(play_or_task) -> str:
    """The id ansible-core gives a play or task when it loads it (``_uuid``), the same for every serial batch.

    Checked on 2.16 to 2.21 (playbook/base.py sets it once per loaded object).
    """
    return play_or_task._uuid


def playbook_file(playbook) -> str:
    """The file a Playbook was loaded from (``Playbook._file_name``). Checked on 2.16 to 2.21."""
    return playbook._file_name


def fill_new_group(group, hosts: list) -> bool:
    """Put ``hosts`` (distinct Host objects) in ``group``, a group just made, as ``Group.add_host`` puts each.

    ``add_host`` checks the group's host names, appends to ``hosts`` and to the ``_hosts`` name cache,
    lets the host add the group after the group's ancestors, and clears ``_hosts_cache`` of the group and of
    its ancestors: for a group with no host, parent or child, what is left of that is appending to
    ``group.hosts`` and to each ``host.groups``, and dropping both caches (``_hosts`` is rebuilt from
    ``hosts`` when next asked, as each version builds it). Checked on 2.16 to 2.21; at 20,000 hosts
    ``add_host`` one by one took 0.1 s. False, with nothing done, for a group that is not new.
    """
    if group.hosts or group.parent_groups or group.child_groups:
        return False
    group.hosts.extend(hosts)
    group._hosts = None
    group._hosts_cache = None
    for host in hosts:
        host.groups.append(group)
    return True


# --- the DataLoader (checked on 2.16 to 2.21) --------------------------------------------------


def loader_file_cache(loader) -> dict:
    """The files a DataLoader has read and kept, path to parsed data (``DataLoader._FILE_CACHE``).

    Checked on 2.16 to 2.21: ``load_from_file`` caches group_vars, host_vars, playbooks, roles and
    vaulted vars_files there by their absolute path.
    """
    return getattr(loader, "_FILE_CACHE", None) or {}


def vault_secrets(loader) -> list:
    """The run's vault secrets, (vault id, VaultSecret) pairs.

    2.19 to 2.21: the public ``VaultSecretsContext``; 2.16 to 2.18: the loader's
    ``_vault.secrets``, where the CLI puts them.
    """
    try:
        from ansible.parsing.vault import VaultSecretsContext
    except ImportError:  # before 2.19
        return list(getattr(getattr(loader, "_vault", None), "secrets", None) or ())
    context = VaultSecretsContext.current(optional=True)
    return list(context.secrets or ()) if context is not None else []
