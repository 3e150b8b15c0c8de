# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every check on every supported ansible-core, one command: ``python3 -m pip install nox && nox``.

nox -l                      list the sessions
nox -s tests                the whole suite on ansible-core 2.19 (what CI runs)
nox -s e2e                  parity, relaunch and ecosystem end-to-end tests on 2.16, 2.17, 2.18 and 2.19
nox -s "e2e(core='2.16')"   one version
nox -s sanity lint changelog
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import nox

_spec = importlib.util.spec_from_file_location("versions", Path(__file__).parent / "tests" / "ecosystem" / "versions.py")
versions = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(versions)

nox.options.default_venv_backend = "venv"
nox.options.sessions = ["tests", "e2e"]
nox.options.reuse_existing_virtualenvs = True
PYTHON = "3.11"


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """The whole suite (ruff, unit, property, end-to-end, ecosystem) on the newest ansible-core."""
    session.install("-r", "requirements-test.txt")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("pytest", "-n", "2", "tests", *session.posargs)


@nox.session(python=PYTHON)
@nox.parametrize("core", list(versions.SUPPORTED))
def e2e(session: nox.Session, core: str) -> None:
    """Parity, relaunch and ecosystem end-to-end tests on one ansible-core version."""
    session.install(*versions.requirements(core))
    session.run("ansible", "--version")
    session.run("pytest", "-n", "2", *versions.E2E_TESTS, *session.posargs, env={"RELAUNCH_TEST_ANSIBLE_BIN": session.bin})


@nox.session(python=PYTHON)
def sanity(session: nox.Session) -> None:
    """ansible-test sanity, locally, no containers."""
    session.install("-r", "requirements-test.txt")
    session.run("pytest", "tests/ecosystem/test_sanity.py", *session.posargs)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ansible-lint, production profile (in its own virtual environment, build/venvs/lint)."""
    session.install("-r", "requirements-test.txt")
    session.run("pytest", "tests/ecosystem/test_lint.py", *session.posargs)


@nox.session(python=PYTHON)
def changelog(session: nox.Session) -> None:
    """antsibull-changelog lint of the fragments and changelog.yaml."""
    session.install("antsibull-changelog")
    session.run("antsibull-changelog", "lint")
    session.run("antsibull-changelog", "lint-changelog-yaml", "changelogs/changelog.yaml")
