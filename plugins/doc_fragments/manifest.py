# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options every relaunch.status plugin shares: where manifests are and what identifies a host."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  manifest_dir:
    description:
      - Directory that holds the status manifests, one subdirectory per playbook stem
        (C(<manifest_dir>/<playbook stem>/latest.json)).
      - When unset, C(.relaunch) beside the playbook.
    type: path
    env:
      - name: RELAUNCH_MANIFEST_DIR
    ini:
      - section: relaunch_status
        key: manifest_dir
  identity_vars:
    description:
      - Host variables that identify a machine across renames, tried in order; the first one
        set for a host is its identity.
      - Resolved from inventory variables, C(group_vars/) and C(host_vars/), as a play sees them.
      - A host with none of them set is identified by its name only.
    type: list
    elements: str
    default: [relaunch_id]
    env:
      - name: RELAUNCH_IDENTITY_VARS
    ini:
      - section: relaunch_status
        key: identity_vars
"""
