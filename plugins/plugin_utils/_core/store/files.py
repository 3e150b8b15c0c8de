# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""File primitives of the store: atomic writes, the directory lock, and the checks around them.

Every file is written to a temporary name, flushed to disk and renamed into
place, so no reader ever sees half a file. Writers that publish or prune hold
the run directory's lock (``<run dir>/.lock``).
"""

from __future__ import annotations

import fcntl
import os
import stat
from collections.abc import Iterable, Iterator, Mapping

from ..errors import RelaunchError
from .layout import LOCK, OPEN_NEW, temporary_name


def write_atomic(directory: str, files: Mapping[str, bytes | Iterable[bytes]]) -> None:
    """Write each ``directory/<name>`` of ``files`` so that readers see the old file or the new one, never a mix.

    A file's data is its content, or its pieces in order. Every file is written to a
    temporary name and flushed to disk before the first is renamed into place, in the
    order given, and the directory is flushed once at the end: the disk is waited for
    once for the lot, not twice for each file (see docs/performance.md).
    """
    pending: list[tuple[str, str]] = []  # (temporary path, name) not yet renamed
    try:
        descriptors: list[int] = []
        try:
            for name, data in files.items():
                tmp = os.path.join(directory, temporary_name(name))
                descriptors.append(os.open(tmp, OPEN_NEW, 0o600))
                pending.append((tmp, name))
                for piece in (data,) if isinstance(data, bytes) else data:
                    view = memoryview(piece)
                    while view:
                        view = view[os.write(descriptors[-1], view) :]
            for fd in descriptors:
                os.fsync(fd)
        finally:
            for fd in descriptors:
                os.close(fd)
        while pending:
            tmp, name = pending[0]
            os.rename(tmp, os.path.join(directory, name))
            pending.pop(0)
    except BaseException:
        for tmp, _name in pending:
            try:
                os.unlink(tmp)
            except OSError:
                pass
        raise
    _fsync_directory(directory)


def read_chunks(path: str, size: int = 1 << 20) -> Iterator[bytes]:
    with open(path, "rb") as handle:
        while True:
            chunk = handle.read(size)
            if not chunk:
                return
            yield chunk


def _fsync_directory(directory: str) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class DirectoryLock:
    """An exclusive flock on ``<run dir>/.lock`` for publishing and pruning."""

    def __init__(self, directory: str) -> None:
        self._path = os.path.join(directory, LOCK)

    def __enter__(self) -> DirectoryLock:
        self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: object) -> None:
        os.close(self._fd)


def refuse_foreign(directory: str, name: str) -> None:
    """Refuse to replace a symlink or a non-file planted where latest.json or a limit file goes."""
    path = os.path.join(directory, name)
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISREG(mode):
        raise RelaunchError(f"{path} is a symlink or not a regular file, which is never replaced; remove it")


def remove_file(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
