# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ansible-core versions the collection supports, and what is tested on each (used by noxfile.py too)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# The main suite runs on the newest; meta/runtime.yml says requires_ansible >=2.16.0.
SUPPORTED = ("2.16", "2.17", "2.18", "2.19")
OLDER = SUPPORTED[:-1]

# What runs on every older ansible-core: parity with .retry files, the relaunches, and how the collection
# installs, documents itself and runs without deprecated API.
E2E_TESTS = (
    "tests/e2e",
    "tests/ecosystem/test_galaxy.py",
    "tests/ecosystem/test_doc.py",
    "tests/ecosystem/test_schema.py",
    "tests/ecosystem/test_deprecations.py",
)

# Only needed by the main suite (linters, benchmark plots, ansible-runner and changelog tests).
_MAIN_ONLY = ("ansible-core", "ruff", "matplotlib", "ansible-runner", "antsibull-changelog")


def requirements(version: str) -> list[str]:
    """requirements-test.txt with ansible-core pinned to the ``version`` line (e.g. "2.16")."""
    major, minor = version.split(".")
    wanted = [f"ansible-core>={major}.{minor},<{major}.{int(minor) + 1}"]
    for line in (ROOT / "requirements-test.txt").read_text().splitlines():
        requirement = line.split("#", 1)[0].strip()
        name = requirement.split(";")[0].split("[")[0]
        for operator in "<>=!~ ":
            name = name.split(operator)[0]
        if requirement and name.lower() not in _MAIN_ONLY:
            wanted.append(requirement)
    return wanted
