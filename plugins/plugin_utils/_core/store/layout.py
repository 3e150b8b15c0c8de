# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where manifests live: the names of a run directory's files, run ids, and the run directory of a playbook."""

from __future__ import annotations

import datetime
import hashlib
import os
import re
import secrets

from ..errors import RelaunchError

LATEST = "latest.json"
MANIFEST = ".json"  # <run id>.json: the manifest of one run
JOURNAL = ".journal"  # <run id>.journal: the journal of a run in progress
LIMIT = ".limit"
LOCK = ".lock"
OWNER = ".playbook"
TEMPORARY = ".tmp"  # see temporary_name()
FAILED_LIMIT = ".failed" + LIMIT  # <run id>.failed.limit: the failed hosts of one run
PENDING_LIMIT = ".pending" + LIMIT  # <run id>.pending.limit: the rollout's pending hosts right after that run
FAILURE_LIMIT_PREFIX = "failure-"  # failure-<group id>.limit: the hosts of one failure group of latest.json
FAILURE_LIMIT = re.compile(r"^failure-[0-9a-f]{8}\.limit$")  # the names of those files, failures.ID_PATTERN's ids
# What a run id is, stated once: the validator, pruning, latest.json and the stale-limit check all use it, and
# docs/manifest.schema.json states the same pattern (tests/property/test_schema_agreement.py compares them).
# [0-9], not \d, which also matches the digits of other scripts; any length of suffix, as the schema allows.
RUN_ID_PATTERN = "^[0-9]{8}T[0-9]{12}Z-[0-9]+-[0-9a-f]+$"
RUN_ID = re.compile(RUN_ID_PATTERN)
OPEN_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC  # a file of our own, never one planted


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
    return (
        _beside(root, playbook)
        and os.path.basename(recorded) == os.path.basename(playbook)
        and not os.path.exists(recorded)
    )


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


def _owned_by(root: str, owner: str, playbook: str) -> bool:
    """Whether a run directory whose .playbook names ``owner`` is the playbook's own.

    The same playbook (:func:`same_playbook`: the same path, or a moved checkout); or, in a
    manifest directory beside the playbook, an owner outside the directory that holds both:
    the checkout was copied, its manifests with it, and the original uses its own. An owner
    inside it is another playbook sharing the manifest directory (repo/teamb/site.yml beside
    repo/site.yml), which keeps the directory.
    """
    if same_playbook(root, owner, playbook):
        return True
    tree = os.path.dirname(os.path.abspath(root)) + os.sep
    return _beside(root, playbook) and not os.path.normpath(owner).startswith(tree)


def run_directory(root: str, playbook: str) -> str:
    """The run directory of a playbook in a manifest directory; the one place that computes it.

    ``<root>/<playbook stem>``, unless another playbook of the same stem owns it
    (its ``.playbook`` record): appA/site.yml and appB/site.yml sharing a
    manifest_dir, or repo/site.yml and repo/teamb/site.yml with the manifest_dir
    beside the first. Then ``<root>/<stem>-<8 hex digits of the playbook's path>``.
    A moved or copied checkout keeps its directory (see :func:`_owned_by`).
    """
    playbook = os.path.abspath(playbook)
    stem = playbook_stem(playbook)
    plain = os.path.join(root, stem)
    owner = _owner(plain)
    if owner is None or _owned_by(root, owner, playbook):
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
                fd = os.open(os.path.join(directory, OWNER), OPEN_NEW, 0o600)
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
        # The first missing directory that exists is a file (or a broken symlink): name it, not the run directory.
        blocker = next((directory for directory in reversed(missing) if os.path.lexists(directory)), path)
        raise RelaunchError(
            f"{blocker} is a file, not a directory: no manifest directory can be created in its place or under it; "
            "remove it or set RELAUNCH_MANIFEST_DIR"
        ) from None
    except OSError as exc:
        raise RelaunchError(
            f"cannot create manifest directory {path}: {exc.strerror}; "
            "set RELAUNCH_MANIFEST_DIR to a writable directory"
        ) from None
    if os.path.islink(path) or not os.path.isdir(path):
        raise RelaunchError(
            f"manifest directory {path} is a symlink or not a directory; remove it or set RELAUNCH_MANIFEST_DIR"
        )


def run_id_of(name: str, suffix: str) -> str | None:
    """The run id of a file named ``<run id><suffix>`` (MANIFEST, JOURNAL, FAILED_LIMIT); None for other names."""
    if not name.endswith(suffix):
        return None
    run_id = name[: -len(suffix)]
    return run_id if RUN_ID.match(run_id) else None


def temporary_name(name: str) -> str:
    """The name a file is written under before it is renamed to ``name``: hidden, unique to this writer."""
    return f".{name}.{os.getpid()}.{secrets.token_hex(4)}{TEMPORARY}"


def is_temporary(name: str) -> bool:
    """Whether a file is one that :func:`temporary_name` named, left behind by a writer that died."""
    return name.startswith(".") and name.endswith(TEMPORARY)


def run_limit_file(directory: str, run_id: str) -> str:
    """The path of ``<run id>.failed.limit``: the failed hosts of that run alone."""
    return os.path.join(directory, run_id + FAILED_LIMIT)


def failure_limit_file(directory: str, group_id: str) -> str:
    """The path of ``failure-<group id>.limit``: the hosts of that failure group of the rollout (latest.json)."""
    return os.path.join(directory, FAILURE_LIMIT_PREFIX + group_id + LIMIT)


def run_pending_limit_file(directory: str, run_id: str) -> str:
    """The path of ``<run id>.pending.limit``: the pending hosts of the rollout right after that run was merged."""
    return os.path.join(directory, run_id + PENDING_LIMIT)
