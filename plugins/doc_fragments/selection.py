# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options and notes shared by the plugins that select hosts from manifests."""

from __future__ import annotations


class ModuleDocFragment:
    # For plugins (lookup, inventory); a module documents its own copy, without env and ini.
    DOCUMENTATION = r"""
options:
  manifest:
    description:
      - The manifest(s) to select from, each a manifest file (C(.relaunch/site/latest.json) or a run's
        C(<run id>.json)), a playbook's run directory (C(.relaunch/site)) or a manifest directory
        (C(.relaunch)).
      - Several manifests, for example one per controller or per slice of a split run, are merged; so are
        their C(retry_counts) and C(passwords_needed_to_start).
      - A relative path is looked up in the current directory, then beside the playbook.
      - When unset, the latest manifest of the playbook being run, in O(manifest_dir) or C(.relaunch)
        beside the playbook.
    type: raw
  allow_empty:
    description:
      - By default a selection of 0 hosts is an error that names the statuses, the manifest and the counts,
        because an empty limit would mean every host to ansible-core.
      - When true, a selection of 0 hosts gives an empty result instead; check for it yourself.
    type: bool
    default: false
notes:
  - A recorded host is selected under its current inventory name, found by its identity (O(identity_vars));
    a renamed host is selected under its new name.
  - A current host that has the recorded name but another identity is a different machine; it is not
    selected, and a warning says why. Recorded hosts that cannot be found are listed in a warning.
  - A host that add_host created during the run is re-created by the relaunch, so the selection holds the
    hosts that provisioned it. The implicit C(localhost) cannot be selected by a limit on its own; when it is
    the only provisioner, use the P(relaunch.status.select#role) role, which selects inside the play.
  - Status C(all) relaunches limited exactly as the run was, and not limited when the run had no C(--limit).
    The run's C(--limit) is recorded as what it selected (a C(@file) part as the patterns the file then held).
    No limit is not C(--limit all), which skips plays on the implicit C(localhost).
"""
