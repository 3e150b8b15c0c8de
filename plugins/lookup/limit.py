# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: limit
short_description: The exact limit that selects the hosts of a status in a status manifest
description:
  - Reads status manifests written by the P(relaunch.status.manifest#callback) callback and returns a host
    pattern that selects exactly the current inventory hosts recorded with the given statuses, for a
    play's C(hosts:) or C(--limit).
  - Every host name is written so that ansible-core's own pattern rules select that host and no other;
    names with commas, spaces, brackets, globs, a leading C(!), C(&), C(~) or C(@), or equal to a group
    name are all exact.
  - Status C(all) returns the original C(--limit) of the run as recorded (see C(invocation.limit) in the manifest).
    When the run had no C(--limit), no host pattern means the same (C(all) would skip a play on the implicit
    C(localhost), an empty C(hosts:) runs nothing), so the lookup fails with a message saying to relaunch
    without C(--limit) instead.
version_added: 1.0.0
author: relaunch.status contributors (@relaunch-status)
extends_documentation_fragment:
  - relaunch.status.manifest
  - relaunch.status.selection
options:
  _terms:
    description:
      - Statuses to select; several statuses (or comma-separated ones) select their union.
      - One of C(all), C(failed), C(unreachable), C(changed), C(ok), C(skipped), C(rescued), C(ignored), C(not_run),
        C(pending) (everything still to do in the rollout, that is C(failed), unreachable included, or C(not_run)).
      - When none is given, C(failed); none may be given with O(group).
    type: list
    elements: str
    required: false
  group:
    description:
      - The id of one failure group (8 hex digits, such as C(3f9a2c1b)) to select instead of statuses; the hosts the
        manifest records in that group of its C(failure_groups), found by identity as for a status.
      - The end-of-run summary, C(ansible-relaunch report) and the manifest's C(failure_groups) list the ids. The id
        of a failure is the same in every run (its rank is not).
      - An id the manifest does not know (a failure that no longer happens has no group) is an error, never a wider
        selection; so is a group of 0 current hosts, unless O(allow_empty=true). Statuses and O(group) cannot be
        given together.
    type: str
    version_added: 2.0.0
  default:
    description:
      - The host pattern to return when no manifest exists yet where the lookup looks (the first run of a
        playbook that relaunches itself), for example C(all) or the play's own pattern.
      - When unset, a missing manifest is an error. A manifest that exists but cannot be read, an unknown status
        and a selection of 0 hosts still fail; an empty O(default) is refused, as C(--limit '') means every host.
    type: str
    version_added: 2.0.0
"""

EXAMPLES = r"""
# The first run (no manifest yet) runs on every host; each later run on the hosts that failed in the run before.
- name: Relaunch the failed hosts of the last run of this playbook
  hosts: "{{ lookup('relaunch.status.limit', 'failed', default='all') }}"
  gather_facts: false
  tasks:
    - name: Do the work again
      ansible.builtin.ping:

- name: Failed and never-run hosts of a given manifest
  hosts: >-
    {{ lookup('relaunch.status.limit', 'failed', 'not_run', manifest='/var/lib/relaunch/site/latest.json') }}
  tasks:
    - name: Finish the job
      ansible.builtin.ping:

# The id is the one the summary of the run printed (or ansible-relaunch report shows) beside the failure.
- name: Relaunch the hosts of one failure group
  hosts: "{{ lookup('relaunch.status.limit', group='3f9a2c1b', manifest='.relaunch/site') }}"
  tasks:
    - name: Do the work again
      ansible.builtin.ping:

- name: Merge the manifests of two controllers, and accept an empty result
  hosts: localhost
  tasks:
    - name: Show the limit, or say there is nothing to do
      ansible.builtin.debug:
        msg: "{{ limit if limit else 'nothing failed' }}"
      vars:
        limit: >-
          {{ lookup('relaunch.status.limit', 'failed', manifest=['east/.relaunch', 'west/.relaunch'],
             allow_empty=true) }}
"""

RETURN = r"""
_raw:
  description:
    - One string, the limit; a pattern for every selected host joined by commas (always with one comma so
      that ansible-core splits it on commas only).
    - For status C(all), the original C(--limit) of the run; never returned for a run without one (an error instead).
    - Empty only when O(allow_empty=true) and nothing is selected.
    - O(default) when it is set and no manifest exists yet.
  type: list
  elements: str
"""

import os

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase
from ansible.utils.display import Display

from ansible_collections.relaunch.status.plugins.plugin_utils._core.errors import RelaunchError
from ansible_collections.relaunch.status.plugins.plugin_utils._core.selection import (
    FailureGroupChoice,
    parse_group,
    parse_statuses,
)
from ansible_collections.relaunch.status.plugins.plugin_utils._selector import (
    ManifestMissing,
    SelectionRequest,
    find_inventory,
    limit_messages,
    renames,
    select_one,
)

display = Display()


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        variables = variables or {}
        default = self.get_option("default")
        if default is not None and not str(default).strip():
            raise AnsibleLookupError(
                "relaunch.status.limit: option default: empty, which --limit takes as every host; "
                "give a host pattern such as 'all', or leave it unset"
            )
        try:
            statuses = self._choice(terms)
            inventory = find_inventory(variables)
            playbook_dir = variables.get("playbook_dir")
            base_dirs = [os.getcwd()] + ([str(playbook_dir)] if playbook_dir else [])
            request = SelectionRequest(
                inventory=inventory,
                loader=self._loader,
                identity_vars=self.get_option("identity_vars"),
                manifest=self.get_option("manifest"),
                manifest_dir=self.get_option("manifest_dir"),
                base_dirs=base_dirs,
                playbook_dir=str(playbook_dir) if playbook_dir else None,
            )
            selection, paths = select_one(request, statuses, allow_empty=self.get_option("allow_empty"))
            if not selection.limited:
                raise RelaunchError(
                    f"status all: the run recorded in {', '.join(paths)} had no --limit, "
                    "which no host pattern can express ('all' skips plays on the implicit localhost); "
                    "relaunch without --limit, or keep the play's own hosts"
                )
        except ManifestMissing as exc:
            if default is None:
                raise AnsibleLookupError(f"relaunch.status.limit: {exc}") from None
            display.v(f"relaunch.status.limit: {exc}; returning the default, {default!r}")
            return [default]
        except RelaunchError as exc:
            raise AnsibleLookupError(f"relaunch.status.limit: {exc}") from None
        for line in limit_messages(selection):
            display.warning(f"relaunch.status.limit: {line}")
        renamed = renames(selection)
        if renamed:
            display.vv(f"relaunch.status.limit: {renamed}")
        return [selection.limit]

    def _choice(self, terms) -> list[str] | FailureGroupChoice:
        """The statuses of the terms, or the failure group of option group."""
        group = self.get_option("group")
        if group is None:
            return parse_statuses(list(terms or ["failed"]), option="terms")
        if terms:
            raise RelaunchError(
                f"option group: given with statuses ({', '.join(map(str, terms))}); a failure group's hosts are "
                "failed hosts: give either statuses or group"
            )
        return FailureGroupChoice(parse_group(group))
