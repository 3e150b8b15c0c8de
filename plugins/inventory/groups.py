# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: groups
short_description: One group per status of a status manifest, holding the current hosts
description:
  - Reads status manifests written by the P(relaunch.status.manifest#callback) callback and adds one group
    per status that has hosts, named C(relaunch_<status>) (C(relaunch_failed), C(relaunch_not_run), ...),
    holding the current inventory hosts recorded with that status, found by identity, so that
    C(--limit relaunch_failed) relaunches on renamed hosts too.
  - It never creates a host; give it after the real inventory sources
    (C(-i inventory -i relaunch.yml)), whose hosts it sorts into groups.
  - The configuration file name must end in C(relaunch.yml) or C(relaunch.yaml)
    (C(relaunch.yml), C(site.relaunch.yml), ...).
  - It also adds the groups C(relaunch_flaky) and C(relaunch_chronic), from the kept runs of the playbook whose
    manifest it reads (C(<run id>.json) beside it; C(--check) runs left out), each even when it is empty.
    C(relaunch_flaky) holds the hosts whose outcome flipped between failed and ok at least O(flaky_flips) times in
    the last O(flaky_runs) runs; C(relaunch_chronic) the hosts that failed in each of the last O(chronic_runs) runs
    that ran them, among the last O(flaky_runs) runs (O(chronic_runs) if more). Unreachable counts as failed; a run
    that did not run a host neither flips nor ends its streak. Only those newest runs are read.
  - It also adds a group C(relaunch_failure_<id>) for each of the O(failure_groups) largest failure groups of the
    manifest (its C(failure_groups); C(relaunch_failure_3f9a2c1b)), holding the current hosts of that group, found by
    identity. The end-of-run summary, C(ansible-relaunch report) and the manifest list the ids; the id of a failure
    is the same in every run. A group with no current host does not exist, as for a status.
version_added: 1.0.0
author: relaunch.status contributors (@relaunch-status)
extends_documentation_fragment:
  - relaunch.status.manifest
options:
  plugin:
    description: The name of this plugin; it makes the file a configuration of this plugin.
    type: str
    required: true
    choices: [relaunch.status.groups]
  manifest:
    description:
      - The manifest(s) to read, each a manifest file, a playbook's run directory (C(.relaunch/site)) or a
        manifest directory (C(.relaunch)); several are merged.
      - A relative path is looked up beside this configuration file, then in the current directory.
      - When unset, the latest manifest of the playbook being run, in O(manifest_dir) or C(.relaunch) beside
        the playbook; this needs C(ansible-playbook) with one playbook.
    type: raw
  statuses:
    description: The statuses to make groups for; by default every status.
    type: list
    elements: str
    default: [all, failed, unreachable, changed, ok, skipped, rescued, ignored, not_run, pending]
  failure_groups:
    description:
      - How many failure groups, the largest first, get a group C(relaunch_failure_<id>); C(0) adds none.
      - A run can have thousands of failure groups of one host each.
    type: int
    default: 20
    version_added: 2.0.0
  flaky_runs:
    description:
      - How many of the newest runs C(relaunch_flaky) looks at.
      - Ten daily runs are two working weeks.
    type: int
    default: 10
    version_added: 2.0.0
  flaky_flips:
    description:
      - How many flips between failed and ok in the last O(flaky_runs) runs make a host flaky.
      - Three (failed, ok, failed, ok) is no longer chance.
    type: int
    default: 3
    version_added: 2.0.0
  chronic_runs:
    description:
      - In how many of its newest runs in a row a host must have failed to be chronic; runs that did not run it
        are passed over, and only the last O(flaky_runs) runs (O(chronic_runs) if more) are looked at.
      - Three daily runs are three days of a host that needs a person.
    type: int
    default: 3
    version_added: 2.0.0
notes:
  - A current host that has the recorded name but another identity is a different machine; it is not put in
    any group, and a warning says why. Recorded hosts that cannot be found are listed in a warning.
  - For a host that add_host created during the run, the group holds the hosts that provisioned it, so that
    the relaunch re-creates it. The implicit C(localhost) is not an inventory host and cannot be put in a
    group; when it provisioned hosts, a warning points to the P(relaunch.status.select#role) role.
  - A group C(relaunch_<status>), C(relaunch_flaky), C(relaunch_chronic) or C(relaunch_failure_<id>) that the
    inventory already has is an error, since joining it would widen the selection.
  - A configuration error (a missing manifest, an unknown status, a group C(relaunch_<status>) the inventory already
    has, this file given before the real inventory) is one error line naming this file, and the command stops
    there, before anything runs. Other inventory sources keep ansible-core's own handling (a source that fails to
    parse is a warning unless C(inventory.any_unparsed_is_failed) is set).
  - C(relaunch_all) holds the current hosts of every host the run recorded (the hosts its plays targeted, after its
    C(--limit)). It is not the same as the run's C(--limit) (a pattern that may match hosts added since) nor as no
    limit (C(--limit relaunch_all) never selects the implicit C(localhost)); to relaunch limited exactly as the run was,
    and not at all when it had no C(--limit), use status C(all) of the P(relaunch.status.relaunch_info#module) module
    or the P(relaunch.status.select#role) role.
"""

EXAMPLES = r"""
# relaunch.yml, given after the real inventory:
#   ansible-playbook -i inventory -i relaunch.yml site.yml --limit relaunch_failed
plugin: relaunch.status.groups

# failed.relaunch.yml: only two groups, from a given manifest, with a site-specific identity variable
# plugin: relaunch.status.groups
# manifest: /var/lib/relaunch/site/latest.json
# statuses: [failed, not_run]
# identity_vars: [serial_number, relaunch_id]

# The hosts of one failure group (its id from the summary or ansible-relaunch report):
#   ansible-playbook -i inventory -i relaunch.yml site.yml --limit relaunch_failure_3f9a2c1b
# failures.relaunch.yml: only the 5 largest failure groups, no status group but pending
# plugin: relaunch.status.groups
# statuses: [pending]
# failure_groups: 5

# history.relaunch.yml: hosts that failed on each of the last 5 runs are in relaunch_chronic
#   ansible-playbook -i inventory -i history.relaunch.yml site.yml --limit relaunch_chronic
# plugin: relaunch.status.groups
# chronic_runs: 5
# flaky_runs: 20
# flaky_flips: 4
"""

import os

from ansible.plugins.inventory import BaseInventoryPlugin
from ansible.utils.display import Display

from ansible_collections.relaunch.status.plugins.plugin_utils import _compat as compat
from ansible_collections.relaunch.status.plugins.plugin_utils._core import history
from ansible_collections.relaunch.status.plugins.plugin_utils._core.errors import RelaunchError
from ansible_collections.relaunch.status.plugins.plugin_utils._core.selection import (
    Selection,
    parse_statuses,
    regex_pattern,
)
from ansible_collections.relaunch.status.plugins.plugin_utils._selector import (
    SelectionRequest,
    inventory_hosts,
    messages,
    only_playbook,
    renames,
    select_each,
)

display = Display()

GROUP_PREFIX = "relaunch_"
FLAKY_GROUP = GROUP_PREFIX + "flaky"
CHRONIC_GROUP = GROUP_PREFIX + "chronic"
FAILURE_GROUP_PREFIX = GROUP_PREFIX + "failure_"  # relaunch_failure_<id>: one failure group


class InventoryModule(BaseInventoryPlugin):
    NAME = "relaunch.status.groups"

    def verify_file(self, path):
        return super().verify_file(path) and os.path.basename(path).endswith(("relaunch.yml", "relaunch.yaml"))

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        try:
            self._read_config_data(path)
            statuses = parse_statuses(self.get_option("statuses"), option="statuses")
            thresholds = history.Thresholds(
                flaky_runs=self.get_option("flaky_runs"),
                flaky_flips=self.get_option("flaky_flips"),
                chronic_runs=self.get_option("chronic_runs"),
            )
            self._check_inventory([GROUP_PREFIX + status for status in statuses] + [FLAKY_GROUP, CHRONIC_GROUP])
            request = self._request(path)
            selections, paths = select_each(
                request,
                [[status] for status in statuses],
                allow_empty=True,
                build_limit=False,
                failure_groups=self.get_option("failure_groups"),
            )
            named = [(GROUP_PREFIX + status, selection) for status, selection in zip(statuses, selections)]
            failure_groups = [(FAILURE_GROUP_PREFIX + str(item.group), item) for item in selections[len(statuses) :]]
            self._check_inventory([group for group, _selection in failure_groups])
            shown: set[str] = set()
            for group, selection in named + failure_groups:
                self._warn(path, group, selection, shown)
                if selection.hosts:
                    self._add_group(group, selection.hosts)
            self._add_history_groups(path, request, paths, thresholds)
        except RelaunchError as exc:
            display.error(f"{path}: {exc}", wrap_text=False)
            # Why not AnsibleError or AnsibleParserError, the usual way for an inventory plugin: ansible-core
            # (InventoryManager.parse_source, 2.16 to 2.21) catches every Exception from parse(), tries every other
            # inventory plugin on this file (a screen of "Failed to parse" warnings), then only warns "Unable to
            # parse" and goes on, so "--limit relaunch_failed" could match a group of that name from another source.
            # any_unparsed_is_failed would stop it, but it is the user's setting and applies to every source;
            # unparsed_is_failed fires only when no source at all was parsed. SystemExit passes that
            # "except Exception" and leaves other sources alone. At the start it skips nothing: ansible-playbook
            # parses the inventory before it builds the TaskQueueManager that loads the callbacks. A refresh in a
            # play (meta: refresh_inventory) still runs the PlaybookExecutor's cleanup (its "finally"), but not the
            # callbacks' end of the run: the run stops with exit code 1 rather than go on with other hosts.
            raise SystemExit(1) from None

    def _check_inventory(self, groups: list[str]) -> None:
        """Refuse an inventory where the groups would not select exactly the recorded hosts."""
        if not self.inventory.hosts:
            raise RelaunchError(
                "the inventory has no hosts yet; give this file after the real inventory sources "
                "(-i inventory -i relaunch.yml)"
            )
        existing = [group for group in groups if group in self.inventory.groups]
        if existing:
            raise RelaunchError(
                f"the inventory already has group {existing[0]!r}; adding to it would widen the selection: "
                "rename that group"
            )
        # A limit takes an exact host name before a group of that name.
        clashes = [group for group in groups if group in self.inventory.hosts]
        if clashes:
            raise RelaunchError(
                f"the inventory has a host named {clashes[0]!r}; a limit of that group would select the host: "
                "rename the host"
            )

    def _request(self, path: str) -> SelectionRequest:
        """What the groups select from: the manifests of the options, set against this inventory."""
        here = os.path.dirname(os.path.abspath(path))
        playbook = only_playbook()
        return SelectionRequest(
            inventory=self.inventory,
            loader=self.loader,
            identity_vars=self.get_option("identity_vars"),
            manifest=self.get_option("manifest"),
            manifest_dir=self.get_option("manifest_dir"),
            base_dirs=[here, os.getcwd()],
            playbook_dir=os.path.dirname(playbook) if playbook else None,
            extra_dirs=[here],
        )

    def _add_history_groups(
        self, path: str, request: SelectionRequest, paths: list[str], thresholds: history.Thresholds
    ) -> None:
        """relaunch_flaky and relaunch_chronic, empty ones too: a limit of an empty group selects nothing."""
        # Only the runs flaky and chronic look at, and none where too few are kept to flag a host: each run of
        # 20,000 hosts takes about as long to read as the manifest the status groups come from.
        found = history.flagged_histories(paths, thresholds)
        current: dict[str, history.HostHistory] = {}
        if any(host.flaky or host.chronic for host in found):  # the identities are read again only when needed
            hosts, _groups = inventory_hosts(
                request.inventory, request.loader, request.identity_vars, request.playbook_dir, request.extra_dirs
            )
            current = history.by_current_name(found, hosts)
        for group, wanted in ((FLAKY_GROUP, "flaky"), (CHRONIC_GROUP, "chronic")):
            names = sorted(name for name, host in current.items() if getattr(host, wanted))
            self._add_group(group, names)
            display.vv(f"{path}: group {group}: {len(names)} of the hosts of the kept runs of {', '.join(paths)}")

    def _warn(self, path: str, group: str, selection: Selection, shown: set[str]) -> None:
        """What a user should know of a group's selection; a line several groups share is shown once."""
        for line in messages(selection):
            if line not in shown:
                shown.add(line)
                display.warning(f"{path}: {line}")
        renamed = renames(selection)
        if renamed:
            display.vv(f"{path}: group {group}: {renamed}")
        them = "it" if len(selection.provisioned) == 1 else "them"
        if selection.implicit_provisioners:
            display.warning(
                f"{path}: group {group} cannot hold the implicit localhost, which provisioned "
                f"{', '.join(selection.provisioned[:5])}; use the relaunch.status.select role to relaunch {them}"
            )
        if selection.hosts and selection.provisioned:
            # A group holds existing hosts only; a limit of it alone would leave out the re-created hosts.
            extra = ",".join(regex_pattern(name) for name in selection.provisioned[:20])
            extra += ",..." if len(selection.provisioned) > 20 else ""
            display.warning(
                f"{path}: group {group} holds the hosts that provisioned {', '.join(selection.provisioned[:5])}, "
                f"which {'does' if them == 'it' else 'do'} not exist until add_host creates {them} again; "
                f"add {them} to the limit (--limit '{group},{extra}') "
                "or relaunch with the limit file or the relaunch.status.select role"
            )

    def _add_group(self, group_name: str, hosts: list[str]) -> None:
        group = self.inventory.groups[self.inventory.add_group(group_name)]
        # Not add_child(): it takes a group before a host of the same name, which would widen the group.
        members = [self.inventory.hosts[name] for name in dict.fromkeys(hosts)]
        if not compat.fill_new_group(group, members):
            for host in members:
                group.add_host(host)
