# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The manifest store: where manifests live, how they are written, read and recovered.

Layout of a manifest directory::

    <dir>/<playbook stem>/<run id>.json      one manifest per run (the newest N are kept)
    <dir>/<playbook stem>/<run id>.journal   the append-only journal of a run in progress
    <dir>/<playbook stem>/<run id>.failed.limit  the failed hosts of that run, for the command its summary prints
    <dir>/<playbook stem>/latest.json        a copy of the newest finished or interrupted run in which a host ran a task
    <dir>/<playbook stem>/<status>.limit     limit files of latest.json, one per status
    <dir>/<playbook stem>/.playbook          the playbook that owns the directory
    <dir>/<playbook stem>/.lock              serialises publishing among concurrent runs

A run holds an exclusive lock on its journal while it runs, so a journal whose
lock can be taken belongs to a run that died; the next run turns it into an
interrupted manifest (:func:`recover`), and readers replay it in memory
without writing anything (:func:`locate`, :func:`load`). Every file is written
to a temporary name, flushed to disk and renamed into place, so no reader ever
sees half a file.

A run in which no host ran a task (other than the relaunch selection itself,
see the recorder's ``tasks_ran``) keeps its ``<run id>.json`` but never
replaces latest.json or the limit files: a relaunch that was refused or that
failed before any host ran leaves what the last useful run recorded.
"""

from __future__ import annotations

import datetime
import errno
import fcntl
import hashlib
import itertools
import json
import math
import os
import re
import secrets
import stat
from collections.abc import Iterable, Iterator

from .errors import RelaunchError, brief
from .recorder import COUNTERS, MESSAGE_MAX, STATUSES, Recorder, Snapshot, gc_paused
from .selection import CurrentHost, HostIndex, Selector, limit_file_text

SCHEMA_VERSION = 1
LATEST = "latest.json"
JOURNAL = ".journal"
LIMIT = ".limit"
LOCK = ".lock"
OWNER = ".playbook"
FAILED_LIMIT = ".failed" + LIMIT  # <run id>.failed.limit: the failed hosts of one run
RUN_ID = re.compile(r"^\d{8}T\d{12}Z-\d+-[0-9a-f]{4}$")
_RUN_ID_HEAD = re.compile(rb'"run_id":\s*"([^"]+)"')
_PLAYBOOK_HEAD = re.compile(rb'"playbook":\s*("(?:[^"\\]|\\.)*")')
# One encoder for every host line: json.dumps() with options builds a new one per call.
_HOST_JSON = json.JSONEncoder(ensure_ascii=False, check_circular=False).encode
_JSON_STRING = json.encoder.encode_basestring  # one str, as _HOST_JSON writes it (ensure_ascii=False)
_EVENT_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_OPEN_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


def utc_now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def new_run_id() -> str:
    """A run id that sorts by start time and is unique among concurrent runs."""
    now = datetime.datetime.now(datetime.timezone.utc)
    return f"{now:%Y%m%dT%H%M%S%f}Z-{os.getpid()}-{secrets.token_hex(2)}"


def playbook_stem(playbook: str) -> str:
    return os.path.splitext(os.path.basename(playbook))[0] or "playbook"


def manifest_root(configured: str | None, playbook: str) -> str:
    """The manifest directory: the configured one, or ``.relaunch`` beside the playbook."""
    if configured:
        return os.path.abspath(os.path.expanduser(str(configured)))
    return os.path.join(os.path.dirname(os.path.abspath(playbook)), ".relaunch")


def _beside(root: str, playbook: str) -> bool:
    """Whether a manifest directory is the default kind, beside the playbook (so it moves with its checkout)."""
    return os.path.dirname(os.path.abspath(root)) == os.path.dirname(os.path.abspath(playbook))


def same_playbook(root: str, recorded: str, playbook: str) -> bool:
    """Whether a manifest recorded for the playbook ``recorded`` belongs to ``playbook``.

    The same path; or, in the ``.relaunch`` beside the playbook, the same file
    name at a path that no longer exists: the project checkout was moved.
    """
    playbook = os.path.abspath(playbook)
    recorded = os.path.normpath(recorded)
    if recorded == playbook:
        return True
    return _beside(root, playbook) and os.path.basename(recorded) == os.path.basename(playbook) and not os.path.exists(recorded)


def _owner(directory: str) -> str | None:
    """The playbook that owns a run directory (its .playbook file), None when it names none."""
    try:
        fd = os.open(os.path.join(directory, OWNER), os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        text = os.read(fd, 65536).decode("utf-8", "replace").strip()
    finally:
        os.close(fd)
    return text or None


def run_directory(root: str, playbook: str) -> str:
    """The run directory of a playbook in a manifest directory; the one place that computes it.

    ``<root>/<playbook stem>``, unless ``root`` is a shared manifest directory in
    which another playbook of the same stem owns it (appA/site.yml and
    appB/site.yml sharing a manifest_dir): then
    ``<root>/<stem>-<8 hex digits of the playbook's path>``.
    """
    playbook = os.path.abspath(playbook)
    stem = playbook_stem(playbook)
    plain = os.path.join(root, stem)
    if _beside(root, playbook):
        return plain  # only the playbooks beside it use it: a moved checkout keeps its manifests
    owner = _owner(plain)
    if owner is None or os.path.normpath(owner) == playbook:
        return plain
    return os.path.join(root, f"{stem}-{hashlib.sha256(playbook.encode('utf-8', 'surrogateescape')).hexdigest()[:8]}")


def claim_run_directory(root: str, playbook: str) -> str:
    """Create the run directory of a playbook (0700) and make the playbook its owner if it has none; returns it."""
    playbook = os.path.abspath(playbook)
    for _attempt in range(2):
        directory = run_directory(root, playbook)
        ensure_run_directory(directory)
        if _owner(directory) is None:
            try:
                fd = os.open(os.path.join(directory, OWNER), _OPEN_NEW, 0o600)
            except FileExistsError:
                continue  # another playbook claimed it meanwhile: look again
            try:
                os.write(fd, playbook.encode("utf-8", "surrogateescape") + b"\n")
            finally:
                os.close(fd)
        if directory == run_directory(root, playbook):
            return directory
    return run_directory(root, playbook)


def ensure_run_directory(path: str) -> None:
    """Create a run directory (0700); refuse a symlink or a file in its place."""
    missing = []
    head = path
    while head and not os.path.isdir(head):
        missing.append(head)
        head = os.path.dirname(head)
    try:
        # Not os.makedirs(): it creates the parents with the umask's mode, not 0700.
        for directory in reversed(missing):
            try:
                os.mkdir(directory, 0o700)
            except FileExistsError:
                if not os.path.isdir(directory):  # not a concurrent run's mkdir
                    raise
    except FileExistsError:
        raise RelaunchError(f"manifest directory {path} exists but is not a directory; remove it or set RELAUNCH_MANIFEST_DIR") from None
    except OSError as exc:
        raise RelaunchError(f"cannot create manifest directory {path}: {exc.strerror}; set RELAUNCH_MANIFEST_DIR to a writable directory") from None
    if os.path.islink(path) or not os.path.isdir(path):
        raise RelaunchError(f"manifest directory {path} is a symlink or not a directory; remove it or set RELAUNCH_MANIFEST_DIR")


def encode(manifest: dict | Snapshot) -> bytes:
    """A manifest as the bytes of its file."""
    return b"".join(encode_chunks(manifest))


def encode_chunks(manifest: dict | Snapshot, hosts_per_chunk: int = 2000) -> Iterator[bytes]:
    """A manifest's file in pieces, so a large one is never held whole in memory.

    JSON with one host a line: fast to write (C encoder) and readable in a diff.
    """
    if isinstance(manifest, Snapshot):
        head, lines = manifest.head, _snapshot_lines(manifest)
    else:
        head, hosts = _parts(manifest)
        lines = map(_HOST_JSON, hosts)
    head_text = json.dumps(head, ensure_ascii=False)[:-1]
    chunk = list(itertools.islice(lines, hosts_per_chunk))
    if not chunk:
        yield (head_text + ', "hosts": []}\n').encode("utf-8")
        return
    opening = head_text + ', "hosts": [\n'
    while chunk:
        yield (opening + ",\n".join(chunk)).encode("utf-8")
        opening = ",\n"
        chunk = list(itertools.islice(lines, hosts_per_chunk))
    yield b"\n]}\n"


def _snapshot_lines(snapshot: Snapshot) -> Iterator[str]:
    """The host lines of a Snapshot, the same text as ``_HOST_JSON`` of each entry, without building
    the entries: status lists and counters repeat from host to host, so each is encoded once
    (a third of the time to write a 100,000-host manifest, docs/performance.md)."""
    statuses_json: dict[tuple, str] = {}
    counters_json: dict[tuple, str] = {}
    for name, statuses, record, failed in snapshot.rows():
        key = tuple(statuses)
        statuses_text = statuses_json.get(key)
        if statuses_text is None:
            statuses_text = statuses_json[key] = _HOST_JSON(statuses)
        key = tuple(record.counters)
        counters_text = counters_json.get(key)
        if counters_text is None:
            counters_text = counters_json[key] = _HOST_JSON(dict(zip(COUNTERS, key)))
        provisioned_by = record.provisioned_by
        yield (
            f'{{"name": {_json_value(name)}, "identity": {_json_value(record.identity)}, "identity_var": {_json_value(record.identity_var)}, '
            f'"statuses": {statuses_text}, "counters": {counters_text}, "provisioned": {"false" if provisioned_by is None else "true"}, '
            f'"provisioned_by": {_HOST_JSON(sorted(provisioned_by)) if provisioned_by else "[]"}, '
            f'"first_failure": {_HOST_JSON(record.first_failure) if failed else "null"}}}'
        )


def _json_value(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return _JSON_STRING(value)
    return _HOST_JSON(value)


def _parts(manifest: dict | Snapshot) -> tuple[dict, Iterable[dict]]:
    """A manifest's keys but "hosts", and its host entries."""
    if isinstance(manifest, Snapshot):
        return manifest.head, manifest.hosts()
    return {key: value for key, value in manifest.items() if key != "hosts"}, manifest["hosts"]


def write_atomic(directory: str, name: str, data: bytes | Iterable[bytes]) -> None:
    """Write ``directory/name`` so that readers see the old file or the new one, never a mix.

    ``data`` is the content, or its pieces in order.
    """
    tmp = os.path.join(directory, f".{name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, _OPEN_NEW, 0o600)
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


def _read_chunks(path: str, size: int = 1 << 20) -> Iterator[bytes]:
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


class _DirectoryLock:
    """An exclusive flock on ``<run dir>/.lock`` for publishing and pruning."""

    def __init__(self, directory: str) -> None:
        self._path = os.path.join(directory, LOCK)

    def __enter__(self) -> _DirectoryLock:
        self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: object) -> None:
        os.close(self._fd)


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
        tmp = os.path.join(directory, f".{run_id}{JOURNAL}.tmp")
        with _DirectoryLock(directory):
            self._fd: int | None = os.open(tmp, _OPEN_NEW | os.O_APPEND, 0o600)
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                os.rename(tmp, self.path)
            except BaseException:
                os.close(self._fd)
                _remove(tmp)
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


def empty_limit_text(status: str, run_id: str) -> str:
    """A limit file that selects no host and says why, for a status with 0 hosts.

    An empty limit file would select every host; this regex never matches, and
    ansible-playbook shows it in its warning before it stops with "no hosts to target".
    """
    return f"~(?#relaunch.status found 0 {status} hosts in run {run_id} so there is nothing to relaunch)(?!)\n"


def limit_files(manifest: dict | Snapshot, group_names: list[str] | tuple = (), inventory_names: set[str] | None = None) -> dict[str, str]:
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
        for name, (identity, _statuses, provisioned_by) in selector.recorded.items()
        if provisioned_by is None and (inventory_names is None or name in inventory_names)
    )
    files = {}
    run_id = _parts(manifest)[0]["run_id"]
    for status in STATUSES:
        if status == "all":
            continue  # "all" relaunches with the original --limit, recorded in the manifest
        if not selector.counts.get(status):
            files[status] = empty_limit_text(status, run_id)
            continue
        try:
            selection = selector.select([status])
        except RelaunchError:
            continue
        files[status] = limit_file_text(selection.patterns)
    return files


def _latest_run_id(directory: str) -> str | None:
    try:
        fd = os.open(os.path.join(directory, LATEST), os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        match = _RUN_ID_HEAD.search(os.read(fd, 512))
    finally:
        os.close(fd)
    return match.group(1).decode("utf-8", "replace") if match else None


def promoted(manifest: dict | Snapshot) -> bool:
    """Whether a run may become latest.json: a host ran a task other than the relaunch selection.

    Manifests written before ``tasks_ran`` existed always could.
    """
    return _parts(manifest)[0].get("tasks_ran", True) is not False


def run_limit_file(directory: str, run_id: str) -> str:
    """The path of ``<run id>.failed.limit``: the failed hosts of that run alone."""
    return os.path.join(directory, run_id + FAILED_LIMIT)


def publish(directory: str, manifest: dict | Snapshot, keep: int | None, group_names: list[str] | tuple = (), inventory_names: set[str] | None = None) -> str:
    """Write a run's manifest (and its failed hosts' limit file); make it latest.json (with limit
    files) if it is the newest run in which a host ran a task; prune to ``keep`` runs (None: never).

    Returns the path of the run's manifest.
    """
    with gc_paused():
        return _publish(directory, manifest, keep, group_names, inventory_names)


def _publish(directory: str, manifest: dict | Snapshot, keep: int | None, group_names: list[str] | tuple, inventory_names: set[str] | None) -> str:
    run_id = _parts(manifest)[0]["run_id"]
    path = os.path.join(directory, run_id + ".json")
    useful = promoted(manifest)
    files = limit_files(manifest, group_names, inventory_names) if useful else {}
    with _DirectoryLock(directory):
        write_atomic(directory, run_id + ".json", encode_chunks(manifest))
        if _parts(manifest)[0]["retry_counts"].get("failed") and "failed" in files:
            write_atomic(directory, run_id + FAILED_LIMIT, files["failed"].encode("utf-8"))
        latest = _latest_run_id(directory)
        if useful and (latest is None or not RUN_ID.match(latest) or latest <= run_id):
            for name in (LATEST, *(status + LIMIT for status in STATUSES)):
                _refuse_foreign(directory, name)
            for status in STATUSES:
                name = status + LIMIT
                if status in files:
                    write_atomic(directory, name, files[status].encode("utf-8"))
                else:
                    _remove(os.path.join(directory, name))
            write_atomic(directory, LATEST, _read_chunks(path))  # a copy of the file just written
            latest = run_id
        if keep is not None:
            prune(directory, keep, latest)
    return path


def _refuse_foreign(directory: str, name: str) -> None:
    """Refuse to replace a symlink or a non-file planted where latest.json or a limit file goes."""
    path = os.path.join(directory, name)
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISREG(mode):
        raise RelaunchError(f"{path} is a symlink or not a regular file, which is never replaced; remove it")


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def prune(directory: str, keep: int, newest: str) -> None:
    """Keep the ``keep`` newest run manifests; never remove the newest one.

    Also removes the temporary files of writers that died: every temporary file is
    created and renamed under the directory lock, which the caller holds.
    """
    names = os.listdir(directory)
    for name in names:
        if name.startswith(".") and name.endswith(".tmp"):
            _remove(os.path.join(directory, name))
    runs = sorted(name[:-5] for name in names if name.endswith(".json") and RUN_ID.match(name[:-5]))
    kept = set(runs)
    for name in names:
        if name.endswith(FAILED_LIMIT) and RUN_ID.match(name[: -len(FAILED_LIMIT)]) and name[: -len(FAILED_LIMIT)] not in kept:
            _remove(os.path.join(directory, name))  # its run's manifest is gone
    for run_id in runs[: max(len(runs) - max(keep, 1), 0)]:
        if run_id != newest:
            _remove(os.path.join(directory, run_id + ".json"))
            _remove(os.path.join(directory, run_id + FAILED_LIMIT))


def _dead_journals(directory: str) -> Iterator[tuple[str, str, int]]:
    """(run id, path, an open descriptor holding its lock) of each journal whose run died, oldest first.

    The caller closes the descriptor (which releases the lock); a journal whose
    run is alive holds its lock and is passed over.
    """
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return
    for name in names:
        if not name.endswith(JOURNAL) or not RUN_ID.match(name[: -len(JOURNAL)]):
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
        yield name[: -len(JOURNAL)], path, fd


def _recovered_manifest(directory: str, run_id: str, journal: str) -> dict | Snapshot | None:
    """The interrupted manifest of a dead run: the one it had written, or its journal replayed."""
    manifest: dict | Snapshot | None = _written_manifest(directory, run_id)
    if manifest is None:
        recorder = replay(journal)
        if recorder.meta.get("run_id") == run_id:
            manifest = recorder.snapshot(complete=False, finished=None)
    return manifest


def recover(directory: str, keep: int) -> list[str]:
    """Turn the journals of runs that died into interrupted manifests; returns their paths.

    Only a run recovers (with its own ``keep``): readers replay a dead journal
    in memory instead (:func:`locate`, :func:`load`) and never write or prune.
    """
    recovered = []
    for run_id, path, fd in _dead_journals(directory):
        try:
            manifest = _recovered_manifest(directory, run_id, path)
            if manifest is not None:
                try:
                    recovered.append(publish(directory, manifest, keep))
                except OSError:
                    continue  # a run that cannot write leaves the journal to one that can
            _remove(path)
        finally:
            os.close(fd)
    return recovered


def _written_manifest(directory: str, run_id: str) -> dict | None:
    """The manifest a dead run had already written before it died while publishing, if any."""
    path = os.path.join(directory, run_id + ".json")
    try:
        manifest = load(path)
    except RelaunchError:
        return None
    return manifest if manifest.get("run_id") == run_id else None


# --- reading -------------------------------------------------------------------------------


def latest_manifest(directory: str) -> str | None:
    """The file that holds a run directory's latest manifest, None when there is none.

    latest.json, unless a run that died since would replace it once recovered:
    then that run's journal, which :func:`load` replays in memory. Nothing is
    written, so a reader never removes or prunes anything.
    """
    latest = os.path.join(directory, LATEST)
    latest_id = _latest_run_id(directory)
    found = None
    for run_id, path, fd in _dead_journals(directory):
        try:
            if latest_id is not None and RUN_ID.match(latest_id) and run_id <= latest_id:
                continue
            manifest = _recovered_manifest(directory, run_id, path)
            if manifest is not None and promoted(manifest):
                found = path  # the newest such journal wins
        finally:
            os.close(fd)
    if found is not None:
        return found
    return latest if os.path.isfile(latest) else None


def locate(location: str, playbook: str | None = None) -> str:
    """The manifest file a user named: a file, a run directory, or a manifest directory.

    A manifest directory holding several playbooks needs ``playbook`` to choose.
    """
    if not location:
        raise RelaunchError("option manifest: empty; give a manifest file or a manifest directory")
    path = os.path.abspath(os.path.expanduser(location))
    if os.path.isfile(path):
        return path
    if not os.path.isdir(path):
        raise RelaunchError(f"manifest {path} does not exist; run the playbook with the relaunch.status.manifest callback enabled first")
    found = latest_manifest(path)
    if found is not None:
        return found
    if playbook:
        found = latest_manifest(run_directory(path, playbook))
        if found is not None:
            return found
        raise RelaunchError(f"no manifest for playbook {playbook_stem(playbook)!r} in {path}; run it with the relaunch.status.manifest callback enabled first")
    found_in = {}
    for name in sorted(os.listdir(path)):
        if os.path.isdir(os.path.join(path, name)):
            found = latest_manifest(os.path.join(path, name))  # a playbook whose only run died has a journal, no latest.json
            if found is not None:
                found_in[name] = found
    if len(found_in) == 1:
        return next(iter(found_in.values()))
    if not found_in:
        raise RelaunchError(f"no manifest in {path}; run the playbook with the relaunch.status.manifest callback enabled first")
    stems = sorted(found_in)
    raise RelaunchError(f"manifest directory {path} holds several playbooks ({', '.join(stems[:5])}); name one, e.g. {os.path.join(path, stems[0])}")


def recorded_playbook(path: str) -> str | None:
    """The ``playbook`` a manifest (or journal) records, read from its head; None when it names none."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except (OSError, ValueError):
        return None
    try:
        match = _PLAYBOOK_HEAD.search(os.read(fd, 65536))
    finally:
        os.close(fd)
    try:
        return json.loads(match.group(1)) if match else None
    except ValueError:
        return None


def check_playbook(path: str, root: str, playbook: str) -> None:
    """Refuse the manifest found for the running playbook when it records another playbook."""
    recorded = recorded_playbook(path)
    if isinstance(recorded, str) and recorded and not same_playbook(root, recorded, playbook):
        raise RelaunchError(
            f"manifest {path} was written by playbook {recorded}, not {os.path.abspath(playbook)}; "
            "run this playbook with the callback first, or name that manifest explicitly to use it anyway"
        )


def load(path: str) -> dict:
    """Read and validate a manifest; any problem is one RelaunchError naming the file.

    A journal (``<run id>.journal``) is replayed in memory into the interrupted manifest of its run.
    """
    if path.endswith(JOURNAL) and RUN_ID.match(os.path.basename(path)[: -len(JOURNAL)]):
        return _load_journal(path)
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise RelaunchError(f"manifest {path} cannot be read: {exc.strerror}") from None
    except ValueError:  # a NUL in the path
        raise RelaunchError(f"manifest {brief(path, 200)} cannot be read: the path holds a NUL character") from None
    try:
        manifest = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise RelaunchError(f"manifest {path} is not valid JSON ({type(exc).__name__}); it is damaged: rerun the playbook or name another manifest") from None
    validate(manifest, path)
    return manifest


def _load_journal(path: str) -> dict:
    run_id = os.path.basename(path)[: -len(JOURNAL)]
    try:
        manifest = _recovered_manifest(os.path.dirname(path), run_id, path)
    except OSError as exc:
        raise RelaunchError(f"manifest {path} cannot be read: {exc.strerror}") from None
    if manifest is None:
        raise _fail(path, "the journal does not start with its run")
    manifest = manifest.manifest() if isinstance(manifest, Snapshot) else manifest
    validate(manifest, path)
    return manifest


# The rules of a valid manifest, each stated once; docs/manifest.schema.json says the same
# (tests/property/test_schema_agreement.py checks that both accept and reject the same documents).
# Patterns are matched with re.search, as JSON Schema validators match "pattern".
_STATUS_SET = frozenset(STATUSES)
_COUNTER_SET = frozenset(COUNTERS)
_TOP_KEYS = frozenset(
    (
        "schema_version", "run_id", "playbook", "started", "finished", "complete", "check_mode",
        "ansible_version", "invocation", "passwords_needed_to_start", "retry_counts", "hosts",
    )
)  # fmt: skip
_TOP_OPTIONAL = frozenset(("tasks_ran",))  # absent in manifests of earlier versions
_INVOCATION_KEYS = frozenset(("limit", "inventory", "tags", "skip_tags"))
_INVOCATION_OPTIONAL = frozenset(("limit_given",))
_HOST_KEYS = frozenset(("name", "identity", "identity_var", "statuses", "counters", "provisioned", "provisioned_by", "first_failure"))
_FAILURE_KEYS = frozenset(("play", "task", "action", "unreachable", "message"))
_RUN_ID_PATTERN = re.compile(r"^[0-9]{8}T[0-9]{12}Z-[0-9]+-[0-9a-f]+$")
_TIMESTAMP = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$")
_PASSWORD = re.compile(r"^(ssh_password|become_password|vault_password(\..+)?)$")


def _fail(path: str, problem: str) -> RelaunchError:
    return RelaunchError(f"manifest {path} is not a relaunch.status manifest: {problem}")


def _is_count(value: object) -> bool:
    """A JSON Schema integer of at least 0: 2.0 is the number 2, true is not a number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return (isinstance(value, int) or value.is_integer()) and value >= 0


def _is_str_list(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _optional_str(value: object) -> bool:
    return value is None or isinstance(value, str)


def _keys_problem(value: dict, required: frozenset, optional: frozenset = frozenset()) -> str | None:
    """What is wrong with an object's keys: a required one missing, or one that is not known."""
    keys = value.keys()
    if keys == required:
        return None
    missing = sorted(required - keys)
    if missing:
        return f"{missing[0]} is missing"
    unknown = sorted(keys - required - optional)
    return f"has an unknown key {brief(unknown[0])}" if unknown else None


def validate(manifest: object, path: str) -> None:
    """Check every rule of a manifest; raise one clear RelaunchError naming the first broken one."""
    if not isinstance(manifest, dict):
        raise _fail(path, f"top level is a {type(manifest).__name__}, not an object")
    version = manifest.get("schema_version")
    if isinstance(version, bool) or not isinstance(version, (int, float)) or math.isnan(version):
        raise _fail(path, "schema_version is missing or not a number")
    if version > SCHEMA_VERSION:
        raise RelaunchError(f"manifest {path} has schema version {version}, newer than this collection reads ({SCHEMA_VERSION}); upgrade relaunch.status")
    if version != SCHEMA_VERSION:
        raise _fail(path, f"unknown schema version {version}")
    problem = _keys_problem(manifest, _TOP_KEYS, _TOP_OPTIONAL)
    if problem:
        raise _fail(path, problem)
    if "tasks_ran" in manifest and not isinstance(manifest["tasks_ran"], bool):
        raise _fail(path, "tasks_ran is not true or false")
    for key, kind in (("run_id", str), ("playbook", str), ("started", str), ("ansible_version", str), ("invocation", dict)):
        if not isinstance(manifest[key], kind):
            raise _fail(path, f"{key} is not a{'n' if kind.__name__[0] in 'aeiou' else ''} {kind.__name__}")
    for key in ("complete", "check_mode"):
        if not isinstance(manifest[key], bool):
            raise _fail(path, f"{key} is not true or false")
    if not _RUN_ID_PATTERN.search(manifest["run_id"]):
        raise _fail(path, f"run_id {brief(manifest['run_id'])} is not a run id")
    if not manifest["playbook"]:
        raise _fail(path, "playbook is empty")
    if not _TIMESTAMP.search(manifest["started"]):
        raise _fail(path, "started is not an ISO 8601 time")
    finished = manifest["finished"]
    if finished is not None and (not isinstance(finished, str) or not _TIMESTAMP.search(finished)):
        raise _fail(path, "finished is not an ISO 8601 time or null")
    invocation = manifest["invocation"]
    problem = _keys_problem(invocation, _INVOCATION_KEYS, _INVOCATION_OPTIONAL)
    if problem:
        raise _fail(path, f"invocation.{problem}" if "missing" in problem else f"invocation {problem}")
    for key in ("limit", "limit_given"):
        if key in invocation and not isinstance(invocation[key], str):
            raise _fail(path, f"invocation.{key} is not a string")
    for key in ("inventory", "tags", "skip_tags"):
        if not _is_str_list(invocation[key]):
            raise _fail(path, f"invocation.{key} is not a list of strings")
    passwords = manifest["passwords_needed_to_start"]
    if not _is_str_list(passwords) or not all(_PASSWORD.search(item) for item in passwords) or len(set(passwords)) != len(passwords):
        raise _fail(path, "passwords_needed_to_start must list each of ssh_password, become_password, vault_password, vault_password.<id> at most once")
    counts = manifest["retry_counts"]
    if not isinstance(counts, dict):
        raise _fail(path, "retry_counts is not an object")
    problem = _keys_problem(counts, _STATUS_SET)
    if problem:
        raise _fail(path, f"retry_counts {problem}")
    for status, count in counts.items():
        if not _is_count(count):
            raise _fail(path, f"retry_counts has a bad entry {brief(status)}: {brief(count)}")
    hosts = manifest["hosts"]
    if not isinstance(hosts, list):
        raise _fail(path, "hosts is not a list")
    for index, host in enumerate(hosts):
        problem = _host_problem(host)
        if problem:
            raise _fail(path, f"hosts[{index}]{problem}")


def _host_problem(host: object) -> str | None:
    """What is wrong with a host entry (after its place, e.g. ".name is empty"), or None."""
    if not isinstance(host, dict):
        return " is not an object"
    problem = _keys_problem(host, _HOST_KEYS)
    if problem:
        return f".{problem}" if "missing" in problem else f" {problem}"
    if not isinstance(host["name"], str) or not host["name"]:
        return ".name is not a non-empty string"
    if not _optional_str(host["identity"]):
        return ".identity is not a string or null"
    if not _optional_str(host["identity_var"]):
        return ".identity_var is not a string or null"
    statuses = host["statuses"]
    if not _is_str_list(statuses) or not _STATUS_SET.issuperset(statuses) or "all" not in statuses or len(set(statuses)) != len(statuses):
        return f".statuses must list all and any of {', '.join(STATUSES[1:])}, each once"
    counters = host["counters"]
    if not isinstance(counters, dict) or counters.keys() != _COUNTER_SET or not all(map(_is_count, counters.values())):
        return f".counters is not a map of {', '.join(COUNTERS)} to numbers"
    if not isinstance(host["provisioned"], bool):
        return ".provisioned is not true or false"
    if not _is_str_list(host["provisioned_by"]):
        return ".provisioned_by is not a list of host names"
    failure = host["first_failure"]
    if failure is None:
        return None
    if (
        not isinstance(failure, dict)
        or failure.keys() != _FAILURE_KEYS
        or not all(_optional_str(failure[key]) for key in ("play", "task", "action", "message"))
        or not isinstance(failure["unreachable"], bool)
        or (failure["message"] is not None and len(failure["message"]) > MESSAGE_MAX)
    ):
        return f".first_failure is not null or an object of {', '.join(sorted(_FAILURE_KEYS))} (message at most {MESSAGE_MAX} characters)"
    return None
