# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers for the reliability tests: ansible-playbook as a live process, and checks of a manifest store."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

from ansible_collections.relaunch.status.plugins.plugin_utils._core import store
from tests.runner import ANSIBLE_BIN, ansible_env

TERMINAL = ("ok", "changed", "failed", "skipped")


def _group_alive(pgid: int) -> bool:
    """Whether a process of the group ``pgid`` has not exited yet (a zombie has: it holds no file)."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8", errors="replace") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # exited meanwhile
        if fields[0] != "Z" and int(fields[2]) == pgid:
            return True
    return False


class Live:
    """An ansible-playbook process running in its own session (so a signal can reach its whole group)."""

    def __init__(
        self,
        workdir: Path,
        *args: str,
        playbook: str = "site.yml",
        env: dict | None = None,
        callback: bool = True,
        name: str = "run",
    ) -> None:
        self.workdir = workdir
        self.out_path = workdir / f"{name}.stdout"
        self.err_path = workdir / f"{name}.stderr"
        environment = ansible_env(workdir, env)
        if not callback:
            environment.pop("ANSIBLE_CALLBACKS_ENABLED")
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.process = subprocess.Popen(
                [str(ANSIBLE_BIN / "ansible-playbook"), *args, playbook],
                cwd=workdir,
                env=environment,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
            )
        self.pid = self.process.pid

    def signal(self, signum: int, group: bool = False) -> bool:
        """Send a signal; False when the run had already ended."""
        try:
            if group:
                os.killpg(self.pid, signum)
            else:
                os.kill(self.pid, signum)
        except ProcessLookupError:
            return False
        return self.process.poll() is None or self.process.returncode == -signum

    def kill(self) -> bool:
        """SIGKILL the ansible-playbook process, then whatever workers it left behind."""
        alive = self.process.poll() is None
        self.signal(signal.SIGKILL)
        self.wait()
        return alive

    def wait(self, timeout: float = 120) -> int:
        rc = self.process.wait(timeout)
        # Workers and modules left by a killed controller: the kill of a whole service.
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        # A killed process keeps its files open, and the journal's lock held, until it has exited; a worker forked
        # a moment before the kill still holds the journal it had no time to close. Whatever runs next must find
        # the group gone, as a later run would.
        deadline = time.monotonic() + timeout
        while _group_alive(self.pid) and time.monotonic() < deadline:
            time.sleep(0.005)
        return rc

    @property
    def stdout(self) -> str:
        return self.out_path.read_text(errors="replace")

    @property
    def stderr(self) -> str:
        return self.err_path.read_text(errors="replace")


def wait_for(predicate, timeout: float = 120, interval: float = 0.01, live: Live | None = None) -> None:
    """Poll until predicate() is true; fail if the run ends first or the time runs out."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if live is not None and live.process.poll() is not None:
            raise AssertionError(
                f"ansible-playbook ended (rc {live.process.returncode}) before the expected moment:\n"
                f"{live.stdout[-2000:]}\n{live.stderr[-2000:]}"
            )
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(interval)


def run_manifests(run_dir: Path) -> dict[str, bytes]:
    """Every run manifest of a run directory, by run id, as bytes."""
    found = {}
    if run_dir.is_dir():
        for path in run_dir.iterdir():
            if path.suffix == ".json" and store.layout.RUN_ID.match(path.stem):
                try:
                    found[path.stem] = path.read_bytes()
                except FileNotFoundError:
                    pass  # pruned meanwhile
    return found


def check_manifest(data: bytes, where: str) -> dict:
    """Parse and validate a manifest's bytes as every reader does; fail the test otherwise."""
    manifest = json.loads(data)
    store.validation.validate(manifest, where)
    assert isinstance(manifest["complete"], bool)
    names = [host["name"] for host in manifest["hosts"]]
    assert len(names) == len(set(names)), f"{where}: a host is listed twice"
    counts = {
        status: sum(status in host["statuses"] for host in manifest["hosts"]) for status in manifest["retry_counts"]
    }
    assert counts == manifest["retry_counts"], f"{where}: retry_counts do not match the hosts"
    return manifest


def check_store(run_dir: Path) -> dict | None:
    """What must hold in a run directory at any moment, even right after a SIGKILL.

    latest.json is absent or a valid manifest of the rollout, which names a kept run; every run
    manifest parses; temporary files are only dot-names that no reader picks up.
    Returns latest.json's manifest.
    """
    latest = None
    if (run_dir / "latest.json").exists():
        latest = check_manifest((run_dir / "latest.json").read_bytes(), "latest.json")
    manifests = run_manifests(run_dir)
    for run_id, data in manifests.items():
        manifest = check_manifest(data, run_id)
        assert manifest["run_id"] == run_id
    if latest is not None:
        # latest.json is the rollout's state: the newest run merged into it is kept, and a rollout of one run is
        # a copy of that run's manifest.
        assert latest["run_id"] in manifests, "latest.json names no kept run"
        if (latest.get("rollout") or {}).get("runs", 1) == 1:
            assert manifests[latest["run_id"]] == (run_dir / "latest.json").read_bytes()
    for path in run_dir.iterdir() if run_dir.is_dir() else ():
        if path.name.endswith(".tmp"):
            assert path.name.startswith("."), path.name
    return latest


def outcomes_printed(stdout: str) -> dict[str, dict[str, int]]:
    """Per host, how many results of each kind ansible-playbook's default output showed."""
    counts: dict[str, dict[str, int]] = {}
    for line in stdout.splitlines():
        for kind, prefix in (
            ("ok", "ok: ["),
            ("changed", "changed: ["),
            ("failed", "fatal: ["),
            ("skipped", "skipping: ["),
        ):
            if line.startswith(prefix):
                host = line[len(prefix) :].split("]", 1)[0]
                counts.setdefault(host, dict.fromkeys(TERMINAL, 0))[kind] += 1
    return counts
