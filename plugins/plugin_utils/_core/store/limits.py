# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The limit files of a manifest: one per status, and one per failure group of the largest, for
``ansible-playbook --limit @<file>``.

Their host patterns come from the selection engine, through the ``limit_texts`` callable
the store is given (``selection.limit_file_texts``, or one that calls it): the store
imports nothing of the engine and only writes files.
"""

from __future__ import annotations

from collections.abc import Callable

from ..recorder import STATUSES, Manifest, manifest_parts
from .layout import FAILURE_LIMIT_PREFIX

# A manifest -> the limit file text of each status a limit can select, and of failure groups under
# "failure-<id>" (see selection.limit_file_texts).
LimitTexts = Callable[[dict | Manifest], dict[str, str]]


def empty_limit_text(status: str, run_id: str) -> str:
    """A limit file that selects no host and says why, for a status with 0 hosts.

    An empty limit file would select every host; this regex never matches, and
    ansible-playbook shows it in its warning before it stops with "no hosts to target".
    """
    return f"~(?#relaunch.status found 0 {status} hosts in run {run_id} so there is nothing to relaunch)(?!)\n"


def limit_files(manifest: dict | Manifest, limit_texts: LimitTexts) -> dict[str, str]:
    """The limit file text of each status of a manifest (:func:`empty_limit_text` for a status with 0 hosts), and
    of the failure groups ``limit_texts`` gives, under ``failure-<id>``: the name of each file without ``.limit``.

    A status whose hosts no limit can select (hosts created by add_host from the
    implicit localhost) has none; nor has "all", which relaunches with the original
    --limit recorded in the manifest. A failure group has a file only while it has hosts.
    """
    head = manifest_parts(manifest)[0]
    texts = limit_texts(manifest)
    files = {}
    for status in STATUSES:
        if status == "all":
            continue
        if not head["retry_counts"].get(status):
            files[status] = empty_limit_text(status, head["run_id"])
        elif status in texts:
            files[status] = texts[status]
    files.update((name, text) for name, text in texts.items() if name.startswith(FAILURE_LIMIT_PREFIX))
    return files
