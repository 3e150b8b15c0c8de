# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The limit files of a manifest: one per status, for ``ansible-playbook --limit @<file>``."""

from __future__ import annotations

from ..errors import RelaunchError
from ..recorder import STATUSES, Snapshot, manifest_parts
from ..selection import CurrentHost, HostIndex, Selector, limit_file_text


def empty_limit_text(status: str, run_id: str) -> str:
    """A limit file that selects no host and says why, for a status with 0 hosts.

    An empty limit file would select every host; this regex never matches, and
    ansible-playbook shows it in its warning before it stops with "no hosts to target".
    """
    return f"~(?#relaunch.status found 0 {status} hosts in run {run_id} so there is nothing to relaunch)(?!)\n"


def limit_files(
    manifest: dict | Snapshot, group_names: list[str] | tuple = (), inventory_names: set[str] | None = None
) -> dict[str, str]:
    """The limit file text of each status of a manifest (:func:`empty_limit_text` for a status with 0 hosts).

    A status whose hosts no limit can select (hosts created by add_host from the
    implicit localhost) has none.

    The run's own host names are the inventory here: the files are written at
    the end of the run, when every recorded name is current. ``inventory_names``,
    the hosts the inventory had before the run, leaves out the implicit
    localhost, which a limit file cannot select on its own.
    """
    selector = Selector([("", manifest)], (), group_names)
    # The run's own hosts are the inventory, taken from what the selector kept of them:
    # the manifest's host entries are never all in memory at once.
    selector.index = HostIndex(
        CurrentHost(name, identity)
        for name, (identity, _statuses, provisioned_by) in selector.recorded.hosts.items()
        if provisioned_by is None and (inventory_names is None or name in inventory_names)
    )
    files = {}
    run_id = manifest_parts(manifest)[0]["run_id"]
    for status in STATUSES:
        if status == "all":
            continue  # "all" relaunches with the original --limit, recorded in the manifest
        if not selector.recorded.counts.get(status):
            files[status] = empty_limit_text(status, run_id)
            continue
        try:
            selection = selector.select([status])
        except RelaunchError:
            continue
        files[status] = limit_file_text(selection.patterns)
    return files
