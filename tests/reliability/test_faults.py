# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A manifest directory that cannot be written, or holds traps: one warning and one line in place of the summary,
the run otherwise unchanged, nothing written outside."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.fixtures import one_breaks_two, play
from tests.reliability.conftest import Live
from tests.runner import write_files

FILES = {
    "inventory.ini": """
        [web]
        h[1:3] ansible_connection=local
        """,
    "site.yml": play("faults", "web", one_breaks_two('"true"')),
}
VICTIM = b"not yours to write\n"


def _below_a_file(workdir: Path, manifests: Path, outside: Path) -> Path:
    (workdir / "afile").write_text("a file\n")
    return workdir / "afile" / "manifests"


def _dir_is_a_file(workdir: Path, manifests: Path, outside: Path) -> Path:
    (workdir / "afile").write_text("a file\n")
    return workdir / "afile"


def _run_dir_is_a_file(workdir: Path, manifests: Path, outside: Path) -> Path:
    manifests.mkdir()
    (manifests / "site").write_text("a file\n")
    return manifests


def _run_dir_dangling(workdir: Path, manifests: Path, outside: Path) -> Path:
    manifests.mkdir()
    (manifests / "site").symlink_to(outside / "missing")
    return manifests


def _run_dir_hostile(workdir: Path, manifests: Path, outside: Path) -> Path:
    manifests.mkdir()
    (manifests / "site").symlink_to(outside / "victimdir", target_is_directory=True)
    return manifests


def _in_run_dir(name: str, target: str):
    def plant(workdir: Path, manifests: Path, outside: Path) -> Path:
        (manifests / "site").mkdir(parents=True)
        (manifests / "site" / name).symlink_to(outside / target)
        return manifests

    return plant


CASES = {
    "below-a-file": (_below_a_file, "afile"),
    "dir-is-a-file": (_dir_is_a_file, "afile"),
    "run-dir-is-a-file": (_run_dir_is_a_file, "site"),
    "run-dir-dangling-symlink": (_run_dir_dangling, "site"),
    "run-dir-hostile-symlink": (_run_dir_hostile, "site"),
    "latest-dangling-symlink": (_in_run_dir("latest.json", "missing"), "latest.json"),
    "latest-hostile-symlink": (_in_run_dir("latest.json", "victim"), "latest.json"),
    "limit-dangling-symlink": (_in_run_dir("failed.limit", "missing"), "failed.limit"),
    "limit-hostile-symlink": (_in_run_dir("failed.limit", "victim"), "failed.limit"),
}


def tree(root: Path, skip: tuple[Path, ...] = ()) -> dict[str, tuple]:
    """Every entry below root (not following symlinks): its kind and content or target."""
    found = {}
    for directory, dirs, files in os.walk(root):
        dirs[:] = [name for name in dirs if Path(directory, name) not in skip]
        for name in dirs + files:
            path = Path(directory, name)
            if path in skip:
                continue
            if path.is_symlink():
                found[str(path)] = ("link", os.readlink(path))
            elif path.is_dir():
                found[str(path)] = ("dir",)
            else:
                found[str(path)] = ("file", path.read_bytes(), path.stat().st_mtime_ns)
    return found


@pytest.fixture(scope="module")
def plain(tmp_path_factory) -> Live:
    """The same run without the callback: what the playbook itself prints and returns."""
    workdir = tmp_path_factory.mktemp("plain")
    write_files(workdir, FILES)
    run = Live(workdir, "-i", "inventory.ini", callback=False, name="plain")
    run.wait()
    return run


def check_unchanged_run(live: Live, plain: Live, names: str) -> str:
    """Same exit code and output as without the callback, plus exactly one warning naming the problem, and one
    line where the summary would be that names it again."""
    assert live.process.returncode == plain.process.returncode == 2
    # Parallel hosts print in any order; the .retry hint names the run's own directory.
    ours, theirs = live.stdout.replace(str(live.workdir), "<dir>"), plain.stdout.replace(str(plain.workdir), "<dir>")
    summary = [line for line in ours.splitlines() if line.startswith("RELAUNCH SUMMARY")]
    assert len(summary) == 1 and summary[0].startswith("RELAUNCH SUMMARY: no manifest written: "), ours
    assert names in summary[0], summary[0]
    assert sorted(line for line in ours.splitlines() if line != summary[0]) == sorted(theirs.splitlines())
    ours = [line for line in live.stderr.splitlines() if "relaunch.status" in line]
    assert len(ours) == 1, live.stderr
    assert ours[0].startswith("[WARNING]: relaunch.status.manifest: ") and names in ours[0], ours[0]
    assert "Traceback" not in live.stderr
    rest = [line for line in live.stderr.splitlines() if "relaunch.status" not in line]
    assert rest == plain.stderr.splitlines()
    return ours[0]


@pytest.mark.parametrize("case", list(CASES))
def test_unusable_manifest_directory(tmp_path, case, plain):
    plant, names = CASES[case]
    workdir = tmp_path / "work"
    outside = tmp_path / "outside"
    (outside / "victimdir").mkdir(parents=True)
    (outside / "victim").write_bytes(VICTIM)
    write_files(workdir, FILES)
    manifests = workdir / "manifests"
    configured = plant(workdir, manifests, outside)
    outside_before = tree(outside)
    skip = (manifests, workdir / ".ansible")
    workdir_before = tree(workdir, skip)

    live = Live(workdir, "-i", "inventory.ini", env={"RELAUNCH_MANIFEST_DIR": str(configured)})
    live.wait()
    check_unchanged_run(live, plain, names)

    assert tree(outside) == outside_before  # symlink targets untouched, nothing created beside them
    after = tree(workdir, skip)
    for name in ("run.stdout", "run.stderr", "site.retry"):
        after.pop(str(workdir / name), None)
    assert after == workdir_before
    if manifests.is_dir() and not (manifests / "site").is_symlink() and (manifests / "site").is_dir():
        planted = [path for path in (manifests / "site").iterdir() if path.is_symlink()]
        assert planted and all(os.readlink(path).startswith(str(outside)) for path in planted)  # left as they were


@pytest.fixture
def full_tmpfs(tmp_path):
    """A 64 KiB tmpfs filled to the last byte; skipped where mounting is not permitted."""
    mountpoint = tmp_path / "full"
    mountpoint.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", str(mountpoint)], capture_output=True, check=False
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode(errors='replace').strip()}")
    try:
        (mountpoint / "site").mkdir()  # the run directory exists; its files' data will not fit
        fd = os.open(mountpoint / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            for chunk in (4096, 1):
                try:
                    while True:
                        os.write(fd, b"\0" * chunk)
                except OSError:
                    pass
        finally:
            os.close(fd)
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=False)


def test_full_manifest_directory(tmp_path, full_tmpfs, plain):
    workdir = tmp_path / "work"
    write_files(workdir, FILES)
    skip = (workdir / ".ansible",)
    workdir_before = tree(workdir, skip)

    live = Live(workdir, "-i", "inventory.ini", env={"RELAUNCH_MANIFEST_DIR": str(full_tmpfs)})
    live.wait()
    warning = check_unchanged_run(live, plain, "No space left on device")
    assert str(full_tmpfs) in warning

    after = tree(workdir, skip)
    for name in ("run.stdout", "run.stderr", "site.retry"):
        after.pop(str(workdir / name), None)
    assert after == workdir_before
    assert not [path for path in (full_tmpfs / "site").iterdir() if path.name.endswith(".json")]
