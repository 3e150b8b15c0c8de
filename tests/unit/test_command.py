# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The command line as plain data: the passwords a run prompted for and the command that relaunches it."""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

import pytest

from ansible_collections.relaunch.status.plugins.plugin_utils._core.command import (
    CommandLine,
    front_end,
    passwords_needed_to_start,
    relaunch_command,
)

# (command-line options as ansible-core's CLIARGS holds them, configured vault ids, default identity, names)
PASSWORDS = [
    ({"become_ask_pass": True}, (), "default", ["become_password"]),
    ({"ask_pass": True}, (), "default", ["ssh_password"]),
    ({"ask_pass": True, "become_ask_pass": True}, (), "default", ["ssh_password", "become_password"]),
    ({"ask_vault_pass": True}, (), "default", ["vault_password"]),
    ({"vault_ids": ["@prompt"]}, (), "default", ["vault_password"]),
    ({"vault_ids": ["prompt"]}, (), "default", ["vault_password"]),
    ({"vault_ids": ["dev@prompt"]}, (), "default", ["vault_password.dev"]),
    ({"vault_ids": ["dev@prompt", "prod@prompt"]}, (), "default", ["vault_password.dev", "vault_password.prod"]),
    ({"vault_ids": ["file@vault.txt"]}, (), "default", []),
    ({"vault_ids": ["a@b@prompt"]}, (), "default", []),  # split on the first "@": a file named b@prompt
    ({"ask_vault_pass": True, "vault_ids": ["dev@prompt"]}, (), "default", ["vault_password.dev", "vault_password"]),
    ({}, ("ops@prompt",), "default", ["vault_password.ops"]),
    ({"ask_vault_pass": True}, (), "prod", ["vault_password"]),
    ({"ask_vault_pass": True, "vault_ids": ["prompt"]}, (), "default", ["vault_password"]),  # named once
]


@pytest.mark.parametrize(("args", "configured", "default", "needed"), PASSWORDS)
def test_passwords_needed_to_start(args: dict, configured: tuple, default: str, needed: list) -> None:
    assert passwords_needed_to_start(CommandLine.from_args(args), configured, default) == needed


def test_a_command_line_is_read_from_cliargs_as_plain_texts() -> None:
    line = CommandLine.from_args(
        {"inventory": ("inv.yml",), "tags": ("a", "b"), "check": 1, "extra_vars": ("x=1",), "subset": "web"}
    )
    assert line == CommandLine(inventory=("inv.yml",), tags=("a", "b"), check=True, extra_vars=True)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("site.yml", "inventory.yml", "vault.txt", ".relaunch/site/failed.limit"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def limit_file(project: Path) -> str:
    return str(project / ".relaunch" / "site" / "failed.limit")


def test_the_command_keeps_the_options_a_relaunch_needs(project: Path) -> None:
    line = CommandLine.from_args(
        {
            "inventory": [str(project / "inventory.yml"), "web1,web2,"],
            "tags": ["all"],
            "skip_tags": ["slow", "net"],
            "check": True,
            "become_ask_pass": True,
            "vault_ids": ["dev@prompt"],
            "vault_password_files": [str(project / "vault.txt")],
            "become_password_file": "become.txt",  # not there: shown as given
        }
    )
    words = shlex.split(relaunch_command(str(project / "site.yml"), [limit_file(project)], line))
    assert words == [
        "ansible-playbook",
        *("-i", "inventory.yml", "-i", "web1,web2,"),
        "site.yml",
        *("--skip-tags", "slow,net", "--check", "-K", "--vault-id", "dev@prompt"),
        *("--vault-password-file", "vault.txt", "--become-password-file", "become.txt"),
        *("--limit", "@.relaunch/site/failed.limit"),
    ]


def test_several_limit_files_are_one_limit(project: Path) -> None:
    other = project / ".relaunch" / "site" / "not_run.limit"
    other.write_text("x\n")
    words = shlex.split(relaunch_command("site.yml", [limit_file(project), str(other)], CommandLine()))
    assert words[-2:] == ["--limit", "@.relaunch/site/failed.limit,@.relaunch/site/not_run.limit"]


def test_paths_are_relative_to_the_current_directory(project: Path) -> None:
    os.chdir(project / ".relaunch")
    words = shlex.split(relaunch_command(str(project / "site.yml"), [limit_file(project)], CommandLine()))
    assert words == ["ansible-playbook", "../site.yml", "--limit", "@site/failed.limit"]


def test_a_command_with_extra_vars_pastes_into_a_shell(project: Path) -> None:
    """The values of -e are not repeated (they may be secrets); the reminder is a shell comment."""
    command = relaunch_command("site.yml", [limit_file(project)], CommandLine.from_args({"extra_vars": ["a=1"]}))
    assert command.endswith("  # plus your -e options")
    checked = subprocess.run(["bash", "-n", "-c", command], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stderr
    assert shlex.split(command, comments=True)[-2:] == ["--limit", "@.relaunch/site/failed.limit"]


# The environment each front end gives ansible-playbook (ansible-runner 2.4 config/_base.py and config/runner.py;
# ansible-navigator 26 runs through ansible-runner's run_command and passes ANSIBLE_* variables on).
RUNNER_ENV = {"AWX_ISOLATED_DATA_DIR": "/srv/private/artifacts/first", "RUNNER_OMIT_EVENTS": "False"}
NAVIGATOR_ENV = {"AWX_ISOLATED_DATA_DIR": "/home/me/project/artifacts/x", "ANSIBLE_NAVIGATOR_MODE": "stdout"}
NAVIGATOR_EE_ENV = {"AWX_ISOLATED_DATA_DIR": "/runner/artifacts/x"}


def test_under_ansible_runner_paths_are_absolute(project: Path) -> None:
    line = CommandLine.from_args({"inventory": [str(project / "inventory.yml")]})
    command = relaunch_command(str(project / "site.yml"), [limit_file(project)], line, front_end(RUNNER_ENV))
    assert shlex.split(command) == [
        "ansible-playbook",
        *("-i", str(project / "inventory.yml"), str(project / "site.yml")),
        *("--limit", "@" + limit_file(project)),
    ]


@pytest.mark.parametrize(("env", "trailing"), [(NAVIGATOR_ENV, ["--ee", "false"]), (NAVIGATOR_EE_ENV, [])])
def test_under_ansible_navigator_the_command_is_navigators(project: Path, env: dict, trailing: list) -> None:
    line = CommandLine.from_args({"inventory": [str(project / "inventory.yml")], "check": True})
    command = relaunch_command(str(project / "site.yml"), [limit_file(project)], line, front_end(env))
    assert shlex.split(command) == [
        *("ansible-navigator", "run", str(project / "site.yml")),
        *("-i", str(project / "inventory.yml"), "--check"),
        *("--limit", "@" + limit_file(project)),
        *trailing,
    ]


def test_in_a_shell_the_command_is_ansible_playbooks() -> None:
    assert front_end({"HOME": "/home/me", "PATH": "/usr/bin"}) == front_end({})
    assert front_end({}).words == ("ansible-playbook",) and not front_end({}).absolute_paths
