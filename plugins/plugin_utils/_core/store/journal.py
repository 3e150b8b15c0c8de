# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The journal of a run in progress: its events, one JSON line each, appended as they happen.

A run holds an exclusive lock on its journal while it runs, so a journal whose
lock can be taken belongs to a run that died (:func:`dead_journals`).
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
from collections.abc import Iterator

from ..recorder import Recorder
from .files import DirectoryLock, remove_file
from .layout import JOURNAL, OPEN_NEW, run_id_of, temporary_name

_EVENT_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


class Journal:
    """The append-only journal of a run: one JSON event a line, locked while the run lives."""

    _open: set[Journal] = set()

    @classmethod
    def _forget_in_child(cls) -> None:
        # A forked worker must not keep the journal's lock alive once the run itself is dead.
        for journal in list(cls._open):
            if journal._fd is not None:
                os.close(journal._fd)
                journal._fd = None
        cls._open.clear()

    def __init__(self, directory: str, run_id: str) -> None:
        self.path = os.path.join(directory, run_id + JOURNAL)
        # Locked before it gets its name: recover() of a concurrent run must never see it unlocked.
        tmp = os.path.join(directory, temporary_name(run_id + JOURNAL))
        with DirectoryLock(directory):
            self._fd: int | None = os.open(tmp, OPEN_NEW | os.O_APPEND, 0o600)
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                os.rename(tmp, self.path)
            except BaseException:
                os.close(self._fd)
                remove_file(tmp)
                raise
        Journal._open.add(self)

    def append(self, event: dict) -> None:
        # One write per event: a crash loses at most the event being written.
        if self._fd is not None:
            os.write(self._fd, _EVENT_JSON(event).encode("utf-8") + b"\n")

    def close(self, remove: bool) -> None:
        if remove:
            # Also when it was closed early (it could not be written): the manifest replaces it.
            try:
                os.unlink(self.path)
            except OSError:
                pass
        if self._fd is None:
            return
        os.close(self._fd)
        self._fd = None
        Journal._open.discard(self)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=Journal._forget_in_child)


def replay(path: str) -> Recorder:
    """A recorder fed with every complete event of a journal (a torn last line is skipped).

    A journal that reached its playbook's stats belongs to a run that died while
    writing its manifest: its last batch had finished, so its hosts are not not_run.
    """
    recorder = Recorder()
    ended = False
    with open(path, "rb") as handle:
        for line in handle:
            if not line.endswith(b"\n"):
                break
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if isinstance(event, dict):
                try:
                    recorder.apply(event)
                except (KeyError, TypeError, ValueError, AttributeError):
                    continue
                ended = ended or event.get("e") == "stats"
    if ended:
        recorder.apply({"e": "play", "name": "", "batch": []})  # closes the finished batch
    return recorder


def dead_journals(directory: str) -> Iterator[tuple[str, str, int]]:
    """(run id, path, an open descriptor holding its lock) of each journal whose run died, oldest first.

    The caller closes the descriptor (which releases the lock); a journal whose
    run is alive holds its lock and is passed over.
    """
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return
    for name in names:
        run_id = run_id_of(name, JOURNAL)
        if run_id is None:
            continue
        path = os.path.join(directory, name)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                continue  # its run is alive
            raise
        if os.fstat(fd).st_nlink == 0:
            os.close(fd)
            continue  # recovered meanwhile by another run
        yield run_id, path, fd
