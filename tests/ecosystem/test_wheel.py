# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pip package: build the wheel, install it with ansible-core into a fresh virtual environment, and use the
collection and the ``ansible-relaunch`` command from there, in a project that knows nothing of this checkout.

Slow (a wheel, a virtual environment, several ansible-playbook runs): it runs in the main suite, on the newest
ansible-core only. The wheel holds no code that differs between ansible-core versions; the version tests cover
the collection itself on every version (tests/ecosystem/versions.py).
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pytest
from ansible.release import __version__ as ANSIBLE_CORE_VERSION

from ansible_collections.relaunch.status.plugins.plugin_utils._core import store
from tests.ecosystem.collection import ROOT, clean_env, collection_files
from tests.fixtures import INSTALLED_PROJECT, play
from tests.runner import write_files

pytestmark = pytest.mark.newest_only

PREFIX = PurePosixPath("ansible_collections/relaunch/status")
CLI_MODULE = "ansible_collections.relaunch.status.plugins.plugin_utils._cli"
GALAXY_VERSION = re.search(r"(?m)^version:\s*[\"']?([^\"'\s#]+)", (ROOT / "galaxy.yml").read_text()).group(1)

# What a user of the collection needs, as in the galaxy tarball; what only development needs never goes in.
SHIPPED_TOPS = {"plugins", "roles", "meta", "docs", "demo", "README.md", "LICENSE", "CHANGELOG.md", "galaxy.yml"}
FORBIDDEN_PARTS = {
    "tests",
    "bench",
    "scripts",
    "build",
    "dist",
    "changelogs",
    ".git",
    ".venv",
    ".relaunch",
    ".ansible",
    "__pycache__",
    ".pytest_cache",
    ".hypothesis",
    ".ruff_cache",
}
FORBIDDEN_NAMES = re.compile(r"(\.pyc|\.retry|\.tar\.gz|\.whl|\.journal|performance\.png)$")

# Marks the hosts that fail their first run: the play removes the marker as it fails, so the next run passes.
FAILS_ONCE = """\
- name: Fail once where a marker says so
  ansible.builtin.raw: >-
    if [ -e "{{ playbook_dir }}/broken/{{ inventory_hostname }}" ];
    then rm "{{ playbook_dir }}/broken/{{ inventory_hostname }}"; exit 1; fi
  changed_when: false
"""

FILES = {
    **INSTALLED_PROJECT,
    "flaky.yml": play("Flaky", "all", FAILS_ONCE),
    "broken/web02": "",
}


@dataclass(frozen=True)
class Installed:
    wheel: Path
    bin_dir: Path

    def site_packages(self) -> Path:
        (found,) = (self.bin_dir.parent / "lib").glob("python3*/site-packages")
        return found


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, check=False, timeout=300, **kwargs)


def shared_dir(factory: pytest.TempPathFactory) -> Path:
    """A directory of this test session that every pytest-xdist worker sees, so that one builds for all."""
    base = factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """The wheel of this checkout, and a fresh virtual environment holding it and this suite's ansible-core."""
    shared = shared_dir(tmp_path_factory) / "relaunch-wheel"
    shared.mkdir(exist_ok=True)
    dist, venv = shared / "dist", shared / "venv"
    with open(shared / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (shared / "done").exists():
            built = run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--quiet", "-w", str(dist)])
            assert built.returncode == 0, built.stdout + built.stderr
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
            (wheel,) = dist.glob("relaunch_status-*.whl")
            pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
            done = run([*pip, str(wheel), f"ansible-core=={ANSIBLE_CORE_VERSION}"])
            assert done.returncode == 0, done.stdout + done.stderr
            (shared / "done").write_text(wheel.name)
    return Installed(dist / (shared / "done").read_text(), venv / "bin")


def user_env(home: Path, bin_dir: Path, extra: dict | None = None) -> dict:
    """A user's shell with the virtual environment on PATH: ansible-core finds collections on its own, on sys.path."""
    env = clean_env(home, bin_dir=bin_dir, extra=extra)
    del env["ANSIBLE_COLLECTIONS_PATH"], env["ANSIBLE_COLLECTIONS_SCAN_SYS_PATH"]
    return env


@pytest.fixture
def project(tmp_path: Path) -> Path:
    work = tmp_path / "work"
    write_files(work, FILES)
    assert not work.resolve().is_relative_to(ROOT.resolve())
    return work


def test_wheel_holds_the_collection_and_nothing_of_development(installed: Installed) -> None:
    assert installed.wheel.name == f"relaunch_status-{GALAXY_VERSION}-py3-none-any.whl"
    names = [PurePosixPath(name) for name in zipfile.ZipFile(installed.wheel).namelist()]
    metadata = PurePosixPath(f"relaunch_status-{GALAXY_VERSION}.dist-info")
    assert [name for name in names if not name.is_relative_to(PREFIX) and not name.is_relative_to(metadata)] == []
    shipped = {str(name.relative_to(PREFIX)) for name in names if name.is_relative_to(PREFIX)}
    unwanted = [
        name for name in shipped if FORBIDDEN_PARTS & set(PurePosixPath(name).parts) or FORBIDDEN_NAMES.search(name)
    ]
    assert unwanted == []
    assert {PurePosixPath(name).parts[0] for name in shipped} == SHIPPED_TOPS
    # Every plugin, role and metadata file of the collection goes in, and nothing that is not one of its files.
    files = set(collection_files())
    assert {name for name in files if name.split("/")[0] in ("plugins", "roles", "meta")} <= shipped
    assert shipped <= files


def test_ansible_galaxy_lists_it_at_galaxy_yml_version(installed: Installed, tmp_path: Path) -> None:
    listed = run(
        [str(installed.bin_dir / "ansible-galaxy"), "collection", "list", "relaunch.status", "--format", "json"],
        env=user_env(tmp_path / "home", installed.bin_dir),
        cwd=tmp_path,
    )
    assert listed.returncode == 0, listed.stdout + listed.stderr
    found = {path: collections for path, collections in json.loads(listed.stdout).items() if collections}
    assert found == {
        str(installed.site_packages() / "ansible_collections"): {"relaunch.status": {"version": GALAXY_VERSION}}
    }


def test_callback_and_lookup_run_from_site_packages(installed: Installed, project: Path) -> None:
    env = user_env(project / "home", installed.bin_dir, {"ANSIBLE_CALLBACKS_ENABLED": "relaunch.status.manifest"})
    doc = run(
        [str(installed.bin_dir / "ansible-doc"), "-t", "callback", "--json", "relaunch.status.manifest"],
        env=env,
        cwd=project,
    )
    assert doc.returncode == 0, doc.stdout + doc.stderr
    filename = json.loads(doc.stdout)["relaunch.status.manifest"]["doc"]["filename"]
    assert Path(filename).resolve().is_relative_to(installed.site_packages().resolve())

    def playbook(*args: str) -> subprocess.CompletedProcess:
        return run([str(installed.bin_dir / "ansible-playbook"), "-i", "inventory.yml", *args], env=env, cwd=project)

    first = playbook("site.yml")
    assert first.returncode == 2, first.stdout + first.stderr
    manifest = json.loads((project / ".relaunch" / "site" / "latest.json").read_text())
    assert {host["name"] for host in manifest["hosts"] if "failed" in host["statuses"]} == {"web02"}
    assert manifest["retry_counts"]["all"] == 3

    relaunch = playbook("relaunch.yml")
    assert relaunch.returncode == 0, relaunch.stdout + relaunch.stderr
    assert re.findall(r"relaunched on (\w+)", relaunch.stdout) == ["web02"]


def test_ansible_relaunch_command(installed: Installed, project: Path) -> None:
    env = user_env(project / "home", installed.bin_dir)
    command = str(installed.bin_dir / "ansible-relaunch")
    helped = run([command, "--help"], env=env, cwd=project)
    assert helped.returncode == 0, helped.stdout + helped.stderr
    assert "run" in helped.stdout

    # The command turns the callback on itself: the user's environment does not.
    retried = run([command, "run", "--attempts", "2", "--", "-i", "inventory.yml", "flaky.yml"], env=env, cwd=project)
    assert retried.returncode == 0, retried.stdout + retried.stderr
    assert not (project / "broken" / "web02").exists()
    runs = sorted(
        path for path in (project / ".relaunch" / "flaky").glob("*.json") if store.layout.RUN_ID.match(path.stem)
    )
    assert len(runs) == 2  # <run id>.json: run ids sort oldest first
    first, second = (json.loads(path.read_text()) for path in runs)
    assert {host["name"] for host in first["hosts"]} == {"web01", "web02", "web03"}
    assert {host["name"] for host in second["hosts"]} == {"web02"}
    latest = json.loads((project / ".relaunch" / "flaky" / "latest.json").read_text())
    assert not [
        host["name"] for host in latest["hosts"] if {"failed", "unreachable", "not_run"} & set(host["statuses"])
    ]


def test_module_runs_from_a_galaxy_collections_path(installed: Installed, tmp_path: Path) -> None:
    """What docs/install.md tells galaxy-only users: python3 -m with the collections path on PYTHONPATH."""
    collections = tmp_path / "collections"
    with zipfile.ZipFile(installed.wheel) as wheel:
        wheel.extractall(collections, [name for name in wheel.namelist() if name.startswith(f"{PREFIX}/")])
    # The test environment's Python: it has ansible-core, and the collection only through PYTHONPATH.
    env = clean_env(tmp_path / "home", collections, {"PYTHONPATH": str(collections)})
    helped = run([sys.executable, "-m", CLI_MODULE, "--help"], env=env, cwd=tmp_path)
    assert helped.returncode == 0, helped.stdout + helped.stderr
    assert "run" in helped.stdout
