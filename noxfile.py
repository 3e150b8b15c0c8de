# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every check on every supported ansible-core, one command: ``python3 -m pip install nox && nox``.

nox -l                      list the sessions
nox -s tests                the whole suite on ansible-core 2.21 with Python 3.13 (what CI runs)
nox -s e2e                  end-to-end, parity, ecosystem and compatibility tests on 2.16 to 2.20
nox -s "e2e(core='2.16')"   one version
nox -s sanity lint changelog

The sessions use the project's own environments, so that the interpreters are found one way only
(scripts/pythons): .venv made by scripts/setup, and build/venvs/core-<version> made by the version tests,
each with a Python that version supports. A missing Python fails the session, naming it.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import nox

_spec = importlib.util.spec_from_file_location(
    "versions", Path(__file__).parent / "tests" / "ecosystem" / "versions.py"
)
versions = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(versions)

nox.options.sessions = ["tests", "e2e"]
PYTEST = (".venv/bin/python", "-m", "pytest")


def _setup(session: nox.Session) -> None:
    session.run("scripts/setup", external=True)


@nox.session(python=False)
def tests(session: nox.Session) -> None:
    """The whole suite (ruff, unit, property, end-to-end, ecosystem) on the newest ansible-core."""
    _setup(session)
    session.run(".venv/bin/ruff", "check", ".", external=True)
    session.run(".venv/bin/ruff", "format", "--check", ".", external=True)
    session.run(*PYTEST, "-n", "2", "tests", *session.posargs, external=True)


@nox.session(python=False)
@nox.parametrize("core", list(versions.OLDER))
def e2e(session: nox.Session, core: str) -> None:
    """End-to-end, parity, ecosystem and compatibility tests on one older ansible-core, in its own environment."""
    _setup(session)
    session.run(
        *PYTEST, "tests/ecosystem/test_versions.py", "-k", core, env={"RELAUNCH_ALL_VERSIONS": "1"}, external=True
    )


@nox.session(python=False)
def sanity(session: nox.Session) -> None:
    """ansible-test sanity of the newest ansible-core, locally, no containers."""
    _setup(session)
    session.run(*PYTEST, "tests/ecosystem/test_sanity.py", *session.posargs, external=True)


@nox.session(python=False)
def lint(session: nox.Session) -> None:
    """ansible-lint, production profile (in its own virtual environment, build/venvs/lint)."""
    _setup(session)
    session.run(*PYTEST, "tests/ecosystem/test_lint.py", *session.posargs, external=True)


@nox.session(python=False)
def changelog(session: nox.Session) -> None:
    """antsibull-changelog lint of the fragments and changelog.yaml."""
    _setup(session)
    session.run(".venv/bin/antsibull-changelog", "lint", external=True)
    session.run(".venv/bin/antsibull-changelog", "lint-changelog-yaml", "changelogs/changelog.yaml", external=True)
