# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The code layout the collection keeps: a core free of Ansible, and nothing shipped to managed hosts."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ansible_collections.relaunch.status.plugins.plugin_utils._core.store import layout
from tests.conftest import COLLECTIONS

PLUGINS = Path(__file__).resolve().parents[2] / "plugins"
CORE = sorted((PLUGINS / "plugin_utils" / "_core").rglob("*.py"))


def imported_modules(path: Path) -> list[str]:
    modules = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            modules.append(node.module or "")
    return modules


@pytest.mark.parametrize("path", CORE, ids=lambda path: str(path.relative_to(PLUGINS)))
def test_the_core_imports_nothing_of_ansible(path):
    """The core is plain Python (its own modules by relative import): no Ansible object, no collection plugin."""
    assert [
        module for module in imported_modules(path) if module.split(".")[0] in ("ansible", "ansible_collections")
    ] == []


def test_the_core_is_found():
    assert {path.name for path in CORE} >= {
        "errors.py",
        "recorder.py",
        "selection.py",
        "summary.py",
        "publishing.py",
        "validation.py",
    }


def test_nothing_is_shipped_to_managed_hosts():
    """The one module runs through its action plugin on the controller; module_utils would be code for the hosts.

    The module imports only ansible-core's AnsibleModule, in the main() that ansible-test's validate-modules runs
    to compare its argument spec with its documentation; its action plugin never sends it to a host.
    """
    assert not (PLUGINS / "module_utils").exists()
    module = PLUGINS / "modules" / "relaunch_info.py"
    assert [name for name in imported_modules(module) if name != "__future__"] == ["ansible.module_utils.basic"]
    action = (PLUGINS / "action" / "relaunch_info.py").read_text(encoding="utf-8")
    assert "_execute_module" not in action and "_transfer" not in action


# Loaded by the callback only when a run needs them (a limit file, a failure, a dead run, the end of a playbook):
# ansible-core compiles a collection's modules from source on every run, so each one loaded costs every run its
# compile time (docs/performance.md).
LOADED_LATE = (
    "_selector",
    "_secrets",
    "_core.selection",
    "_core.summary",
    "_core.failures",
    "_core.store.publishing",
    "_core.store.reading",
    "_core.store.validation",
    "_core.store.limits",
)


def test_the_callback_loads_only_what_runs_while_hosts_run():
    script = (
        "import sys\n"
        "from ansible_collections.relaunch.status.plugins.callback import manifest\n"
        "from ansible_collections.relaunch.status.plugins.plugin_utils._core import store\n"
        "print('\\n'.join(sorted(name for name in sys.modules if '.plugin_utils.' in name)))\n"
        "store.publishing.publish, store.reading.load\n"
        "print('--')\n"
        "print('\\n'.join(sorted(name for name in sys.modules if '.plugin_utils.' in name)))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(COLLECTIONS)},
    )
    at_start, after_use = (part.split() for part in completed.stdout.split("--"))
    prefix = "ansible_collections.relaunch.status.plugins.plugin_utils."
    assert "ansible_collections.relaunch.status.plugins.plugin_utils._core.recorder" in at_start
    assert [name for name in at_start if name.removeprefix(prefix) in LOADED_LATE] == []
    assert {prefix + "_core.store.publishing", prefix + "_core.store.reading"} <= set(after_use)


STORE = sorted((PLUGINS / "plugin_utils" / "_core" / "store").glob("*.py"))


def core_modules_imported(path: Path) -> set[str]:
    """The modules of the core that a file imports, as paths from ``_core`` ("store.layout", "selection"),
    at any depth of the file (an import inside a function counts too)."""
    package = path.relative_to(PLUGINS / "plugin_utils" / "_core").parent.parts
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = list(package[: len(package) - (node.level - 1)]) if node.level > 1 else list(package)
            module = [*base, *(node.module or "").split(".")] if node.module else base
            found.update(".".join(part for part in [*module, alias.name] if part) for alias in node.names)
            found.add(".".join(module))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(CORE_PACKAGE):
            module = node.module.removeprefix(CORE_PACKAGE).strip(".")
            found.update(f"{module}.{alias.name}".strip(".") for alias in node.names)
            found.add(module)
        elif isinstance(node, ast.Import):
            found.update(alias.name.removeprefix(CORE_PACKAGE).strip(".") for alias in node.names)
    return found


CORE_PACKAGE = "ansible_collections.relaunch.status.plugins.plugin_utils._core"


def test_core_modules_imported_reads_relative_and_absolute_imports(tmp_path):
    store_module = PLUGINS / "plugin_utils" / "_core" / "store" / "limits.py"
    assert "recorder" in core_modules_imported(store_module)  # from ..recorder import ...
    publishing = PLUGINS / "plugin_utils" / "_core" / "store" / "publishing.py"
    assert "store.limits" in core_modules_imported(publishing)  # from .limits import ...


@pytest.mark.parametrize("path", STORE, ids=lambda path: path.name)
def test_the_store_imports_nothing_of_the_selection_engine(path):
    """The dependency has one direction: the selection engine makes the limit file texts, the store writes them."""
    assert [module for module in core_modules_imported(path) if module.split(".")[0] == "selection"] == []


def test_the_store_loads_without_the_selection_engine():
    script = (
        "import importlib, sys\n"
        "from ansible_collections.relaunch.status.plugins.plugin_utils._core import store\n"
        "for name in store.MODULES:\n"
        "    getattr(store, name)\n"
        "print('\\n'.join(sorted(sys.modules)))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(COLLECTIONS)},
    )
    loaded = completed.stdout.split()
    assert CORE_PACKAGE + ".store.publishing" in loaded
    assert CORE_PACKAGE + ".selection" not in loaded


# --- the run directory of a playbook ------------------------------------------------------------------


def playbooks(tmp_path: Path, *names: str) -> list[str]:
    paths = []
    for name in names:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("- hosts: all\n")
        paths.append(str(path))
    return paths


@pytest.mark.parametrize("first", ["root", "teamb"])
def test_a_manifest_dir_beside_one_of_two_playbooks_of_one_stem_keeps_them_apart(tmp_path: Path, first: str) -> None:
    """repo/site.yml and repo/teamb/site.yml with RELAUNCH_MANIFEST_DIR=repo/relaunch: whichever runs first."""
    root_playbook, teamb_playbook = playbooks(tmp_path / "repo", "site.yml", "teamb/site.yml")
    manifest_dir = str(tmp_path / "repo" / "relaunch")
    order = [root_playbook, teamb_playbook] if first == "root" else [teamb_playbook, root_playbook]
    directories = {playbook: layout.claim_run_directory(manifest_dir, playbook) for playbook in order}
    assert directories[order[0]] == os.path.join(manifest_dir, "site")
    assert re.fullmatch(re.escape(os.path.join(manifest_dir, "site-")) + "[0-9a-f]{8}", directories[order[1]])
    for playbook, directory in directories.items():
        assert layout.run_directory(manifest_dir, playbook) == directory  # the next runs find their own


def test_a_moved_checkout_keeps_the_run_directory_beside_it(tmp_path: Path) -> None:
    (old,) = playbooks(tmp_path / "old", "site.yml")
    directory = layout.claim_run_directory(str(tmp_path / "old" / ".relaunch"), old)
    os.rename(tmp_path / "old", tmp_path / "new")
    moved = str(tmp_path / "new" / "site.yml")
    assert layout.run_directory(str(tmp_path / "new" / ".relaunch"), moved) == directory.replace("old", "new", 1)


def test_a_copied_checkout_keeps_the_run_directory_beside_it(tmp_path: Path) -> None:
    """cp -r repo copy: the copy's .playbook names the original, which still exists and uses its own."""
    (original,) = playbooks(tmp_path / "repo", "site.yml")
    layout.claim_run_directory(str(tmp_path / "repo" / ".relaunch"), original)
    shutil.copytree(tmp_path / "repo", tmp_path / "copy")
    copy = str(tmp_path / "copy" / "site.yml")
    root = str(tmp_path / "copy" / ".relaunch")
    assert layout.run_directory(root, copy) == layout.claim_run_directory(root, copy) == os.path.join(root, "site")


def test_a_playbook_of_the_same_stem_beside_the_owner_gets_its_own_directory(tmp_path: Path) -> None:
    yml, yaml = playbooks(tmp_path, "site.yml", "site.yaml")
    root = str(tmp_path / ".relaunch")
    assert layout.claim_run_directory(root, yml) == os.path.join(root, "site")
    assert layout.claim_run_directory(root, yaml) != os.path.join(root, "site")
