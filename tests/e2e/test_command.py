# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``ansible-relaunch run`` end to end: real ansible-playbook attempts on local inventories.

Each host's work is a ``raw`` command from its inventory variable ``work``: a flaky host fails once (it leaves
``flaky.done``), a broken host fails while ``broken.flag`` exists. The command runs as the tests run it from this
checkout: ``python -m ansible_collections.relaunch.status.plugins.plugin_utils._cli``.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pexpect
import pytest
import yaml

from tests.conftest import COLLECTIONS, ROOT
from tests.fixtures import UNREACHABLE_VARS
from tests.runner import ANSIBLE_BIN, ansible_env, ansible_playbook, write_files

CLI = "ansible_collections.relaunch.status.plugins.plugin_utils._cli"
FLAKY = "test -e flaky.done || { touch flaky.done; exit 1; }"
BROKEN = "test ! -e broken.flag"
SITE = """
- name: Site
  hosts: all
  gather_facts: false
  tasks:
    - name: Work
      ansible.builtin.raw: "{{ work | default('true') }}"
      changed_when: false
    - name: Fail where asked
      ansible.builtin.fail:
        msg: asked to fail
      when: fail_here | default(false) | bool
"""


def inventory(**hosts: str) -> str:
    """A local inventory: each host runs its ``work`` and has the identity ``id-<name>``."""
    lines = ["all:", "  vars:", "    ansible_connection: local", "  children:", "    web:", "      hosts:"]
    for name, work in hosts.items():
        lines.append(f"        {name}: {{relaunch_id: id-{name.replace('_', '-')}, work: {json.dumps(work)}}}")
    return "\n".join(lines) + "\n"


def project(workdir: Path, **hosts: str) -> None:
    write_files(workdir, {"site.yml": SITE, "inventory.yml": inventory(**hosts)})


def command_env(workdir: Path, extra: dict | None = None) -> dict:
    """The tests' ansible environment, without the callback enabled: the command enables it for its runs."""
    env = ansible_env(workdir, {"PYTHONPATH": str(COLLECTIONS), "RELAUNCH_IDENTITY_VARS": "relaunch_id"})
    del env["ANSIBLE_CALLBACKS_ENABLED"]
    env.update(extra or {})
    return env


def relaunch(workdir: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run ``ansible-relaunch run ARGS`` from this checkout in ``workdir``."""
    return subprocess.run(
        [str(ANSIBLE_BIN / "python"), "-m", CLI, "run", *args],
        cwd=workdir,
        env=command_env(workdir, env),
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def run_manifests(workdir: Path) -> list[dict]:
    """The run manifests of site.yml, oldest first."""
    run_dir = workdir / ".relaunch" / "site"
    paths = sorted(path for path in run_dir.glob("*.json") if path.name != "latest.json")
    return [json.loads(path.read_text()) for path in paths]


def hosts_of(manifest: dict) -> dict[str, list[str]]:
    return {host["name"]: host["statuses"] for host in manifest["hosts"]}


def test_flaky_host_recovers_on_attempt_2_and_json_agrees(tmp_path):
    project(tmp_path, ok1="true", flaky=FLAKY)
    done = relaunch(tmp_path, "--attempts", "3", "--json", "rollout.json", "--", "-i", "inventory.yml", "site.yml")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    manifests = run_manifests(tmp_path)  # the callback ran without any ansible.cfg or environment setting
    assert [sorted(hosts_of(manifest)) for manifest in manifests] == [["flaky", "ok1"], ["flaky"]]
    assert "failed" in hosts_of(manifests[0])["flaky"] and "ok" in hosts_of(manifests[1])["flaky"]
    assert "flaky on attempt 2" in done.stdout and "nothing pending" in done.stdout

    document = json.loads((tmp_path / "rollout.json").read_text())
    assert document["exit_code"] == 0 and document["pending"] == [] and document["continue"] is None
    assert document["recovered"] == [{"name": "flaky", "attempt": 2}]
    assert [attempt["run_id"] for attempt in document["attempts"]] == [m["run_id"] for m in manifests]
    assert [attempt["hosts"] for attempt in document["attempts"]] == [sorted(hosts_of(m)) for m in manifests]
    assert [attempt["counts"] for attempt in document["attempts"]] == [m["retry_counts"] for m in manifests]
    assert [attempt["rc"] for attempt in document["attempts"]] == [2, 0]


def test_callbacks_of_ansible_cfg_stay_enabled(tmp_path):
    project(tmp_path, ok1="true", flaky=FLAKY)
    (tmp_path / "ansible.cfg").write_text("[defaults]\ncallbacks_enabled = ansible.builtin.junit\n")
    done = relaunch(
        tmp_path, "--", "-i", "inventory.yml", "site.yml", env={"JUNIT_OUTPUT_DIR": str(tmp_path / "junit")}
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(run_manifests(tmp_path)) == 2  # the manifest callback, added for the command's runs
    assert len(list((tmp_path / "junit").glob("*.xml"))) == 2  # and the one ansible.cfg enables


def test_broken_host_fails_after_the_attempts_then_resume_after_a_fix(tmp_path):
    project(tmp_path, ok1="true", broken=BROKEN)
    (tmp_path / "broken.flag").touch()
    args = ("--", "-i", "inventory.yml", "site.yml")
    done = relaunch(tmp_path, "--attempts", "2", "--json", "rollout.json", *args)
    assert done.returncode == 2, done.stdout + done.stderr
    assert [sorted(hosts_of(manifest)) for manifest in run_manifests(tmp_path)] == [["broken", "ok1"], ["broken"]]
    document = json.loads((tmp_path / "rollout.json").read_text())
    assert [pending["name"] for pending in document["pending"]] == ["broken"]
    assert document["pending"][0]["first_failure"]["task"] == "Work"
    assert document["pending"][0]["attempt"] == 1
    continued = "ansible-relaunch run --resume --attempts 2 --json rollout.json -- -i inventory.yml site.yml"
    assert document["continue"] == continued and continued in done.stdout

    (tmp_path / "broken.flag").unlink()  # the fix
    resumed = relaunch(tmp_path, "--resume", *args)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    manifests = run_manifests(tmp_path)
    assert len(manifests) == 3 and sorted(hosts_of(manifests[-1])) == ["broken"]

    again = relaunch(tmp_path, "--resume", *args)  # nothing pending: no run, no error
    assert again.returncode == 0, again.stdout + again.stderr
    assert len(run_manifests(tmp_path)) == 3 and "nothing pending" in again.stdout


def test_retry_unreachable_only(tmp_path):
    write_files(
        tmp_path,
        {
            "site.yml": SITE,
            "inventory.yml": inventory(ok1="true", broken=BROKEN)
            + f"    cache:\n      hosts:\n        cache01: {{{UNREACHABLE_VARS}}}\n",
        },
    )
    (tmp_path / "broken.flag").touch()
    done = relaunch(tmp_path, "--attempts", "2", "--retry", "unreachable", "--", "-i", "inventory.yml", "site.yml")
    manifests = run_manifests(tmp_path)
    assert [sorted(hosts_of(manifest)) for manifest in manifests] == [["broken", "cache01", "ok1"], ["cache01"]]
    assert "unreachable" in hosts_of(manifests[-1])["cache01"]
    assert done.returncode == 4, done.stdout + done.stderr  # the last attempt's own exit code


def test_never_beyond_the_first_attempts_hosts(tmp_path):
    project(tmp_path, ok1="true", flaky=FLAKY, broken=BROKEN)
    (tmp_path / "broken.flag").touch()
    # An older run leaves broken failed; the command's first attempt runs on flaky and ok1 only.
    first = ansible_playbook(tmp_path, "-i", "inventory.yml", env={"RELAUNCH_IDENTITY_VARS": "relaunch_id"})
    assert first.rc == 2 and first.with_status("failed") == {"broken", "flaky"}
    (tmp_path / "flaky.done").unlink()
    done = relaunch(tmp_path, "--attempts", "3", "--", "-i", "inventory.yml", "--limit", "ok1,flaky", "site.yml")
    assert done.returncode == 0, done.stdout + done.stderr
    assert [sorted(hosts_of(m)) for m in run_manifests(tmp_path)[1:]] == [["flaky", "ok1"], ["flaky"]]


def test_host_renamed_between_attempts(tmp_path):
    # The host fails once and renames itself in the inventory: attempt 2 finds it by its relaunch_id.
    rename = "test -e renamed.done || { touch renamed.done; sed -i s/old_name/new_name/ inventory.yml; exit 1; }"
    project(tmp_path, ok1="true", old_name=rename)
    done = relaunch(tmp_path, "--attempts", "2", "--json", "rollout.json", "--", "-i", "inventory.yml", "site.yml")
    assert done.returncode == 0, done.stdout + done.stderr
    manifests = run_manifests(tmp_path)
    assert [sorted(hosts_of(manifest)) for manifest in manifests] == [["ok1", "old_name"], ["new_name"]]
    assert manifests[1]["hosts"][0]["identity"] == "id-old-name"
    document = json.loads((tmp_path / "rollout.json").read_text())
    assert document["recovered"] == [{"name": "new_name", "attempt": 2}]


def test_check_mode_is_passed_through(tmp_path):
    project(tmp_path, ok1="true")
    args = ("--", "-i", "inventory.yml", "--check", "-e", "fail_here=true", "site.yml")
    done = relaunch(tmp_path, "--attempts", "2", *args)
    assert done.returncode == 2, done.stdout + done.stderr
    # A dry run changes no rollout, so retrying it would run the same hosts again: it is made once.
    manifests = run_manifests(tmp_path)
    assert len(manifests) == 1 and manifests[0]["check_mode"], done.stdout
    assert "dry run" in done.stdout and not (tmp_path / ".relaunch" / "site" / "latest.json").exists()
    assert "continue with: ansible-relaunch run --resume --attempts 2 -- -i inventory.yml --check" in done.stdout


@pytest.mark.parametrize(
    ("signum", "group"), [(signal.SIGINT, True), (signal.SIGTERM, False)], ids=["ctrl-c", "sigterm-to-the-command"]
)
def test_interrupted_during_attempt_2(tmp_path, signum, group):
    slow_second = "if test -e first.done; then touch started.flag; sleep 60; else touch first.done; exit 1; fi"
    project(tmp_path, ok1="true", slow=slow_second)
    process = subprocess.Popen(
        [str(ANSIBLE_BIN / "python"), "-m", CLI, "run", "--attempts", "3", "--", "-i", "inventory.yml", "site.yml"],
        cwd=tmp_path,
        env=command_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    deadline = time.monotonic() + 120
    while not (tmp_path / "started.flag").exists():
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.2)
    time.sleep(1)
    # Ctrl-C reaches the terminal's whole process group; a CI system may signal the command alone.
    (os.killpg if group else os.kill)(process.pid, signum)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stdout + stderr
    assert "Traceback" not in stderr
    manifests = run_manifests(tmp_path)
    assert len(manifests) == 2 and manifests[-1]["complete"] is False
    assert sorted(hosts_of(manifests[-1])) == ["slow"]
    assert "continue with: ansible-relaunch run --resume -- -i inventory.yml site.yml" in stdout


def vaulted(text: str, password: str, label: str | None) -> str:
    from ansible.parsing.vault import VaultLib, VaultSecret

    secret = VaultSecret(password.encode())
    return VaultLib([(label or "default", secret)]).encrypt(text, secret, vault_id=label).decode()


@pytest.mark.parametrize(
    ("options", "prompts", "label"),
    [
        (("-K",), 1, None),
        (("-k", "-K"), 2, None),
        (("--ask-vault-pass", "-e", "@secret.yml"), 1, None),
        (("--vault-id", "dev@prompt", "-e", "@secret.yml"), 1, "dev"),
    ],
    ids=["become", "ssh-and-become", "vault", "vault-id"],
)
def test_passwords_asked_once_and_written_nowhere(tmp_path, options, prompts, label):
    secret = "pw-" + secrets.token_hex(12)  # made here: not even this file holds it
    project(tmp_path, ok1="true", flaky=FLAKY)
    # A vaulted extra vars file: the run fails to start unless the vault password reached every attempt.
    (tmp_path / "secret.yml").write_text(vaulted("unlocked: true\n", secret, label))
    # The command's temporary directory, short: ansible-core puts a unix socket (at most 107 bytes) under it.
    with tempfile.TemporaryDirectory(prefix="rl-") as scratch:
        assert ask_once(tmp_path, secret, Path(scratch), options) == prompts


def ask_once(tmp_path: Path, secret: str, scratch: Path, options: tuple[str, ...]) -> int:
    """Run the command with password ``options`` and answer its prompts; returns how many there were."""
    child = pexpect.spawn(
        str(ANSIBLE_BIN / "python"),
        ["-m", CLI, "run", "--attempts", "3", "--", "-i", "inventory.yml", *options, "site.yml"],
        cwd=str(tmp_path),
        env=command_env(tmp_path, {"TMPDIR": str(scratch)}),
        encoding="utf-8",
        timeout=300,
    )
    prompts = 0
    while child.expect([r"(SSH|BECOME|Vault) password[^\n]*: ?$", pexpect.EOF]) == 0:
        prompts += 1
        child.sendline(secret)
    child.close()
    assert child.exitstatus == 0, child.before
    assert len(run_manifests(tmp_path)) == 2
    assert_nowhere(secret, tmp_path, scratch)
    return prompts


def assert_nowhere(secret: str, tmp_path: Path, scratch: Path) -> None:
    """The secret is in no file of the project, the manifest directory (in tmp_path) or the temporary directory."""
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    project_files = [ROOT / name for name in listed.stdout.splitlines()]
    for path in [*tmp_path.rglob("*"), *scratch.rglob("*"), *project_files]:
        if path.is_file() and not path.is_symlink():
            assert secret.encode() not in path.read_bytes(), path


# --- docs/ci.md: each recipe's shell lines, run as the doc gives them ------------------------------------------


def ci_recipes() -> dict[str, list[str]]:
    """The shell commands of each CI recipe in docs/ci.md, by CI system."""
    text = (ROOT / "docs" / "ci.md").read_text()
    blocks = dict(re.findall(r"<!-- recipe: (\S+) -->\s*```\w+\n(.*?)```", text, re.S))
    recipes = {}
    github = yaml.safe_load(blocks["github"])
    recipes["github"] = [step["run"] for job in github["jobs"].values() for step in job["steps"] if "run" in step]
    gitlab = yaml.safe_load(blocks["gitlab"])
    recipes["gitlab"] = [line for job in gitlab.values() if isinstance(job, dict) for line in job.get("script", [])]
    recipes["jenkins"] = re.findall(r"sh '(.*?)'", blocks["jenkins"])
    return recipes


@pytest.mark.parametrize("system", ["github", "gitlab", "jenkins"])
def test_ci_recipe(tmp_path, system):
    # The install steps are the packaging's own tests; here, the steps that run the command.
    commands = [command for command in ci_recipes()[system] if "ansible-relaunch" in command]
    assert any("ansible-relaunch run --attempts 3" in command for command in commands), commands
    assert any("--resume" in command for command in commands), commands
    project(tmp_path, ok1="true", broken=BROKEN)
    (tmp_path / "broken.flag").touch()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "ansible-relaunch"
    shim.write_text(f'#!/bin/sh\nexec "{ANSIBLE_BIN / "python"}" -m {CLI} "$@"\n')
    shim.chmod(0o755)
    env = command_env(tmp_path)
    env["PATH"] = f"{bin_dir}{os.pathsep}{ANSIBLE_BIN}{os.pathsep}{os.environ['PATH']}"
    results = []
    for command in commands:
        if "--resume" in command:
            (tmp_path / "broken.flag").unlink(missing_ok=True)  # the fix, between the two jobs
        done = subprocess.run(
            ["bash", "-eo", "pipefail", "-c", command],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        results.append(done.returncode)
    assert results[-1] == 0, results
    assert results[0] == 2, results  # the first job fails: broken is still broken after 3 attempts
    manifests = run_manifests(tmp_path)
    assert sorted(hosts_of(manifests[-1])) == ["broken"] and "ok" in hosts_of(manifests[-1])["broken"]
