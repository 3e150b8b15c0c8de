# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The code layout the collection keeps: a core free of Ansible, and nothing shipped to managed hosts."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PLUGINS = Path(__file__).resolve().parents[2] / "plugins"
CORE = sorted((PLUGINS / "plugin_utils" / "core").rglob("*.py"))


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
    assert [module for module in imported_modules(path) if module.split(".")[0] in ("ansible", "ansible_collections")] == []


def test_the_core_is_found():
    assert {path.name for path in CORE} >= {"errors.py", "recorder.py", "selection.py", "summary.py", "publishing.py", "validation.py"}


def test_nothing_is_shipped_to_managed_hosts():
    """The one module runs through its action plugin on the controller; module_utils would be code for the hosts."""
    assert not (PLUGINS / "module_utils").exists()
    module = PLUGINS / "modules" / "relaunch_info.py"
    assert [name for name in imported_modules(module) if name != "__future__"] == []
