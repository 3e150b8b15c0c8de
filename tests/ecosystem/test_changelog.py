# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The changelog: antsibull-changelog accepts the fragments and changelog.yaml, and every plugin has its entry."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.ecosystem.collection import ROOT, plugins

ANTSIBULL = shutil.which("antsibull-changelog", path=str(Path(sys.executable).parent))
pytestmark = pytest.mark.skipif(
    ANTSIBULL is None, reason="antsibull-changelog is not installed (requirements-test.txt)"
)


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([ANTSIBULL, *args], cwd=ROOT, capture_output=True, text=True, check=False)


def test_antsibull_changelog_lint() -> None:
    lint = run("lint")
    assert lint.returncode == 0 and lint.stdout.strip() == "", lint.stdout + lint.stderr


def test_changelog_yaml_lint() -> None:
    lint = run("lint-changelog-yaml", "changelogs/changelog.yaml")
    assert lint.returncode == 0 and lint.stdout.strip() == "", lint.stdout + lint.stderr


def test_every_plugin_and_role_has_a_fragment() -> None:
    text = "\n".join(path.read_text() for path in (ROOT / "changelogs" / "fragments").glob("*.y*ml"))
    missing = [entry[1] for entry in plugins() if entry[1] not in text]
    assert missing == []


def test_galaxy_version_is_a_release() -> None:
    galaxy = yaml.safe_load((ROOT / "galaxy.yml").read_text())
    assert re.fullmatch(r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)", galaxy["version"])
    released = yaml.safe_load((ROOT / "changelogs" / "changelog.yaml").read_text()).get("releases") or {}
    # A released version is never reused: galaxy.yml is the release being prepared or the last one.
    assert all(
        tuple(map(int, version.split("."))) <= tuple(map(int, galaxy["version"].split("."))) for version in released
    )
