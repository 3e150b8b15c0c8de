# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ansible-core versions the collection supports, and what is tested on each (used by noxfile.py too)."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# The main suite runs on the newest (in .venv); meta/runtime.yml says requires_ansible >=2.16.0.
SUPPORTED = ("2.16", "2.17", "2.18", "2.19", "2.20", "2.21")
NEWEST = SUPPORTED[-1]
OLDER = SUPPORTED[:-1]

# The Python each version runs on, then the ones to fall back on, all within what that ansible-core supports
# (2.16/2.17: 3.10-3.12; 2.18/2.19: 3.11-3.13; 2.20/2.21: 3.12-3.14). Spread out, so that every Python from 3.11
# to 3.13 is tested on some version.
PYTHONS = {
    "2.16": ("3.11", "3.12", "3.10"),
    "2.17": ("3.11", "3.12", "3.10"),
    "2.18": ("3.12", "3.11", "3.13"),
    "2.19": ("3.13", "3.12", "3.11"),
    "2.20": ("3.12", "3.13"),
    "2.21": ("3.13", "3.12"),
}

# ansible-test sanity runs in the main suite on the newest version, and in this older version's environment.
SANITY_OLDER = ("2.19",)

# What runs on every older ansible-core: parity with .retry files, the relaunches, and how the collection
# installs, documents itself and runs without deprecated API or private internals that changed. Tests marked
# newest_only are left out there (see pyproject.toml): they check the collection's own rules for the store and
# the selection, through ansible-core steps that the other tests take on every version.
E2E_TESTS = (
    "tests/e2e",
    "tests/ecosystem/test_galaxy.py",
    "tests/ecosystem/test_doc.py",
    "tests/ecosystem/test_schema.py",
    "tests/ecosystem/test_deprecations.py",
    "tests/ecosystem/test_compat.py",
    # Already under tests/e2e (pytest collects it once): named for the workflows of a rollout it checks.
    "tests/e2e/test_rollout.py",
)

# Only needed by the main suite (linters, benchmark plots, ansible-runner and changelog tests).
_MAIN_ONLY = ("ansible-core", "ruff", "matplotlib", "ansible-runner", "antsibull-changelog")


def suite_args(version: str) -> tuple[str, ...]:
    """The pytest arguments of the run in ``version``'s own environment: which tests, and which marks to leave out."""
    return (
        "-m",
        "not newest_only",
        *E2E_TESTS,
        *(("tests/ecosystem/test_sanity.py",) if version in SANITY_OLDER else ()),
    )


def find_python(version: str) -> str:
    """Path of an interpreter ``version`` supports, found as scripts/setup finds its own (scripts/pythons).

    Raises LookupError naming the Pythons looked for: a version is never skipped for want of one.
    """
    wanted = PYTHONS[version]
    found = subprocess.run(
        ["bash", "-c", '. "$0"; find_python "$@"', str(ROOT / "scripts" / "pythons"), *wanted],
        capture_output=True,
        text=True,
        check=False,
    )
    if found.returncode != 0 or not found.stdout.strip():
        raise LookupError(
            f"ansible-core {version} needs Python {' or '.join(wanted)}, and none was found "
            "(on PATH as pythonX.Y, in /usr/bin or under $(pyenv root)/versions); install one, e.g. pyenv install "
            + wanted[0]
        )
    return found.stdout.strip()


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


def prepare_older() -> None:
    """Build the environment of every older version that has its Python, ahead of its test (scripts/test runs this
    in the background while the main suite runs: pip spends most of its time waiting on downloads). A version
    without its Python, or whose install fails, is left to its test, which fails and says why."""
    from tests.ecosystem.collection import ensure_venv

    for version in OLDER:
        try:
            ensure_venv(f"core-{version}", requirements(version), find_python(version))
        except (LookupError, subprocess.CalledProcessError) as exc:
            print(f"ansible-core {version}: left to its test ({exc})", flush=True)


if __name__ == "__main__":
    prepare_older()
