# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: relaunch_info
short_description: What a relaunch on the hosts of a status would target, from status manifests
description:
  - Reads status manifests written by the P(relaunch.status.manifest#callback) callback, like the GET of
    AWX's relaunch endpoint; returns the counts of every status, the passwords the run prompted for, the
    hosts a relaunch on the given statuses targets under their current names, and the exact limit.
  - Runs on the controller whatever the host of the task; it reads the controller's files and inventory.
  - Fails with a descriptive message when the statuses select 0 hosts, unless O(allow_empty=true).
version_added: 1.0.0
author: relaunch.status contributors (@relaunch-status)
options:
  manifest:
    description:
      - The manifest(s) to read, each a manifest file (C(.relaunch/site/latest.json) or a run's
        C(<run id>.json)), a playbook's run directory (C(.relaunch/site)) or a manifest directory
        (C(.relaunch)). Several manifests are merged.
      - A relative path is looked up in the current directory, then beside the playbook.
      - When unset, the latest manifest of the playbook being run, in O(manifest_dir).
    type: raw
  manifest_dir:
    description:
      - Where to look for the latest manifest of the playbook being run when O(manifest) is unset.
      - When unset, the C(manifest_dir) setting shared with the callback (E(RELAUNCH_MANIFEST_DIR), or
        C(manifest_dir) in section C([relaunch_status]) of C(ansible.cfg)), else C(.relaunch) beside the playbook.
    type: path
  hosts:
    description:
      - The statuses to select, a status or a list (or comma-separated statuses); several select their union.
      - One of C(all), C(failed), C(unreachable), C(changed), C(ok), C(skipped), C(rescued), C(ignored), C(not_run),
        C(pending) (everything still to do in the rollout, that is C(failed), unreachable included, or C(not_run)).
      - C(all) selects the original C(--limit) of the run, and no limit when the run had none (see RV(limited)).
      - Not with O(group).
    type: raw
    default: failed
  group:
    description:
      - The id of one failure group (8 hex digits, such as C(3f9a2c1b); quote it in YAML) to select instead of
        statuses; the hosts the manifest records in that group of its C(failure_groups), found by identity as for a
        status.
      - The end-of-run summary, C(ansible-relaunch report) and the manifest's C(failure_groups) list the ids. The id
        of a failure is the same in every run (its rank is not).
      - An id the manifest does not know (a failure that no longer happens has no group) fails, never selects more;
        so does a group of 0 current hosts, unless O(allow_empty=true). O(hosts) cannot be given with it.
    type: str
    version_added: 2.0.0
  identity_vars:
    description:
      - Host variables that identify a machine across renames, tried in order.
      - When unset, the C(identity_vars) setting shared with the callback (E(RELAUNCH_IDENTITY_VARS), or
        C(identity_vars) in section C([relaunch_status]) of C(ansible.cfg)), else C([relaunch_id]).
    type: list
    elements: str
  allow_empty:
    description: Return an empty selection instead of failing when 0 hosts are selected.
    type: bool
    default: false
  allow_missing:
    description:
      - When no manifest exists yet, return RV(manifest_found=false) instead of failing.
      - A manifest that exists but cannot be read still fails.
    type: bool
    default: false
  in_play:
    description:
      - Also count what only a play can select, not a C(--limit); the implicit C(localhost), and hosts
        that add_host will create. For selecting inside a play, as the P(relaunch.status.select#role) role does.
    type: bool
    default: false
  history:
    description:
      - Also return RV(history), how each current host ended in the kept runs of the playbooks whose manifests
        are read (their C(<run id>.json); C(--check) runs left out).
    type: bool
    default: false
    version_added: 2.0.0
  flaky_runs:
    description:
      - With O(history=true), how many of the newest runs the flips of a host are counted in.
      - Ten daily runs are two working weeks.
    type: int
    default: 10
    version_added: 2.0.0
  flaky_flips:
    description:
      - With O(history=true), how many flips between failed and ok in the last O(flaky_runs) runs make a host
        flaky. Three (failed, ok, failed, ok) is no longer chance.
    type: int
    default: 3
    version_added: 2.0.0
  chronic_runs:
    description:
      - With O(history=true), in how many of its newest runs in a row a host must have failed to be chronic; runs
        that did not run it are passed over, and only the last O(flaky_runs) runs (O(chronic_runs) if more) are
        looked at. Three daily runs are three days of a host that needs a person.
    type: int
    default: 3
    version_added: 2.0.0
attributes:
  action:
    support: full
    description: Runs as an action plugin on the controller.
  check_mode:
    support: full
    description: Reads only; the same result in check mode.
  diff_mode:
    support: none
    description: Changes nothing, so there is nothing to diff.
  platform:
    support: full
    platforms: all
    description: The work is done on the controller.
notes:
  - A recorded host is selected under its current inventory name, found by its identity; a renamed host
    is selected under its new name and listed in RV(renamed).
  - A current host that has the recorded name but another identity is a different machine; it is not
    selected, it is listed in RV(unresolved), and a warning says why.
  - A host that add_host created during the run is re-created by the relaunch, so RV(hosts) holds the
    hosts that provisioned it, and RV(provisioned) names it.
seealso:
  - plugin: relaunch.status.limit
    plugin_type: lookup
  - plugin: relaunch.status.groups
    plugin_type: inventory
  - plugin: relaunch.status.manifest
    plugin_type: callback
"""

EXAMPLES = r"""
- name: Show what a relaunch on the failed hosts would do
  relaunch.status.relaunch_info:
    hosts: failed
  register: relaunch
  run_once: true

# --limit only when the relaunch is limited: for status all of a run without --limit, RV(limited) is false
# and the relaunch takes no --limit. An empty RV(limit) of a limited relaunch means nothing a --limit can
# select: never print "--limit ''", which ansible-core would take as every host.
- name: Print the command
  ansible.builtin.debug:
    msg: >-
      {{ 'nothing to relaunch' if relaunch.limited and not relaunch.limit else
         'ansible-playbook site.yml' ~ ((' --limit ' ~ (relaunch.limit | quote)) if relaunch.limited else '') ~
         (' -K' if 'become_password' in relaunch.passwords_needed_to_start else '') }}
  run_once: true

- name: What a relaunch of one failure group would target (the id from the summary or ansible-relaunch report)
  relaunch.status.relaunch_info:
    group: "3f9a2c1b"  # quoted: an id of digits only would be read as a number
  register: relaunch
  run_once: true

- name: Failed and unreachable hosts of two controllers' manifests, empty allowed
  relaunch.status.relaunch_info:
    manifest:
      - /srv/east/.relaunch/site
      - /srv/west/.relaunch/site
    hosts: [failed, not_run]
    allow_empty: true
  register: relaunch
  run_once: true

- name: Hosts that keep failing, and hosts that flip between failed and ok
  relaunch.status.relaunch_info:
    history: true
    allow_empty: true
  register: relaunch
  run_once: true

- name: Show them
  ansible.builtin.debug:
    msg: >-
      chronic: {{ relaunch.history | dict2items | selectattr('value.chronic') | map(attribute='key') | list }},
      flaky: {{ relaunch.history | dict2items | selectattr('value.flaky') | map(attribute='key') | list }}
  run_once: true
"""

RETURN = r"""
manifest_found:
  description: Whether a manifest was found; false only with O(allow_missing=true), and then nothing else is returned.
  returned: always
  type: bool
  sample: true
manifests:
  description: The manifest files read.
  returned: when a manifest was found
  type: list
  elements: str
  sample: [/home/user/project/.relaunch/site/latest.json]
retry_counts:
  description: How many hosts had each status in the run (summed over merged manifests).
  returned: when a manifest was found
  type: dict
  sample:
    {all: 30, failed: 18, unreachable: 2, changed: 10, ok: 12, skipped: 3, rescued: 0, ignored: 0, not_run: 0,
     pending: 18}
passwords_needed_to_start:
  description:
    - The passwords the run prompted for (C(ssh_password), C(become_password), C(vault_password),
      C(vault_password.<id>)).
  returned: when a manifest was found
  type: list
  elements: str
  sample: [become_password]
hosts:
  description:
    - The current inventory names of the selected hosts (renamed hosts under their new names, and the
      provisioners of provisioned hosts).
  returned: when a manifest was found
  type: list
  elements: str
  sample: [web1, web3]
provisioned:
  description: Hosts that add_host created during the run and that the relaunch will create again.
  returned: when a manifest was found
  type: list
  elements: str
  sample: [vm-17]
targets:
  description:
    - Every name a play selecting in-play should keep; RV(hosts), RV(provisioned), and the implicit
      C(localhost) when it provisioned hosts.
  returned: when a manifest was found
  type: list
  elements: str
  sample: [localhost, vm-17, web1]
limit:
  description:
    - The exact limit for C(--limit) or a play's C(hosts:); for status C(all), the original C(--limit) of the run.
    - Empty when nothing is selected (O(allow_empty=true)), when only a play can select the hosts, or for status
      C(all) of a run without C(--limit) (then RV(limited) is false). Never pass an empty limit to C(--limit);
      ansible-core takes C(--limit '') as every host.
  returned: when a manifest was found
  type: str
  sample: "web1,web3"
limited:
  description:
    - Whether the relaunch takes a C(--limit). False only for status C(all) of a run that had no C(--limit);
      relaunch without one then (C(--limit all) would skip plays on the implicit C(localhost)).
    - True with an empty RV(limit) means there is nothing a C(--limit) can select.
  returned: when a manifest was found
  type: bool
  sample: true
original_limit:
  description:
    - The C(--limit) of the run exactly as given; empty when it had none; null when merged manifests' limits
      cannot be combined.
  returned: when a manifest was found
  type: str
  sample: "webservers"
unresolved:
  description: Recorded hosts of the statuses that are not selected, with why.
  returned: when a manifest was found
  type: list
  elements: dict
  sample: [{name: old-db, identity: "4c4c-db", reason: "no current host has identity '4c4c-db'"}]
renamed:
  description: Recorded name to current name, for selected hosts renamed since the run.
  returned: when a manifest was found
  type: dict
  sample: {foobar: foo}
statuses:
  description: The statuses selected; empty when O(group) is given.
  returned: when a manifest was found
  type: list
  elements: str
  sample: [failed]
group:
  description: The id of the failure group selected (O(group)); null when statuses are selected.
  returned: when a manifest was found
  type: str
  version_added: 2.0.0
  sample: "3f9a2c1b"
history:
  description:
    - For each current host of the kept runs, under its current name (found by identity, so renamed hosts keep their
      history), how it ended in each run, oldest first.
    - C(outcomes) holds one of C(failed), C(unreachable), C(ok) (ran and did not fail), C(not_run) (targeted but did
      not run) or C(absent) (not in that run) per run; C(last_success) the C(run_id) and C(finished) time of the
      newest run it ran without failing (null when none); C(failures_in_a_row) the failures counted back from its
      newest run that ran it; C(flips) how often it went from failed to ok or back in the last O(flaky_runs) runs.
    - C(flaky) is C(flips) at least O(flaky_flips); C(chronic) is at least O(chronic_runs) failures in a row in the
      last O(flaky_runs) runs (O(chronic_runs) if more). Runs that did not run a host neither flip nor end its streak.
  returned: with O(history=true), when a manifest was found
  type: dict
  version_added: 2.0.0
  sample:
    web2:
      outcomes: [failed, ok, failed, not_run, ok, failed]
      last_success: {run_id: 20261127T101500123456Z-4242-9f3a, finished: "2026-11-27T10:16:02+00:00"}
      failures_in_a_row: 1
      flips: 4
      flaky: true
      chronic: false
"""


# The options as code, shared with the action plugin that does the work on the controller
# (plugins/action/relaunch_info.py validates the task's arguments against it). ansible-test's
# validate-modules compares it with DOCUMENTATION through main(); so does tests/unit/test_module_spec.py.
ARGUMENT_SPEC: dict = {
    "manifest": {"type": "raw"},
    "manifest_dir": {"type": "path"},
    "hosts": {"type": "raw", "default": "failed"},
    "group": {"type": "str"},
    "identity_vars": {"type": "list", "elements": "str"},
    "allow_empty": {"type": "bool", "default": False},
    "allow_missing": {"type": "bool", "default": False},
    "in_play": {"type": "bool", "default": False},
    "history": {"type": "bool", "default": False},
    "flaky_runs": {"type": "int", "default": 10},
    "flaky_flips": {"type": "int", "default": 3},
    "chronic_runs": {"type": "int", "default": 3},
}


def main() -> None:
    """Only reached when the module is run without its action plugin: the work needs the controller's files."""
    from ansible.module_utils.basic import AnsibleModule

    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module.fail_json(
        msg="relaunch.status.relaunch_info runs on the controller through its action plugin; "
        "call it as a task of ansible-playbook, not as a module on a host"
    )


if __name__ == "__main__":
    main()
