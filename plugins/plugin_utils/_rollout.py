# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller-side glue for ``ansible-relaunch run``: ansible-playbook's arguments read by ansible-core's own CLI
classes, the settings of the manifest callback, and the hosts still to do, selected by the selection engine.

The inventory is built here as ansible-playbook builds it from the same arguments (its sources, ansible.cfg,
group_vars/ and host_vars/), with the same vault secrets: its vault password files and vault ids, and the vault
passwords the command asked for.
"""

from __future__ import annotations

import os

from ansible import constants, context

from ansible_collections.relaunch.status.plugins.plugin_utils import _selector
from ansible_collections.relaunch.status.plugins.plugin_utils._core import store
from ansible_collections.relaunch.status.plugins.plugin_utils._core.attempts import without_prompt_vault_ids
from ansible_collections.relaunch.status.plugins.plugin_utils._core.command import (
    CommandLine,
    passwords_needed_to_start,
)
from ansible_collections.relaunch.status.plugins.plugin_utils._core.errors import RelaunchError
from ansible_collections.relaunch.status.plugins.plugin_utils._core.selection import host_patterns


class Playbook:
    """The playbook run of ansible-playbook's ``args``, as ansible-core parses them."""

    def __init__(self, args: list[str]) -> None:
        from ansible.cli.playbook import PlaybookCLI

        PlaybookCLI(["ansible-playbook", *args]).parse()  # sets context.CLIARGS; exits 2 on a wrong option
        playbooks = _selector.playbooks()
        given = [arg for arg in context.CLIARGS.get("args") or () if arg]
        if len(given) != 1:
            raise RelaunchError(f"give exactly one playbook after --, got {len(given)}")
        if not playbooks:
            raise RelaunchError(f"playbook {given[0]} does not exist")
        self.path = playbooks[0]
        self.check_mode = bool(context.CLIARGS.get("check"))
        root = store.layout.manifest_root(_selector.configured("manifest_dir"), self.path)
        self.run_directory = store.layout.run_directory(root, self.path)
        self.identity_vars = list(_selector.configured("identity_vars") or [])
        self.vault_secrets: list = []

    def use_vault_passwords(self, passwords: dict[str, str]) -> None:
        """Decrypt what the inventory needs here as ansible-playbook does: its vault password files and vault ids,
        and the vault passwords the command asked for (``passwords``, by name); no prompt."""
        import inspect

        from ansible.cli import CLI
        from ansible.parsing.dataloader import DataLoader
        from ansible.parsing.vault import VaultSecret

        vault_ids = [*self.vault_identity_list(), *(context.CLIARGS.get("vault_ids") or ())]
        # 2.19 and later would make these the process's only vault secrets; the prompted ones are added first.
        once = {"initialize_context": False}
        keywords = once if "initialize_context" in inspect.signature(CLI.setup_vault_secrets).parameters else {}
        secrets = CLI.setup_vault_secrets(
            DataLoader(),
            vault_ids=without_prompt_vault_ids(vault_ids),
            vault_password_files=list(context.CLIARGS.get("vault_password_files") or ()),
            ask_vault_pass=False,
            auto_prompt=False,
            **keywords,
        )
        default = constants.config.get_config_value("DEFAULT_VAULT_IDENTITY")
        for name, password in passwords.items():
            if name.startswith("vault_password"):
                label = name.partition(".")[2] or default
                secrets.append((label, VaultSecret(password.encode("utf-8"))))
        try:
            from ansible.parsing.vault import VaultSecretsContext  # 2.19 and later
        except ImportError:
            VaultSecretsContext = None
        if VaultSecretsContext is not None and VaultSecretsContext.current(optional=True) is None:
            VaultSecretsContext.initialize(VaultSecretsContext(secrets))
        self.vault_secrets = secrets

    @staticmethod
    def callbacks() -> list[str]:
        """The callbacks ansible.cfg or ANSIBLE_CALLBACKS_ENABLED enable already."""
        return list(constants.config.get_config_value("CALLBACKS_ENABLED") or [])

    @staticmethod
    def passwords() -> list[str]:
        """The passwords ansible-playbook would prompt for, by name (``become_password``, ``vault_password.dev``)."""
        return passwords_needed_to_start(
            CommandLine.from_args(context.CLIARGS),
            constants.config.get_config_value("DEFAULT_VAULT_IDENTITY_LIST") or (),
            constants.config.get_config_value("DEFAULT_VAULT_IDENTITY"),
        )

    @staticmethod
    def vault_identity_list() -> list[str]:
        return list(constants.config.get_config_value("DEFAULT_VAULT_IDENTITY_LIST") or [])

    def nothing_left(self, statuses: list[str]) -> bool:
        """Whether the rollout's latest manifest counts no host of ``statuses`` (read before building the
        inventory, which costs as much as ansible-playbook's own start)."""
        latest = os.path.join(self.run_directory, store.layout.LATEST)
        try:
            counts = store.reading.load(latest)["retry_counts"]
        except RelaunchError:
            return False  # let the selection say what is wrong, in its own words
        return not any(counts.get(status) for status in statuses)

    def next_hosts(
        self, statuses: list[str], scope_manifest: str | None, limit: str | None
    ) -> tuple[list[str], list[str]]:
        """(current names, exact patterns) of the hosts of the rollout's latest manifest with ``statuses``,
        kept within the hosts of ``scope_manifest`` (the first attempt's own run manifest) or, without one,
        within what ``limit`` (the arguments' own --limit) selects now."""
        from ansible.inventory.manager import InventoryManager
        from ansible.parsing.dataloader import DataLoader

        loader = DataLoader()  # a new one each time: the inventory may have changed since the last attempt
        loader.set_basedir(os.path.dirname(self.path))
        loader.set_vault_secrets(self.vault_secrets)
        inventory = InventoryManager(loader=loader, sources=list(context.CLIARGS.get("inventory") or ()))
        latest = os.path.join(self.run_directory, store.layout.LATEST)
        names = self._select(inventory, loader, latest, statuses)
        if scope_manifest:
            names = [name for name in names if name in set(self._select(inventory, loader, scope_manifest, ["all"]))]
        elif limit:
            inventory.subset(limit)
            names = [name for name in names if name in {host.name for host in inventory.get_hosts("all")}]
            inventory.subset(None)
        return names, host_patterns(names, set(inventory.hosts), list(inventory.groups))

    def _select(self, inventory, loader, manifest: str, statuses: list[str]) -> list[str]:
        request = _selector.SelectionRequest(
            inventory=inventory,
            loader=loader,
            identity_vars=self.identity_vars,
            manifest=manifest,
            playbook_dir=os.path.dirname(self.path),
        )
        selection, _paths = _selector.select_one(request, statuses, allow_empty=True, build_limit=False)
        return list(selection.hosts)
