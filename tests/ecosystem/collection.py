# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the ecosystem tests share: the collection's files, its plugins, and a clean Ansible environment."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.runner import ANSIBLE_BIN

ROOT = Path(__file__).resolve().parents[2]
FQCN = "relaunch.status"

# plugins/<directory> -> ansible-doc plugin type.
PLUGIN_TYPES = {
    "callback": "callback",
    "lookup": "lookup",
    "modules": "module",
    "inventory": "inventory",
    "filter": "filter",
    "test": "test",
    "connection": "connection",
    "become": "become",
    "vars": "vars",
    "strategy": "strategy",
    "cache": "cache",
}


def plugins(root: Path = ROOT) -> list[tuple[str, str]]:
    """(ansible-doc type, FQCN) of every documented plugin and role the collection has now."""
    found = []
    for directory, plugin_type in PLUGIN_TYPES.items():
        for path in sorted((root / "plugins" / directory).glob("*.py")):
            if path.name != "__init__.py":
                found.append((plugin_type, f"{FQCN}.{path.stem}"))
    for role in sorted((root / "roles").glob("*/")):
        if (role / "tasks").is_dir() or (role / "meta" / "argument_specs.yml").exists():
            found.append(("role", f"{FQCN}.{role.name}"))
    return found


def collection_files(root: Path = ROOT) -> list[str]:
    """The collection's files: tracked ones, plus new ones not yet committed nor ignored."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=root,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return sorted(name for name in listed.split("\0") if name and (root / name).is_file())


def copy_collection(destination: Path) -> Path:
    """Copy the collection's files to <destination>/ansible_collections/relaunch/status, as ansible-test wants it."""
    target = destination / "ansible_collections" / "relaunch" / "status"
    for name in collection_files():
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target / name)
    return target


def clean_env(
    home: Path, collections_path: Path | None = None, extra: dict | None = None, bin_dir: Path = ANSIBLE_BIN
) -> dict:
    """The environment of a user shell: no ANSIBLE_*/RELAUNCH_* from ours, only ``collections_path`` for collections."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("ANSIBLE_", "RELAUNCH_", "PYTHON"))}
    env.update(
        {
            "HOME": str(home),
            "ANSIBLE_HOME": str(home / ".ansible"),
            "ANSIBLE_LOCAL_TEMP": str(home / ".ansible" / "tmp"),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_HOST_KEY_CHECKING": "0",
            "ANSIBLE_PYTHON_INTERPRETER": str(bin_dir / "python"),
            # Only the given path: never the working tree, never site-packages.
            "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "0",
            "ANSIBLE_COLLECTIONS_PATH": str(collections_path or home / "no-collections"),
            "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        }
    )
    env.update(extra or {})
    return env


# Tools that must not change the main virtual environment (ansible-lint, older ansible-core) get their own,
# created on first use and rebuilt when what they should hold changes.
VENVS = Path(os.environ.get("RELAUNCH_TEST_VENVS") or ROOT / "build" / "venvs")


def ensure_venv(name: str, requirements: list[str], python: str = sys.executable) -> Path:
    """The bin directory of virtual environment ``name`` made by ``python`` and holding
    ``requirements``, created when missing."""
    venv = VENVS / name
    wanted = f"# python: {python}\n" + "\n".join(requirements) + "\n"
    stamp = venv / "relaunch-requirements.txt"
    VENVS.mkdir(parents=True, exist_ok=True)
    with open(VENVS / f".{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # pytest-xdist workers may ask for the same one at once
        if stamp.exists() and stamp.read_text() == wanted and (venv / "bin" / "python").exists():
            return venv / "bin"
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([python, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [
                str(venv / "bin" / "python"),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                *requirements,
            ],
            check=True,
            capture_output=True,
        )
        stamp.write_text(wanted)
    return venv / "bin"
