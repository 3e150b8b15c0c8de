# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Under ansible-runner (no terminal, the callback enabled by environment), the manifest is written and usable."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import COLLECTIONS
from tests.ecosystem.collection import clean_env
from tests.fixtures import DEPLOY_INVENTORY, DEPLOY_SITE
from tests.runner import write_files

RUNNER = shutil.which("ansible-runner", path=str(Path(sys.executable).parent))

FILES = {"project/site.yml": DEPLOY_SITE, "inventory/hosts.yml": DEPLOY_INVENTORY}


def runner_hosts(private: Path, ident: str) -> set[str]:
    """Hosts that ran a task, from ansible-runner's own job events."""
    hosts = set()
    for path in (private / "artifacts" / ident / "job_events").glob("*.json"):
        event = json.loads(path.read_text())
        if event.get("event", "").startswith("runner_on_"):
            hosts.add(event["event_data"]["host"])
    return hosts


@pytest.mark.skipif(RUNNER is None, reason="ansible-runner is not installed (requirements-test.txt)")
def test_ansible_runner(tmp_path: Path) -> None:
    private = tmp_path / "private"
    manifests = tmp_path / "persistent" / "relaunch"
    write_files(private, FILES)
    # As in an execution environment: everything through env/envvars, the manifests on a persistent path.
    (private / "env").mkdir()
    (private / "env" / "envvars").write_text(
        json.dumps(
            {
                "ANSIBLE_CALLBACKS_ENABLED": "relaunch.status.manifest",
                "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS),
                "RELAUNCH_MANIFEST_DIR": str(manifests),
            }
        )
    )
    env = clean_env(tmp_path / "home", COLLECTIONS)
    del env["ANSIBLE_COLLECTIONS_PATH"]  # only what env/envvars says

    def runner(ident: str, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [RUNNER, "run", str(private), "-p", "site.yml", "--ident", ident, *args],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            stdin=subprocess.DEVNULL,
            timeout=300,
        )

    first = runner("first")
    assert first.returncode in (2, 4), first.stdout + first.stderr
    manifest = json.loads((manifests / "site" / "latest.json").read_text())
    failed = {host["name"] for host in manifest["hosts"] if "failed" in host["statuses"]}
    assert failed == {"web02", "cache01"}
    assert manifest["retry_counts"]["all"] == 3
    assert runner_hosts(private, "first") == {"web01", "web02", "cache01"}
    check_summary(first.stdout, manifests, manifest["run_id"])

    # The relaunch uses the limit file the first run wrote: only the failed hosts run.
    again = runner(
        "again", "--limit", f"@{manifests / 'site' / 'failed.limit'}", "--cmdline", "-e '{\"broken\": false}'"
    )
    assert again.returncode == 4, again.stdout + again.stderr  # web02 is fixed, cache01 still unreachable
    assert runner_hosts(private, "again") == {"web02", "cache01"}
    check_relaunch(manifests, manifest["run_id"])


def check_summary(stdout: str, manifests: Path, run_id: str) -> None:
    """The first run's summary names its own files by absolute paths, which paste from anywhere."""
    assert "RELAUNCH SUMMARY" in stdout
    # ansible-runner runs in private/project: the summary's paths are absolute, so they paste from anywhere.
    summary = stdout[stdout.index("RELAUNCH SUMMARY") :]
    own = manifests / "site" / f"{run_id}.json"
    assert summary.splitlines()[0] == f"RELAUNCH SUMMARY: {own}, merged into {manifests / 'site' / 'latest.json'}"
    pending = "to finish the rollout, relaunch on its pending hosts (failed or not run yet):\n"
    words = shlex.split(summary.split(pending, 1)[1].splitlines()[0])
    assert words[0] == "ansible-playbook"
    assert words[words.index("--limit") + 1] == f"@{manifests / 'site' / run_id}.pending.limit"
    assert Path(words[words.index("--limit") + 1][1:]).is_file()
    assert all(Path(word.lstrip("@")).is_absolute() for word in words if word.endswith((".yml", ".limit"))), words


def check_relaunch(manifests: Path, first_run_id: str) -> None:
    """The relaunch's own manifest holds what it ran; latest.json holds the rollout both runs made."""
    rollout = json.loads((manifests / "site" / "latest.json").read_text())
    relaunched = json.loads((manifests / "site" / f"{rollout['run_id']}.json").read_text())
    assert relaunched["run_id"] != first_run_id
    assert {host["name"] for host in relaunched["hosts"]} == {"web02", "cache01"}
    # What the limit file selected, and the --limit as given.
    assert relaunched["invocation"]["limit"] == "cache01,web02"
    assert relaunched["invocation"]["limit_given"] == f"@{manifests / 'site' / 'failed.limit'}"
    # The relaunch continued the first run's rollout: web01 keeps its entry, cache01 is still to do.
    assert rollout["rollout"] == {"started_by": first_run_id, "runs": 2}
    owners = {host["name"]: host["run_id"] for host in rollout["hosts"]}
    assert owners == {"web01": first_run_id, "web02": relaunched["run_id"], "cache01": relaunched["run_id"]}
    assert {host["name"] for host in rollout["hosts"] if "pending" in host["statuses"]} == {"cache01"}
