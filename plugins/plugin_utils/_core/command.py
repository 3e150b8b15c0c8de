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


@dataclass(frozen=True)
class FrontEnd:
    """The program the user ran, which the relaunch command names, and how its paths must be shown."""

    words: tuple[str, ...] = ("ansible-playbook",)
    absolute_paths: bool = False  # the run's current directory is not the user's shell's
    trailing: tuple[str, ...] = ()


def front_end(environ: Mapping[str, str]) -> FrontEnd:
    """The front end that started the run, told from the environment ansible-runner gives ansible-playbook.

    ansible-runner sets ``AWX_ISOLATED_DATA_DIR`` (its artifact directory) in every run it starts, and
    ``ansible-runner run`` (its ``RunnerConfig``) also sets ``RUNNER_OMIT_EVENTS``; ansible-navigator starts its
    runs through ansible-runner's ``run_command``, which does not, and passes its own ``ANSIBLE_NAVIGATOR_*``
    settings on. An artifact directory under ``/runner/`` is one inside an execution environment. Either way the
    run's current directory is not the user's: paths are shown absolute.
    """
    artifacts = environ.get("AWX_ISOLATED_DATA_DIR")
    navigator = any(key.startswith("ANSIBLE_NAVIGATOR_") for key in environ)
    if artifacts and (navigator or "RUNNER_OMIT_EVENTS" not in environ):
        in_container = artifacts.startswith("/runner/")
        return FrontEnd(("ansible-navigator", "run"), True, () if in_container else ("--ee", "false"))
    if artifacts:
        return FrontEnd(absolute_paths=True)
    return FrontEnd()


def _path_word(path: str, absolute: bool) -> str:
    """A path of the command line as the relaunch command shows it: relative when it exists, unless absolute."""
    if absolute:
        return os.path.abspath(path) if os.path.exists(path) else path
    return os.path.relpath(path) if os.path.exists(path) else path


def relaunch_command(playbook: str, limit_files: list[str], line: CommandLine, front: FrontEnd | None = None) -> str:
    """The command that reruns ``playbook`` on the hosts of ``limit_files``, with the options of ``line``
    but without extra vars' values, for the front end the user ran.

    Several limit files give one --limit of them joined by commas, which
    ansible-core reads as the union of the files' patterns.
    """
    front = front or FrontEnd()
    absolute = front.absolute_paths
    words = list(front.words)
    if front.words[0] == "ansible-navigator":
        words.append(_path_word(playbook, absolute))  # ansible-navigator run takes the playbook first
    for source in line.inventory:
        words += ["-i", _path_word(source, absolute)]
    if front.words[0] != "ansible-navigator":
        words.append(_path_word(playbook, absolute))
    words += _option_words(line, absolute)
    words += ["--limit", ",".join("@" + _path_word(path, absolute) for path in limit_files)]
    words += front.trailing
    command = " ".join(shlex.quote(word) for word in words)
    if line.extra_vars:
        command += "  # plus your -e options"  # a comment: the command still pastes into a shell
    return command


def _option_words(line: CommandLine, absolute: bool) -> list[str]:
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
        words += ["--vault-password-file", _path_word(path, absolute)]
    for option, path in (
        ("--connection-password-file", line.connection_password_file),
        ("--become-password-file", line.become_password_file),
    ):
        if path:
            words += [option, _path_word(path, absolute)]
    return words
