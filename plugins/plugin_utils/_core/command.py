# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The command line of a run as plain data, the passwords it prompted for, and the command that relaunches it."""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping
from dataclasses import dataclass

# The vault identity ansible-core uses when none is named (its DEFAULT_VAULT_IDENTITY default).
DEFAULT_VAULT_IDENTITY = "default"


def _texts(values) -> tuple[str, ...]:
    return tuple(str(value) for value in values or ())


@dataclass(frozen=True)
class CommandLine:
    """What the relaunch needs of a run's command line (ansible-core's ``context.CLIARGS``), as plain data."""

    inventory: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    skip_tags: tuple[str, ...] = ()
    check: bool = False
    ask_pass: bool = False
    become_ask_pass: bool = False
    ask_vault_pass: bool = False
    vault_ids: tuple[str, ...] = ()
    vault_password_files: tuple[str, ...] = ()
    connection_password_file: str | None = None
    become_password_file: str | None = None
    extra_vars: bool = False

    @classmethod
    def from_args(cls, args: Mapping) -> CommandLine:
        """From a mapping of ansible-core's option names (``context.CLIARGS``)."""

        def path(key: str) -> str | None:
            return str(args[key]) if args.get(key) else None

        return cls(
            inventory=_texts(args.get("inventory")),
            tags=_texts(args.get("tags")),
            skip_tags=_texts(args.get("skip_tags")),
            check=bool(args.get("check")),
            ask_pass=bool(args.get("ask_pass")),
            become_ask_pass=bool(args.get("become_ask_pass")),
            ask_vault_pass=bool(args.get("ask_vault_pass")),
            vault_ids=_texts(args.get("vault_ids")),
            vault_password_files=_texts(args.get("vault_password_files")),
            connection_password_file=path("connection_password_file"),
            become_password_file=path("become_password_file"),
            extra_vars=bool(args.get("extra_vars")),
        )


def passwords_needed_to_start(
    line: CommandLine, configured_vault_ids=(), default_identity: str = DEFAULT_VAULT_IDENTITY
) -> list[str]:
    """The passwords a run prompted for, named as AWX names them.

    Vault prompts follow ansible-core's own rule (CLI.setup_vault_secrets): the
    configured vault identity list (``configured_vault_ids``), then each --vault-id,
    split on its first ``@`` into label and source, then --ask-vault-pass; a source
    ``prompt`` or ``prompt_ask_vault_pass`` prompts, for the label or the default identity.
    """
    needed = []
    if line.ask_pass:
        needed.append("ssh_password")
    if line.become_ask_pass:
        needed.append("become_password")
    vault_ids = [*_texts(configured_vault_ids), *line.vault_ids]
    if line.ask_vault_pass:
        vault_ids.append(f"{default_identity}@prompt_ask_vault_pass")
    for vault_id in vault_ids:
        label, _sep, source = vault_id.partition("@") if "@" in vault_id else ("", "", vault_id)
        if source in ("prompt", "prompt_ask_vault_pass"):
            label = label or default_identity
            name = "vault_password" if label == default_identity else f"vault_password.{label}"
            if name not in needed:
                needed.append(name)
    return needed


def _path_word(path: str) -> str:
    """A path of the command line as the relaunch command shows it: relative when it exists."""
    return os.path.relpath(path) if os.path.exists(path) else path


def relaunch_command(playbook: str, limit_files: list[str], line: CommandLine) -> str:
    """The command that reruns ``playbook`` on the hosts of ``limit_files``, with the options of ``line``
    but without extra vars' values.

    Several limit files give one --limit of them joined by commas, which
    ansible-core reads as the union of the files' patterns.
    """
    words = ["ansible-playbook"]
    for source in line.inventory:
        words += ["-i", _path_word(source)]
    words.append(os.path.relpath(playbook))
    words += _option_words(line)
    words += ["--limit", ",".join("@" + os.path.relpath(path) for path in limit_files)]
    command = " ".join(shlex.quote(word) for word in words)
    if line.extra_vars:
        command += "  # plus your -e options"  # a comment: the command still pastes into a shell
    return command


def _option_words(line: CommandLine) -> list[str]:
    words = []
    for option, values in (("--tags", [tag for tag in line.tags if tag != "all"]), ("--skip-tags", line.skip_tags)):
        if values:
            words += [option, ",".join(values)]
    for flag, given in (
        ("--check", line.check),
        ("-k", line.ask_pass),
        ("-K", line.become_ask_pass),
        ("--ask-vault-pass", line.ask_vault_pass),
    ):
        if given:
            words.append(flag)
    for vault_id in line.vault_ids:
        words += ["--vault-id", vault_id]
    # Password files are paths, not secrets: the relaunch needs them as much as the prompts.
    for path in line.vault_password_files:
        words += ["--vault-password-file", _path_word(path)]
    for option, path in (
        ("--connection-password-file", line.connection_password_file),
        ("--become-password-file", line.become_password_file),
    ):
        if path:
            words += [option, _path_word(path)]
    return words
