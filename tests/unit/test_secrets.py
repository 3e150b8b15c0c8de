# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which variable values count as secret, and how names are redacted (the vaulted ones are covered end to end in
tests/reliability/test_secrets.py)."""

from __future__ import annotations

import pytest

from ansible_collections.relaunch.status.plugins.plugin_utils._core.recorder import REDACTED
from ansible_collections.relaunch.status.plugins.plugin_utils._secrets import PASSWORD_VARIABLE, collect, redact


@pytest.mark.parametrize(
    "name",
    ["ansible_password", "ansible_ssh_pass", "ansible_ssh_password", "ansible_become_password", "ansible_become_pass",
     "ansible_sudo_pass",
     "ansible_winrm_password", "ansible_httpapi_pass", "ansible_ssh_private_key_passphrase"],
)  # fmt: skip
def test_password_variables(name):
    assert PASSWORD_VARIABLE.match(name)


@pytest.mark.parametrize(
    "name",
    ["password", "db_password", "ansible_user", "ansible_password_file", "ansible_passwords", "my_ansible_password"],
)
def test_other_variables_are_not_password_variables(name):
    assert not PASSWORD_VARIABLE.match(name)


def test_collect_takes_password_variables_at_any_depth_and_nothing_else():
    found: set[str] = set()
    collect(
        {
            "ansible_password": "p1",
            "version": "1.2.3",
            "nested": {"ansible_become_pass": "p2", "items": [{"ansible_ssh_pass": "p3"}]},
        },
        found,
    )
    assert found == {"p1", "p2", "p3"}


def test_collect_takes_every_string_of_an_encrypted_file():
    found: set[str] = set()
    collect({"token": "t1", "list": ["t2", 3], "deep": {"key": "t3"}}, found, whole=True)
    assert found == {"t1", "t2", "t3"}


def test_redact_replaces_every_secret_longest_first():
    assert (
        redact("Register with https://api.example/v1", {"https://api.example", "api"}) == f"Register with {REDACTED}/v1"
    )
    assert redact("Deploy", {"", "   "}) == "Deploy"  # a blank secret redacts nothing


def test_redact_finds_a_secret_spread_over_lines_in_a_name():
    assert redact("Use key one two", {"key one\n  two"}) == f"Use {REDACTED}"
