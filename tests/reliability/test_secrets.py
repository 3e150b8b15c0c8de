# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Planted secrets (passwords, vault, no_log, extra vars, environment) never reach a file the collection writes."""

from __future__ import annotations

import json
import secrets
import subprocess

import pexpect
import pytest

from ansible_collections.relaunch.status.plugins.plugin_utils._core.recorder import REDACTED
from tests.runner import ANSIBLE_BIN, ansible_env, ansible_playbook, write_files

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
        msg: >-
          {{{{ nolog_message }}}} {{{{ vaulted }}}} {{{{ extra_secret }}}}
          {{{{ lookup('env', 'PLANTED_SECRET') }}}}
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
        [
            str(ANSIBLE_BIN / "ansible-vault"),
            "encrypt_string",
            "--vault-password-file",
            password_file,
            value,
            "--name",
            "vaulted",
        ],
        cwd=workdir,
        env=ansible_env(workdir),
        capture_output=True,
        text=True,
        check=True,
    )
    return completed.stdout


H1_PASSWORDS = f"ansible_password={PLANTED['inventory_password']} ansible_become_password={PLANTED['inventory_become']}"


def setup(workdir, vault_password: str) -> None:
    (workdir / "vault.txt").write_text(vault_password + "\n")
    write_files(
        workdir,
        {
            "inventory.ini": f"""
                [web]
                h1 ansible_connection=local {H1_PASSWORDS}
                h2 ansible_connection=local
                """,
            "site.yml": PLAYBOOK.format(**PLANTED),
        },
    )
    (workdir / "group_vars").mkdir()
    (workdir / "group_vars" / "web.yml").write_text(encrypt(workdir, PLANTED["vaulted_value"], "vault.txt"))
    (workdir / "vault.txt").unlink()  # the runs get the vault password by prompt or from their own file


def run_with_prompts(workdir, vault: str, vault_password: str) -> tuple[str, int]:
    """ansible-playbook answering its password prompts as a user would; its output and exit status."""
    args = ["-i", "inventory.ini", "-k", "-K", "-e", f"extra_secret={PLANTED['extra_var']}"]
    answers = {"SSH password": PLANTED["ssh_prompt"], "BECOME password": PLANTED["become_prompt"]}
    if vault == "prompt":
        args.append("--ask-vault-pass")
        answers["Vault password"] = vault_password
    else:
        password_file = workdir.parent / f"{workdir.name}-vault.txt"  # outside the playbook directory
        password_file.write_text(vault_password + "\n")
        args += ["--vault-password-file", str(password_file)]
    child = pexpect.spawn(
        str(ANSIBLE_BIN / "ansible-playbook"),
        [*args, "site.yml"],
        cwd=str(workdir),
        env=ansible_env(workdir, {"PLANTED_SECRET": PLANTED["environment"]}),
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
    return output, child.exitstatus


def assert_found_nowhere(planted: dict[str, str], workdir, output: str) -> None:
    """No planted secret in a file the collection wrote, in the journal as the run wrote it, or in the summary."""
    written = [path for path in (workdir / ".relaunch").rglob("*") if path.is_file()]
    journal = (workdir / "journal.copy").read_bytes()
    assert b'"outcome":"failed"' in journal  # the copy holds the failed result
    summary = output[output.index("RELAUNCH SUMMARY") :]
    for name, secret in planted.items():
        for path in written:
            assert secret.encode() not in path.read_bytes(), f"{name} found in {path}"
        assert secret.encode() not in journal, f"{name} found in the journal"
        assert secret not in summary, f"{name} found in the relaunch summary"


@pytest.mark.parametrize("vault", ["prompt", "file"])
def test_no_secret_reaches_a_written_file(tmp_path, vault):
    vault_password = PLANTED["vault_prompt"] if vault == "prompt" else PLANTED["vault_file"]
    setup(tmp_path, vault_password)
    output, exitstatus = run_with_prompts(tmp_path, vault, vault_password)

    # The run happened, with every secret in play.
    assert exitstatus == 2, output
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
    written = {path.name for path in run_dir.iterdir()}
    assert written >= {"latest.json", "failed.limit", f"{manifest['run_id']}.json"}

    # No file the collection wrote holds any of them: manifests, limit files, the journal.
    assert_found_nowhere(PLANTED, tmp_path, output)


# A failure whose message shows secrets, without no_log: vaulted values (inline and a whole encrypted
# file), password variables, and the contents of the password files the run was given.
SHOWN = {
    name: f"{name}-{secrets.token_hex(8)}"
    for name in (
        "inline_vaulted",
        "vars_file_vaulted",
        "file_vaulted",
        "inventory_password",
        "extra_become",
        "vault_file",
        "conn_file",
        "become_file",
    )
}
PLAIN_EXTRA_VAR = f"plain-{secrets.token_hex(8)}"

SHOWING_PLAYBOOK = """
- name: secrets
  hosts: web
  gather_facts: false
  vars_files:
    - vars/plain.yml
  tasks:
    - name: fails showing secrets
      ansible.builtin.fail:
        msg: >-
          inline={{ inline_vaulted }} vars_file={{ vars_file_vaulted }} file={{ file_vaulted }}
          inventory={{ ansible_password }} extra={{ ansible_become_password }} plain={{ plain_extra }}
          vault={{ lookup('file', vault_file) }} conn={{ lookup('file', 'conn.txt') }}
          become={{ lookup('file', 'become.txt') }}
      when: inventory_hostname == 'h1'
    - name: keep the journal as the run wrote it
      ansible.builtin.shell: cat .relaunch/site/*.journal > journal.copy
      args:
        chdir: "{{ playbook_dir }}"
      run_once: true
"""


def vault(workdir, *args: str) -> str:
    completed = subprocess.run(
        [str(ANSIBLE_BIN / "ansible-vault"), *args],
        cwd=workdir,
        env=ansible_env(workdir),
        capture_output=True,
        text=True,
        check=True,
    )
    return completed.stdout


def test_failure_messages_show_no_known_secret(tmp_path):
    password_file = tmp_path.parent / f"{tmp_path.name}-vault.txt"  # outside the playbook directory
    password_file.write_text(SHOWN["vault_file"] + "\n")
    write_files(
        tmp_path,
        {
            "inventory.ini": f"""
                [web]
                h1 ansible_connection=local ansible_password={SHOWN["inventory_password"]}
                h2 ansible_connection=local
                """,
            "site.yml": SHOWING_PLAYBOOK,
            "host_vars/h1.yml": f"file_vaulted: {SHOWN['file_vaulted']}\n",
            "conn.txt": SHOWN["conn_file"] + "\n",
            "become.txt": SHOWN["become_file"] + "\n",
        },
    )
    (tmp_path / "group_vars").mkdir()
    (tmp_path / "group_vars" / "web.yml").write_text(
        vault(
            tmp_path,
            "encrypt_string",
            "--vault-password-file",
            str(password_file),
            SHOWN["inline_vaulted"],
            "--name",
            "inline_vaulted",
        )
    )
    (tmp_path / "vars").mkdir()
    (tmp_path / "vars" / "plain.yml").write_text(
        vault(
            tmp_path,
            "encrypt_string",
            "--vault-password-file",
            str(password_file),
            SHOWN["vars_file_vaulted"],
            "--name",
            "vars_file_vaulted",
        )
    )
    vault(tmp_path, "encrypt", "--vault-password-file", str(password_file), "host_vars/h1.yml")
    extra = [
        "-e",
        f"ansible_become_password={SHOWN['extra_become']}",
        "-e",
        f"plain_extra={PLAIN_EXTRA_VAR}",
        "-e",
        f"vault_file={password_file}",
    ]
    passwords = [
        "--vault-password-file",
        str(password_file),
        "--connection-password-file",
        "conn.txt",
        "--become-password-file",
        "become.txt",
    ]
    run = ansible_playbook(tmp_path, "-i", "inventory.ini", *passwords, *extra)

    # The run happened, and ansible-core itself showed every secret.
    assert run.rc == 2, run.stdout + run.stderr
    for name, secret in SHOWN.items():
        assert secret in run.stdout + run.stderr, name
    hosts = {host["name"]: host for host in run.manifest()["hosts"]}
    message = hosts["h1"]["first_failure"]["message"]
    # Every secret is redacted; an ordinary extra var is not a secret and stays, so the message still explains.
    assert message.startswith(
        f"inline={REDACTED} vars_file={REDACTED} file={REDACTED} inventory={REDACTED} extra={REDACTED}"
    ), message
    assert f"plain={PLAIN_EXTRA_VAR}" in message
    assert_found_nowhere(SHOWN, tmp_path, run.stdout)


API_URL = f"https://api-{secrets.token_hex(8)}.example"

# A vaulted value in templated names: the play's, a failing task's, and a no_log task's that fails.
NAMED_PLAYBOOK = """
- name: "Deploy to {{ api_url }}"
  hosts: web
  gather_facts: false
  vars_files:
    - vars/api.yml
  tasks:
    - name: "Register with {{ api_url }}"
      ansible.builtin.fail:
        msg: cannot register
      when: inventory_hostname == 'h1'
    - name: "Quietly register with {{ api_url }}"
      ansible.builtin.fail:
        msg: cannot register quietly
      no_log: true
      when: inventory_hostname == 'h2'
    - name: keep the journal as the run wrote it
      ansible.builtin.shell: cat .relaunch/site/*.journal > journal.copy
      args:
        chdir: "{{ playbook_dir }}"
      run_once: true
"""


def test_a_vaulted_value_in_a_templated_name_is_redacted(tmp_path):
    password_file = tmp_path.parent / f"{tmp_path.name}-vault.txt"
    password_file.write_text(SHOWN["vault_file"] + "\n")
    write_files(
        tmp_path,
        {
            "inventory.ini": """
                [web]
                h1 ansible_connection=local
                h2 ansible_connection=local
                h3 ansible_connection=local
                """,
            "site.yml": NAMED_PLAYBOOK,
        },
    )
    (tmp_path / "vars").mkdir()
    (tmp_path / "vars" / "api.yml").write_text(
        vault(tmp_path, "encrypt_string", "--vault-password-file", str(password_file), API_URL, "--name", "api_url")
    )
    run = ansible_playbook(tmp_path, "-i", "inventory.ini", "--vault-password-file", str(password_file))

    # ansible-core itself showed the value in the task headers.
    assert run.rc == 2 and f"TASK [Register with {API_URL}]" in run.stdout, run.stdout + run.stderr
    hosts = {host["name"]: host for host in run.manifest()["hosts"]}
    assert hosts["h1"]["first_failure"]["task"] == f"Register with {REDACTED}"
    assert hosts["h2"]["first_failure"]["task"] == f"Quietly register with {REDACTED}"
    assert hosts["h2"]["first_failure"]["message"] is None  # no_log
    summary = run.stdout[run.stdout.index("RELAUNCH SUMMARY") :]
    assert f"TASK [Register with {REDACTED}]" in summary, summary
    assert_found_nowhere({"api_url": API_URL}, tmp_path, run.stdout)
