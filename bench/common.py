# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every benchmark shares: paths, the collection on sys.path, timed ansible runs."""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COLLECTIONS = ROOT / "build" / "collections"
MAIN_BIN = Path(sys.executable).parent


def ensure_collection() -> None:
    """Make the repository importable as ansible_collections.relaunch.status (as the tests do)."""
    link = COLLECTIONS / "ansible_collections" / "relaunch" / "status"
    if not link.exists():
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(ROOT, target_is_directory=True)
    if str(COLLECTIONS) not in sys.path:
        sys.path.insert(0, str(COLLECTIONS))


def ansible_env(workdir: Path, bin_dir: Path, extra: dict | None = None) -> dict:
    """A clean environment: no callback unless ``extra`` enables one, no .retry files."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("ANSIBLE_", "RELAUNCH_", "ARA_"))}
    env.update(
        {
            "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS),
            "ANSIBLE_HOME": str(workdir / ".ansible"),
            "ANSIBLE_LOCAL_TEMP": str(workdir / ".ansible" / "tmp"),
            "ANSIBLE_PYTHON_INTERPRETER": str(bin_dir / "python"),
            "ANSIBLE_HOST_KEY_CHECKING": "0",
            "ANSIBLE_RETRY_FILES_ENABLED": "0",
            "ANSIBLE_NOCOLOR": "1",
            "RELAUNCH_MANIFEST_DIR": str(workdir / ".relaunch"),
            "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        }
    )
    env.update(extra or {})
    return env


class RunFailed(RuntimeError):
    pass


def timed(command: list[str], cwd: Path, env: dict, timeout: float = 3600) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the command and its children) of one run; raises on failure."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    completed = subprocess.run(
        command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=timeout, check=False
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if completed.returncode != 0:
        tail = completed.stderr.decode("utf-8", "replace").strip().splitlines()[-5:]
        raise RunFailed(f"{' '.join(command[:3])}... exited {completed.returncode}: {' | '.join(tail)}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def machine() -> dict:
    """What the figures were measured on."""
    import platform

    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        from ansible.release import __version__ as ansible_version
    except ImportError:
        ansible_version = "?"
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "ansible_core": ansible_version,
    }
