# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The values of a run known to be secret, to redact from the failure messages the manifest keeps.

Secret are: the passwords the run was given (prompted or from a file: connection,
become, vault), every vault-encrypted value (inline ``!vault`` or a whole encrypted
file), and the values of connection and become password variables
(``ansible_password``, ``ansible_become_pass``, ...). Other extra vars are not: a
``-e version=1.2`` is no secret, and redacting it would hide why a host failed.

Only failures ask, and most of the work is done once: variables are walked for
vault-encrypted values without templating any of them; the loader's cached files
once each, a play's variables and vars_files once per play, an inventory group
once, and the failing host's own inventory variables at each failure. Values that
only templating would reveal (a password variable set to ``{{ lookup(...) }}``), and
values vaulted in files loaded at run time by ``include_vars``, are not known.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

try:  # ansible-core 2.19 on
    from ansible.parsing.vault import EncryptedString
except ImportError:  # ansible-core 2.16 to 2.18
    from ansible.parsing.yaml.objects import AnsibleVaultEncryptedUnicode as EncryptedString
from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.parsing.vault import is_encrypted_file

from ansible_collections.relaunch.status.plugins.plugin_utils import _compat as compat
from ansible_collections.relaunch.status.plugins.plugin_utils._core.recorder import REDACTED

# Connection and become password variables: ansible_password, ansible_ssh_pass, ansible_become_password,
# ansible_sudo_pass, ansible_winrm_password, ansible_httpapi_pass, ansible_ssh_private_key_passphrase, ...
PASSWORD_VARIABLE = re.compile(r"^ansible_(?:\w+_)?(?:pass|password|passwd|passphrase)$")
_MAX_DEPTH = 20  # variables nest a few levels; a deeper structure is data, not configuration


def _plaintext(value: object) -> str | None:
    """The decrypted text of a vault-encrypted value; None for any other value or one that cannot be decrypted."""
    if not isinstance(value, EncryptedString):
        return None
    try:
        return to_text(str(value))  # decrypts, with the run's own vault secrets
    except Exception:  # a value this run cannot decrypt cannot be in its messages either
        return None


def collect(value: object, found: set[str], whole: bool = False, key: object = None, depth: int = 0) -> None:
    """Add to ``found`` the secret strings in a variable structure, without templating it.

    ``whole``: every string in it is secret (it came from a vault-encrypted file).
    """
    plaintext = _plaintext(value)
    if plaintext is not None:
        found.add(plaintext)
    elif isinstance(value, str):
        if whole or (isinstance(key, str) and PASSWORD_VARIABLE.match(key)):
            found.add(str(value))
    elif depth < _MAX_DEPTH:
        if isinstance(value, Mapping):
            for name, item in value.items():
                collect(item, found, whole, name, depth + 1)
        elif isinstance(value, (list, tuple)):
            for item in value:
                collect(item, found, whole, key, depth + 1)


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` (a task or play name, templated by the run) with every secret replaced by ``REDACTED``.

    Longest first, so that a secret that contains another is redacted whole; a secret
    spread over several lines is also looked for with its whitespace collapsed, as the
    recorder does for messages.
    """
    forms = {form for secret in secrets for form in (secret, " ".join(secret.split())) if form.strip()}
    for form in sorted(forms, key=len, reverse=True):
        if form in text:
            text = text.replace(form, REDACTED)
    return text


def _encrypted_file(path: str) -> bool:
    try:
        with open(path, "rb") as handle:
            return bool(is_encrypted_file(handle))
    except (OSError, TypeError):
        return False


class KnownSecrets:
    """The secrets of one run, gathered lazily and kept."""

    def __init__(self, loader, passwords: Mapping | None) -> None:
        self._loader = loader
        self._passwords = passwords or {}
        self._values: set[str] | None = None
        self._files: set[str] = set()
        self._plays: set[str] = set()
        self._groups: set[str] = set()

    def _start(self, play) -> set[str]:
        found: set[str] = set()
        for password in self._passwords.values():
            if password:
                found.add(to_text(password))
        for _vault_id, secret in compat.vault_secrets(self._loader):
            try:
                found.add(to_text(secret.bytes).strip())
            except Exception:  # a secret that cannot be read is in no message
                continue
        if play is not None:
            collect(play.get_variable_manager().extra_vars, found)
        return found

    def for_failure(self, play, host) -> set[str]:
        """Every secret known so far that a failure of ``host`` in ``play`` could show."""
        if self._values is None:
            self._values = self._start(play)
        found = self._values
        # Files the loader read and kept (group_vars/host_vars, playbooks, roles, vaulted vars_files): new ones only.
        cache = compat.loader_file_cache(self._loader)
        if len(cache) > len(self._files):
            for path, data in list(cache.items()):
                if path not in self._files:
                    self._files.add(path)
                    collect(data, found, whole=_encrypted_file(path))
        if play is not None and compat.object_id(play) not in self._plays:
            self._plays.add(compat.object_id(play))
            collect(play.vars, found)
            self._collect_vars_files(play, found)
        for group in host.get_groups():
            if group.name not in self._groups:
                self._groups.add(group.name)
                collect(group.vars, found)
        host_found = set(found)
        collect(host.vars, host_found)
        return host_found

    def _collect_vars_files(self, play, found: set[str]) -> None:
        """A play's vars_files: the loader keeps only encrypted ones; plain ones may hold inline !vault values.

        A templated name is skipped: templating it could need host variables.
        """
        for entry in play.vars_files or ():
            for name in entry if isinstance(entry, list) else [entry]:
                name = to_text(name)
                if "{{" in name or "{%" in name:
                    continue
                try:
                    path = self._loader.path_dwim_relative_stack(play.get_search_path(), "vars", name)
                    data = self._loader.load_from_file(path, cache="none", unsafe=True)
                except AnsibleError:
                    continue
                collect(data, found, whole=_encrypted_file(path))
                break
