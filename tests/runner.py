# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run real ansible-playbook in a scratch directory, the way a user does, and read what it left."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.conftest import COLLECTIONS

# Another ansible-core (tox/nox environments) can be tested by pointing here to its bin directory.
ANSIBLE_BIN = Path(os.environ.get("RELAUNCH_TEST_ANSIBLE_BIN") or Path(sys.executable).parent)


def ansible_env(workdir: Path, extra: dict | None = None) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("ANSIBLE_") and not key.startswith("RELAUNCH_")
    }
    env.update(
        {
            "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS),
            "ANSIBLE_CALLBACKS_ENABLED": "relaunch.status.manifest",
            "ANSIBLE_RETRY_FILES_ENABLED": "1",
            "ANSIBLE_HOST_KEY_CHECKING": "0",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_HOME": str(workdir / ".ansible"),
            "ANSIBLE_LOCAL_TEMP": str(workdir / ".ansible" / "tmp"),
            "ANSIBLE_PYTHON_INTERPRETER": str(ANSIBLE_BIN / "python"),
            "ANSIBLE_DEPRECATION_WARNINGS": "1",
            "PATH": f"{ANSIBLE_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        }
    )
    env.update(extra or {})
    return env


class Run:
    """The outcome of one ansible-playbook run in ``workdir``."""

    def __init__(self, workdir: Path, playbook: str, completed: subprocess.CompletedProcess) -> None:
        self.workdir = workdir
        self.playbook = playbook
        self.rc = completed.returncode
        self.stdout = completed.stdout
        self.stderr = completed.stderr
        self.stem = Path(playbook).stem

    @property
    def run_dir(self) -> Path:
        return self.workdir / ".relaunch" / self.stem

    def manifest(self) -> dict:
        """The rollout as this run left it: latest.json, or for a dry run (``--check``), which leaves latest.json
        unchanged, the run's own manifest."""
        own = self.run_manifest()
        return own if own["check_mode"] else json.loads((self.run_dir / "latest.json").read_text())

    def run_manifest(self) -> dict:
        """The newest run's own manifest (``<run id>.json``), also when it did not become latest.json."""
        runs = sorted(path for path in self.run_dir.glob("*.json") if path.name != "latest.json")
        return json.loads(runs[-1].read_text())

    def retry(self) -> set[str]:
        """Names in ansible-core's own .retry file; empty when it wrote none."""
        path = self.workdir / f"{self.stem}.retry"
        return set(path.read_text().split("\n")) - {""} if path.exists() else set()

    def with_status(self, status: str) -> set[str]:
        """The hosts of the rollout (see :meth:`manifest`) in ``status``."""
        return {host["name"] for host in self.manifest()["hosts"] if status in host["statuses"]}

    def ran_with_status(self, status: str) -> set[str]:
        """The hosts in ``status`` in this run's own manifest, which is what ansible-core's .retry file is about."""
        return {host["name"] for host in self.run_manifest()["hosts"] if status in host["statuses"]}

    def limit_file(self, status: str) -> Path:
        return self.run_dir / f"{status}.limit"


# The limit file of the rollout's pending hosts right after one run, as the summary of that run names it.
RUN_LIMIT_FILE = r"\d{8}T\d{12}Z-\d+-[0-9a-f]{4}\.pending\.limit"


def write_files(workdir: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = workdir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))


def ansible_playbook(
    workdir: Path, *args: str, playbook: str = "site.yml", env: dict | None = None, timeout: int = 300
) -> Run:
    """Run ansible-playbook with the callback on and .retry files written beside the playbook."""
    command = [str(ANSIBLE_BIN / "ansible-playbook"), *args, playbook]
    completed = subprocess.run(
        command,
        cwd=workdir,
        env=ansible_env(workdir, env),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    return Run(workdir, playbook, completed)
