# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of relaunch.status.relaunch_info: all the work is on the controller."""

from __future__ import annotations

import os

from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.relaunch.status.plugins.modules.relaunch_info import ARGUMENT_SPEC
from ansible_collections.relaunch.status.plugins.plugin_utils._core import history
from ansible_collections.relaunch.status.plugins.plugin_utils._core.errors import RelaunchError
from ansible_collections.relaunch.status.plugins.plugin_utils._core.selection import (
    FailureGroupChoice,
    parse_group,
    parse_statuses,
)
from ansible_collections.relaunch.status.plugins.plugin_utils._selector import (
    ManifestMissing,
    SelectionRequest,
    configured,
    find_inventory,
    inventory_hosts,
    limit_messages,
    renames,
    select_one,
)

display = Display()


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False  # 2.16+: never connect to the task's host

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}
        _validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        result["changed"] = False
        try:
            statuses = self._choice(args)
            thresholds = history.Thresholds(
                flaky_runs=args["flaky_runs"], flaky_flips=args["flaky_flips"], chronic_runs=args["chronic_runs"]
            )
            identity_vars = args["identity_vars"]
            if identity_vars is None:
                identity_vars = configured("identity_vars")
            manifest_dir = args["manifest_dir"] or configured("manifest_dir")
            playbook_dir = task_vars.get("playbook_dir")
            playbook_dir = str(playbook_dir) if playbook_dir else None
            request = SelectionRequest(
                inventory=find_inventory(task_vars),
                loader=self._loader,
                identity_vars=identity_vars,
                manifest=args["manifest"],
                manifest_dir=manifest_dir,
                base_dirs=[os.getcwd()] + ([playbook_dir] if playbook_dir else []),
                playbook_dir=playbook_dir,
                hint=self._task.get_path(),
            )
            selection, paths = select_one(request, statuses, allow_empty=args["allow_empty"], in_play=args["in_play"])
            if args["history"]:
                result["history"] = host_histories(request, paths, thresholds)
        except ManifestMissing as exc:
            if args["allow_missing"]:
                result["manifest_found"] = False
                result["msg"] = str(exc)
                return result
            result.update(failed=True, msg=str(exc))
            return result
        except RelaunchError as exc:
            result.update(failed=True, msg=str(exc))
            return result
        for line in limit_messages(selection):
            display.warning(f"relaunch.status.relaunch_info: {line}")
        renamed = renames(selection)
        if renamed:
            display.vv(f"relaunch.status.relaunch_info: {renamed}")
        result.update(manifest_found=True, manifests=paths, **selection.report())
        return result

    def _choice(self, args: dict) -> list[str] | FailureGroupChoice:
        """The statuses of option hosts, or the failure group of option group."""
        if args["group"] is None:
            return parse_statuses(args["hosts"], option="hosts")
        if "hosts" in self._task.args:  # given, not its default
            raise RelaunchError(
                "option group: given with option hosts; a failure group's hosts are failed hosts: give one of them"
            )
        return FailureGroupChoice(parse_group(args["group"]))


def host_histories(request: SelectionRequest, paths: list[str], thresholds: history.Thresholds) -> dict[str, dict]:
    """The history of each current host in the kept runs of the manifests read, by its current name."""
    hosts, _groups = inventory_hosts(
        request.inventory, request.loader, request.identity_vars, request.playbook_dir, request.extra_dirs
    )
    current = history.by_current_name(history.of_manifests(paths, thresholds), hosts)
    return {name: current[name].report() for name in sorted(current)}
