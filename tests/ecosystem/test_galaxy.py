# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Build the collection with ansible-galaxy, install the tarball into a fresh path, and use it from there."""

from __future__ import annotations

import json
import re
import subprocess
import tarfile
from pathlib import Path, PurePosixPath

import pytest

from tests.ecosystem.collection import ROOT, clean_env, copy_collection
from tests.fixtures import INSTALLED_PROJECT
from tests.runner import ANSIBLE_BIN, write_files

# What a built collection must never carry (path parts or name patterns).
FORBIDDEN_PARTS = {
    ".git",
    ".ci",
    ".venv",
    ".tox",
    ".nox",
    "build",
    ".relaunch",
    "__pycache__",
    ".pytest_cache",
    ".hypothesis",
    ".ruff_cache",
    ".ansible",
    "dist",
}
FORBIDDEN_NAMES = re.compile(r"(\.pyc|\.retry|\.tar\.gz|\.journal|\.whl|\.egg-info)$")
# What building the pip package (pyproject.toml) may leave in a checkout: none of it goes in the tarball.
PIP_BUILD_OUTPUT = {
    "dist/relaunch_status-1.0.0-py3-none-any.whl": "",
    "dist/relaunch_status-1.0.0.tar.gz": "",
    "relaunch_status.egg-info/PKG-INFO": "",
    "build/lib/ansible_collections/relaunch/status/galaxy.yml": "",
}


def recap_hosts(stdout: str) -> set[str]:
    recap = stdout.split("PLAY RECAP", 1)[1]
    return {match.group(1) for match in re.finditer(r"^(\S+)\s+:\s+ok=", recap, re.MULTILINE)}


def build_tarball(source: Path, out: Path, home: Path) -> Path:
    subprocess.run(
        [str(ANSIBLE_BIN / "ansible-galaxy"), "collection", "build", str(source), "--output-path", str(out)],
        env=clean_env(home),
        capture_output=True,
        text=True,
        check=True,
    )
    (built,) = out.glob("relaunch-status-*.tar.gz")
    return built


def unwanted_names(names: list[str]) -> list[str]:
    return [name for name in names if FORBIDDEN_PARTS & set(PurePosixPath(name).parts) or FORBIDDEN_NAMES.search(name)]


@pytest.fixture(scope="module")
def tarball(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tarball(ROOT, tmp_path_factory.mktemp("dist"), tmp_path_factory.mktemp("home"))


def test_tarball_leaves_out_pip_build_output(tmp_path: Path) -> None:
    checkout = copy_collection(tmp_path / "tree")
    write_files(checkout, PIP_BUILD_OUTPUT)
    with tarfile.open(build_tarball(checkout, tmp_path / "out", tmp_path / "home")) as archive:
        names = archive.getnames()
    assert unwanted_names(names) == []
    assert "pyproject.toml" in names


def test_tarball_is_clean(tarball: Path) -> None:
    with tarfile.open(tarball) as archive:
        names = archive.getnames()
        manifest = json.load(archive.extractfile("MANIFEST.json"))
    unwanted = unwanted_names(names)
    # Development only: tests, scripts, benchmarks, the performance chart, the demo's run output.
    unwanted += [name for name in names if PurePosixPath(name).parts[0] in ("tests", "scripts", "bench")]
    unwanted += [name for name in names if name == "docs/performance.png" or name.startswith("demo/deployed")]
    assert unwanted == []
    for needed in (
        "meta/runtime.yml",
        "plugins/callback/manifest.py",
        "plugins/plugin_utils/_core/store/publishing.py",
        "README.md",
        "LICENSE",
        "docs/manifest.md",
        "demo/site.yml",
    ):
        assert needed in names
    assert manifest["collection_info"]["namespace"] == "relaunch"
    assert manifest["collection_info"]["name"] == "status"
    assert re.fullmatch(r"\d+\.\d+\.\d+", manifest["collection_info"]["version"])


def test_installed_tarball_runs(tarball: Path, tmp_path: Path) -> None:
    collections = tmp_path / "collections"
    home = tmp_path / "home"
    work = tmp_path / "work"
    write_files(work, INSTALLED_PROJECT)
    env = clean_env(home, collections)
    subprocess.run(
        [
            str(ANSIBLE_BIN / "ansible-galaxy"),
            "collection",
            "install",
            "--offline",
            "-p",
            str(collections),
            str(tarball),
        ],
        env=env,
        cwd=work,
        capture_output=True,
        text=True,
        check=True,
    )
    installed = collections / "ansible_collections" / "relaunch" / "status"
    assert (installed / "MANIFEST.json").is_file()

    # The callback ansible resolves is the installed one, not the working tree.
    doc = subprocess.run(
        [str(ANSIBLE_BIN / "ansible-doc"), "-t", "callback", "--json", "relaunch.status.manifest"],
        env=env,
        cwd=work,
        capture_output=True,
        text=True,
        check=True,
    )
    filename = json.loads(doc.stdout)["relaunch.status.manifest"]["doc"]["filename"]
    assert Path(filename).resolve().is_relative_to(installed.resolve())

    def playbook(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(ANSIBLE_BIN / "ansible-playbook"), "-i", "inventory.yml", *args],
            env={**env, "ANSIBLE_CALLBACKS_ENABLED": "relaunch.status.manifest"},
            cwd=work,
            capture_output=True,
            text=True,
            check=False,
        )

    first = playbook("site.yml")
    assert first.returncode == 2, first.stdout + first.stderr
    manifest = json.loads((work / ".relaunch" / "site" / "latest.json").read_text())
    failed = {host["name"] for host in manifest["hosts"] if "failed" in host["statuses"]}
    assert failed == {"web02"}
    assert manifest["retry_counts"]["all"] == 3

    if (installed / "plugins" / "lookup" / "limit.py").is_file():
        relaunch = playbook("relaunch.yml")
        assert relaunch.returncode == 0, relaunch.stdout + relaunch.stderr
        assert recap_hosts(relaunch.stdout) == {"web02"}
        assert "relaunched on web02" in relaunch.stdout

    again = playbook("site.yml", "--limit", "@.relaunch/site/failed.limit", "-e", '{"broken": false}')
    assert again.returncode == 0, again.stdout + again.stderr
    assert recap_hosts(again.stdout) == {"web02"}
