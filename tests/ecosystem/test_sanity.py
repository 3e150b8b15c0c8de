# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ansible-test sanity, run locally (no containers) on a copy of the collection's files."""

from __future__ import annotations

import re
import subprocess
import textwrap
from pathlib import Path

from tests.ecosystem.collection import ROOT, clean_env, copy_collection
from tests.runner import ANSIBLE_BIN

# ansible-test keeps one virtual environment per sanity test under $HOME/.ansible/test; a HOME
# inside build/, one per ansible-core version, keeps them between local runs (CI starts from a fresh clone).
TEST_HOMES = ROOT / "build" / "ansible-test-home"


def environment_versions() -> tuple[str, str]:
    """(ansible-core X.Y, Python X.Y) of the environment under test: the main one, or RELAUNCH_TEST_ANSIBLE_BIN's."""
    return tuple(
        subprocess.run(
            [
                str(ANSIBLE_BIN / "python"),
                "-c",
                "import sys; from ansible.release import __version__ as v; "
                "print('.'.join(v.split('.')[:2])); print(*sys.version_info[:2], sep='.')",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
    )


def prepare_pip_bootstrap(home: Path) -> None:
    """Give ansible-test a pip bootstrap script that installs the pip wheel from PyPI.

    ansible-test seeds each sanity virtual environment with a get-pip script it downloads from
    its own file server; this one installs the same pip version from a wheel fetched with pip.
    """
    package = subprocess.run(
        [str(ANSIBLE_BIN / "python"), "-c", "import ansible_test, os; print(os.path.dirname(ansible_test.__file__))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    source = Path(package, "_internal", "python_requirements.py").read_text()
    version = re.search(r"pip='([0-9.]+)'", source).group(1)
    wheels = home / "wheels"
    wheel = wheels / f"pip-{version}-py3-none-any.whl"
    if not wheel.exists():
        subprocess.run(
            [
                str(ANSIBLE_BIN / "python"),
                "-m",
                "pip",
                "download",
                "--quiet",
                "--disable-pip-version-check",
                "--no-deps",
                "--only-binary=:all:",
                "--dest",
                str(wheels),
                f"pip=={version}",
            ],
            check=True,
        )
    script = home / ".ansible" / "test" / "cache" / f"get_pip_{version.replace('.', '_')}.py"
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text(
        textwrap.dedent(f"""\
        # Installs pip {version} into an empty virtual environment from a local wheel.
        import runpy
        import sys

        sys.path.insert(0, {str(wheel)!r})
        args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
        sys.argv = ["pip", "install", "--no-index", "--find-links", {str(wheels)!r}, *args]
        runpy.run_module("pip", run_name="__main__", alter_sys=True)
    """)
    )


def test_ansible_test_sanity(tmp_path: Path) -> None:
    """ansible-test sanity of the ansible-core under test, on the Python of its environment (2.21 on
    3.13 in the main suite)."""
    core, python = environment_versions()
    home = TEST_HOMES / f"core-{core}"
    home.mkdir(parents=True, exist_ok=True)
    prepare_pip_bootstrap(home)
    collection = copy_collection(tmp_path)
    env = clean_env(home, extra={"HOME": str(home)})
    sanity = subprocess.run(
        [str(ANSIBLE_BIN / "ansible-test"), "sanity", "--python", python, "--local", "--color", "no"],
        cwd=collection,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
    )
    problems = [line for line in (sanity.stdout + sanity.stderr).splitlines() if line.startswith(("ERROR", "FATAL"))]
    assert sanity.returncode == 0, "\n".join(problems) or sanity.stdout[-4000:] + sanity.stderr[-4000:]
