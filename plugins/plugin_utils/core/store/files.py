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
import secrets
import stat
from collections.abc import Iterable, Iterator

from ..errors import RelaunchError
from .layout import LOCK, OPEN_NEW


def write_atomic(directory: str, name: str, data: bytes | Iterable[bytes]) -> None:
    """Write ``directory/name`` so that readers see the old file or the new one, never a mix.

    ``data`` is the content, or its pieces in order.
    """
    tmp = os.path.join(directory, f".{name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, OPEN_NEW, 0o600)
    try:
        try:
            for piece in (data,) if isinstance(data, bytes) else data:
                view = memoryview(piece)
                while view:
                    view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.rename(tmp, os.path.join(directory, name))
    except BaseException:
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
