# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The parity, relaunch and ecosystem end-to-end tests on every older supported ansible-core.

Each version gets its own virtual environment (build/venvs/core-<version>), made with a Python that version
supports (tests/ecosystem/versions.py), and runs the tests with its own ansible-playbook. A missing Python
fails that version's test, naming the Python it needs. Set RELAUNCH_ALL_VERSIONS=1 to run them; `nox` runs
the same through its e2e sessions.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.ecosystem.collection import ROOT, ensure_venv
from tests.ecosystem.versions import OLDER, find_python, requirements, suite_args

pytestmark = pytest.mark.skipif(
    os.environ.get("RELAUNCH_ALL_VERSIONS") != "1", reason="set RELAUNCH_ALL_VERSIONS=1 to test every ansible-core"
)


@pytest.mark.parametrize("version", OLDER)
def test_older_ansible_core(version: str) -> None:
    try:
        python = find_python(version)
    except LookupError as exc:
        pytest.fail(str(exc), pytrace=False)
    bin_dir = ensure_venv(f"core-{version}", requirements(version), python)
    reported = subprocess.run(
        [str(bin_dir / "ansible"), "--version"], capture_output=True, text=True, check=True
    ).stdout
    assert f"core {version}." in reported.splitlines()[0]
    env = {key: value for key, value in os.environ.items() if not key.startswith(("ANSIBLE_", "PYTEST_", "RELAUNCH_"))}
    env["RELAUNCH_TEST_ANSIBLE_BIN"] = str(bin_dir)
    run = subprocess.run(
        [str(bin_dir / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2", *suite_args(version)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=3600,
    )
    assert run.returncode == 0, run.stdout[-8000:] + run.stderr[-2000:]
