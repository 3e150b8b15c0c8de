# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Planted secrets (passwords, vault, no_log, extra vars, environment) never reach a file the collection writes."""

from __future__ import annotations

import json
import secrets
import subprocess

import pexpect
import pytest

from tests.runner import ANSIBLE_BIN, ansible_env, write_files

# Every planted secret is unique and random, so a hit cannot be a coincidence.
PLANTED = {
    name: f"{name}-{secrets.token_hex(8)}"
    for name in (
        "ssh_prompt",
        "become_prompt",
        "vault_prompt",
        "vault_file",
        "vaulted_value",
        "inventory_password",
        "inventory_become",
        "nolog_argument",
        "nolog_message",
        "extra_var",
        "environment",
    )
}

PLAYBOOK = """
- name: secrets
  hosts: web
  gather_facts: false
  vars:
    nolog_argument: "{nolog_argument}"
    nolog_message: "{nolog_message}"
  tasks:
    - name: uses every secret in the open
      ansible.builtin.debug:
        msg: "{{{{ vaulted }}}} {{{{ extra_secret }}}} {{{{ lookup('env', 'PLANTED_SECRET') }}}}"
    - name: secret arguments
      ansible.builtin.command: "echo {{{{ nolog_argument }}}} {{{{ vaulted }}}}"
      no_log: true
    - name: fails with secrets
      ansible.builtin.fail:
        msg: "{{{{ nolog_message }}}} {{{{ vaulted }}}} {{{{ extra_secret }}}} {{{{ lookup('env', 'PLANTED_SECRET') }}}}"
      no_log: true
      when: inventory_hostname == 'h2'
    - name: keep the journal as the run wrote it
      ansible.builtin.shell: cat .relaunch/site/*.journal > journal.copy
      args:
        chdir: "{{{{ playbook_dir }}}}"
      run_once: true
"""


def encrypt(workdir, value: str, password_file: str) -> str:
    """A vault-encrypted variable, as ansible-vault writes it."""
    completed = subprocess.run(
        [str(ANSIBLE_BIN / "ansible-vault"), "encrypt_string", "--vault-password-file", password_file, value, "--name", "vaulted"],
        cwd=workdir,
        env=ansible_env(workdir),
        capture_output=True,
        text=True,
        check=True,
    )
    return completed.stdout


def setup(workdir, vault_password: str) -> None:
    (workdir / "vault.txt").write_text(vault_password + "\n")
    write_files(
        workdir,
        {
            "inventory.ini": f"""
                [web]
                h1 ansible_connection=local ansible_password={PLANTED["inventory_password"]} ansible_become_password={PLANTED["inventory_become"]}
                h2 ansible_connection=local
                """,
            "site.yml": PLAYBOOK.format(**PLANTED),
        },
    )
    (workdir / "group_vars").mkdir()
    (workdir / "group_vars" / "web.yml").write_text(encrypt(workdir, PLANTED["vaulted_value"], "vault.txt"))
    (workdir / "vault.txt").unlink()  # the runs get the vault password by prompt or from their own file


@pytest.mark.parametrize("vault", ["prompt", "file"])
def test_no_secret_reaches_a_written_file(tmp_path, vault):
    vault_password = PLANTED["vault_prompt"] if vault == "prompt" else PLANTED["vault_file"]
    setup(tmp_path, vault_password)
    args = ["-i", "inventory.ini", "-k", "-K", "-e", f"extra_secret={PLANTED['extra_var']}"]
    answers = {"SSH password": PLANTED["ssh_prompt"], "BECOME password": PLANTED["become_prompt"]}
    if vault == "prompt":
        args.append("--ask-vault-pass")
        answers["Vault password"] = vault_password
    else:
        password_file = tmp_path.parent / f"{tmp_path.name}-vault.txt"  # outside the playbook directory
        password_file.write_text(vault_password + "\n")
        args += ["--vault-password-file", str(password_file)]
    child = pexpect.spawn(
        str(ANSIBLE_BIN / "ansible-playbook"),
        [*args, "site.yml"],
        cwd=str(tmp_path),
        env=ansible_env(tmp_path, {"PLANTED_SECRET": PLANTED["environment"]}),
        encoding="utf-8",
        timeout=180,
    )
    prompted = []
    while child.expect([r"(SSH|BECOME|Vault) password[^\n]*: ?", pexpect.EOF]) == 0:
        prompt = child.match.group(1) + " password"
        prompted.append(prompt)
        child.sendline(answers[prompt])
    output = child.before
    child.close()
    assert sorted(prompted) == sorted(answers)

    # The run happened, with every secret in play.
    assert child.exitstatus == 2, output
    assert PLANTED["vaulted_value"] in output and PLANTED["extra_var"] in output and PLANTED["environment"] in output
    run_dir = tmp_path / ".relaunch" / "site"
    manifest = json.loads((run_dir / "latest.json").read_text())
    assert manifest["complete"] is True
    expected = ["become_password", "ssh_password"] + (["vault_password"] if vault == "prompt" else [])
    assert sorted(manifest["passwords_needed_to_start"]) == expected
    hosts = {host["name"]: host for host in manifest["hosts"]}
    assert "failed" in hosts["h2"]["statuses"]
    assert hosts["h2"]["first_failure"]["task"] == "fails with secrets"
    assert hosts["h2"]["first_failure"]["message"] is None  # no_log
    journal = (tmp_path / "journal.copy").read_bytes()
    assert b'"outcome":"failed"' in journal  # the copy holds the failed no_log result

    # No file the collection wrote holds any of them: manifests, limit files, the journal.
    written = [path for path in (tmp_path / ".relaunch").rglob("*") if path.is_file()]
    assert {path.name for path in written} >= {"latest.json", "failed.limit", f"{manifest['run_id']}.json"}
    summary = output[output.index("RELAUNCH SUMMARY") :]
    for name, secret in PLANTED.items():
        for path in written:
            assert secret.encode() not in path.read_bytes(), f"{name} found in {path}"
        assert secret.encode() not in journal, f"{name} found in the journal"
        assert secret not in summary, f"{name} found in the relaunch summary"
