# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every benchmark shares: paths, the collection on sys.path, timed ansible runs."""

from __future__ import annotations

import math
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from tests.ecosystem import versions
from tests.ecosystem.collection import ensure_venv

ROOT = Path(__file__).resolve().parents[1]
COLLECTIONS = ROOT / "build" / "collections"
MAIN_BIN = Path(sys.executable).parent
# The ansible-core lines measured side by side by default: 2.19 and the main venv's 2.21.
CORES = ("2.19", "2.21")


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
    # Python's default, as on a user's machine: plugin files that ansible-core loads by path (the callback, the
    # lookup, doc fragments) keep their bytecode in __pycache__ from the second run on. plugin_utils modules are
    # compiled from source on every run whatever this says (ansible-core's collection loader has no bytecode cache).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
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
        command,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        timeout=timeout,
        check=False,
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


def spread(values: list[float]) -> list[float]:
    """[lowest, highest] of a list of samples (empty for none)."""
    return [round(min(values), 4), round(max(values), 4)] if values else []


def median_interval(values: list[float], confidence: float = 0.95) -> list[float]:
    """[low, high]: a confidence interval of the median of ``values``, free of any assumption on their distribution.

    The k-th lowest and the k-th highest sample, k the largest with P(Binomial(n, 1/2) < k) <= (1 - confidence) / 2
    (for 15 samples the 4th and the 12th, 96.5%). Empty when there are too few samples for one.
    """
    n = len(values)
    tail = (1 - confidence) / 2
    below = 0.0  # P(Binomial(n, 1/2) < k)
    k = 0
    while k < n:
        below += math.comb(n, k) / 2**n
        if below > tail:
            break
        k += 1
    if k == 0:
        return []
    ordered = sorted(values)
    return [round(ordered[k - 1], 4), round(ordered[n - k], 4)]


def ratio_stats(values: list[tuple[float, float]], base: list[tuple[float, float]]) -> dict:
    """Medians of an arm's (wall, CPU) runs, and of its ratios to the baseline runs of the same rounds, with their
    spread and the 95% confidence interval of the median ratio."""
    wall_ratios = [wall / ref[0] for (wall, _cpu), ref in zip(values, base)]
    cpu_ratios = [cpu / ref[1] for (_wall, cpu), ref in zip(values, base)]
    return {
        "runs": len(values),
        "wall_s": median([wall for wall, _cpu in values]),
        "cpu_s": median([cpu for _wall, cpu in values]),
        "wall_ratio": median(wall_ratios),
        "cpu_ratio": median(cpu_ratios),
        "wall_ratio_spread": spread(wall_ratios),
        "cpu_ratio_spread": spread(cpu_ratios),
        "wall_ratio_ci": median_interval(wall_ratios),
        "cpu_ratio_ci": median_interval(cpu_ratios),
        "wall_samples": [round(wall, 4) for wall, _cpu in values],
        "cpu_samples": [round(cpu, 4) for _wall, cpu in values],
    }


def record_run(
    apply: Callable[[dict], None],
    names: list[str],
    results: Iterable[tuple[str, str]],
    *,
    run_id: str,
    started: str,
    playbook: str = "site.yml",
    ansible_version: str = "2.21.0",
    limit: str = "",
    identity: Callable[[int], str] = lambda index: f"asset-{index:05d}",
    task: str = "Deploy",
    action: str = "ansible.builtin.command",
) -> None:
    """The events of one recorded run of one play and one task, as the callback sends them, given to ``apply``
    (a Recorder's ``apply``, or a PlaybookRun's ``emit``, which journals them too): the start, each host with its
    identity, the play over ``names``, one result per host (``results``: its outcome and message, in the order
    of ``names``) and ansible-core's verdict (the failed and unreachable hosts). No stats event: the end of the
    run is the caller's."""
    apply(
        {
            "e": "start",
            "run_id": run_id,
            "playbook": playbook,
            "started": started,
            "check_mode": False,
            "ansible_version": ansible_version,
            "invocation": {"limit": limit, "inventory": ["inventory.yml"], "tags": [], "skip_tags": []},
            "passwords_needed_to_start": [],
        }
    )
    for index, name in enumerate(names):
        apply({"e": "host", "name": name, "identity": identity(index), "identity_var": "relaunch_id"})
    apply({"e": "play", "name": "Deploy", "batch": list(names), "pending": []})
    failed = []
    for name, (outcome, message) in zip(names, results):
        if outcome in ("failed", "unreachable"):
            failed.append(name)
        apply(
            {
                "e": "result",
                "host": name,
                "outcome": outcome,
                "ignored": False,
                "rescued": False,
                "play": "Deploy",
                "task": task,
                "action": action,
                "msg": message,
            }
        )
    apply({"e": "verdict", "failed": failed})


def load_average() -> list[float]:
    """The machine's 1-, 5- and 15-minute load averages: how busy it was while measuring."""
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except OSError:
        return []


def make_venv(venv: Path, requirements: list[str], check: str) -> str | None:
    """A venv with ``requirements``, made once; ``check`` is Python code that succeeds when it is ready.

    None when it is ready, else why not.
    """
    python = venv / "bin" / "python"
    if python.exists() and subprocess.run([str(python), "-c", check], capture_output=True, check=False).returncode == 0:
        return None
    try:
        interpreter = versions.find_python(versions.NEWEST)
    except LookupError as exc:
        return str(exc)
    try:
        subprocess.run([interpreter, "-m", "venv", "--clear", str(venv)], check=True, capture_output=True)
        pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, *requirements], check=True, capture_output=True, timeout=1800)
    except (OSError, subprocess.SubprocessError) as exc:
        stderr = getattr(exc, "stderr", b"") or b""
        return (
            f"{' '.join(requirements)} did not install: "
            f"{stderr.decode('utf-8', 'replace').strip().splitlines()[-1:] or exc}"
        )
    if subprocess.run([str(python), "-c", check], capture_output=True, check=False).returncode != 0:
        return f"{' '.join(requirements)} installed in {venv} but does not work"
    return None


def core_line(version: str) -> str:
    """ "2.21" of "2.21.5"."""
    return ".".join(version.split(".")[:2])


def main_core() -> str:
    from ansible.release import __version__

    return core_line(__version__)


def ensure_cores(lines: list[str]) -> dict[str, Path]:
    """The bin directory of an ansible-core of each line: the main venv's, or the version environment the tests use."""
    cores = {}
    for line in lines:
        if line == main_core():
            cores[line] = MAIN_BIN
            continue
        try:
            cores[line] = ensure_venv(f"core-{line}", versions.requirements(line), versions.find_python(line))
        except (LookupError, KeyError, OSError, subprocess.SubprocessError) as exc:
            raise SystemExit(f"bench: ansible-core {line}: {exc}") from None
    return cores


def core_versions(cores: dict[str, Path]) -> dict[str, dict]:
    """The exact ansible-core and Python of each measured line."""
    script = "import ansible.release, platform; print(ansible.release.__version__, platform.python_version())"
    versions = {}
    for line, bin_dir in cores.items():
        completed = subprocess.run([str(bin_dir / "python"), "-c", script], capture_output=True, text=True, check=True)
        ansible_version, python_version = completed.stdout.split()
        versions[line] = {"ansible_core": ansible_version, "python": python_version}
    return versions


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
