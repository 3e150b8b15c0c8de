# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ansible-doc renders every plugin and role of the collection, completely and without a warning."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import COLLECTIONS
from tests.ecosystem.collection import clean_env, plugins
from tests.runner import ANSIBLE_BIN

# Which documentation blocks each kind must have besides DOCUMENTATION.
NEEDS_EXAMPLES = {"callback", "lookup", "module", "inventory", "filter", "test"}
NEEDS_RETURN = {"lookup", "module", "filter", "test"}

# The options users set, by plugin (the role: by entry point): an option renamed or lost fails here.
OPTIONS = {
    "relaunch.status.manifest": {"manifest_dir", "identity_vars", "keep", "require_manifest", "summary"},
    "relaunch.status.limit": {"_terms", "manifest", "manifest_dir", "identity_vars", "allow_empty", "default", "group"},
    "relaunch.status.relaunch_info": {
        "manifest",
        "manifest_dir",
        "hosts",
        "group",
        "identity_vars",
        "allow_empty",
        "allow_missing",
        "in_play",
        "history",
        "flaky_runs",
        "flaky_flips",
        "chronic_runs",
    },
    "relaunch.status.groups": {
        "plugin",
        "manifest",
        "manifest_dir",
        "statuses",
        "identity_vars",
        "flaky_runs",
        "flaky_flips",
        "chronic_runs",
        "failure_groups",
    },
    "relaunch.status.select": {
        "main": {
            "relaunch_hosts",
            "relaunch_group",
            "relaunch_manifest",
            "relaunch_identity_vars",
            "relaunch_allow_empty",
        }
    },
}

# ansible-core 2.20 and 2.21 warn about their own internal collection whenever ansible-doc lists roles.
_PROTOMATTER_WARNING = re.compile(
    r"\[WARNING\]: Collection at '[^']*/ansible/_internal/ansible_collections/ansible/_protomatter' does not have a "
    r"MANIFEST\.json file, nor has it galaxy\.yml: cannot detect version\."
)


def ours(stderr: str) -> str:
    """ansible-doc's stderr without ansible-core's warning about its own _protomatter collection (that line only)."""
    return "\n".join(line for line in stderr.splitlines() if not _PROTOMATTER_WARNING.fullmatch(line))


def test_the_collection_has_plugins() -> None:
    assert ("callback", "relaunch.status.manifest") in plugins()


def ansible_doc(home: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(ANSIBLE_BIN / "ansible-doc"), *args],
        env=clean_env(home, COLLECTIONS, {"ANSIBLE_DEPRECATION_WARNINGS": "1"}),
        capture_output=True,
        text=True,
        check=False,
    )


def check_role_doc(name: str, entry: dict) -> None:
    specs = entry["entry_points"]
    assert {point: set(spec.get("options", {})) for point, spec in specs.items()} == OPTIONS[name]
    for spec in specs.values():
        assert spec.get("short_description")
        for option, details in spec.get("options", {}).items():
            assert details.get("description"), f"role option {option} has no description"


def check_plugin_doc(plugin_type: str, name: str, entry: dict) -> None:
    doc = entry["doc"]
    assert set(doc.get("options") or {}) == OPTIONS[name]
    assert doc.get("short_description") and doc.get("description") and doc.get("author")
    assert doc.get("version_added")
    for option, details in (doc.get("options") or {}).items():
        assert details.get("description"), f"option {option} has no description"
        assert details.get("type"), f"option {option} has no type"
    if plugin_type in NEEDS_EXAMPLES:
        assert (entry.get("examples") or "").strip(), "no EXAMPLES"
    if plugin_type in NEEDS_RETURN:
        assert entry.get("return"), "no RETURN"


@pytest.mark.parametrize(("plugin_type", "name"), plugins(), ids=[f"{kind}:{name}" for kind, name in plugins()])
def test_ansible_doc_renders(plugin_type: str, name: str, tmp_path: Path) -> None:
    as_json = ansible_doc(tmp_path, "-t", plugin_type, "--json", name)
    assert as_json.returncode == 0, as_json.stderr
    assert "WARNING" not in ours(as_json.stderr) and "ERROR" not in as_json.stderr, as_json.stderr
    entry = json.loads(as_json.stdout)[name]
    if plugin_type == "role":
        check_role_doc(name, entry)
    else:
        check_plugin_doc(plugin_type, name, entry)

    # The text a user reads renders too.
    as_text = ansible_doc(tmp_path, "-t", plugin_type, name)
    assert as_text.returncode == 0, as_text.stderr
    assert "WARNING" not in ours(as_text.stderr) and "ERROR" not in as_text.stderr, as_text.stderr
    assert name in as_text.stdout or name.rsplit(".", 1)[1] in as_text.stdout


def test_only_the_protomatter_warning_is_ignored() -> None:
    line = (
        "[WARNING]: Collection at "
        "'/venv/lib/python3.13/site-packages/ansible/_internal/ansible_collections/ansible/_protomatter' "
        "does not have a MANIFEST.json file, nor has it galaxy.yml: cannot detect version."
    )
    assert ours(line) == ""
    for other in (
        line.replace("_protomatter", "other"),
        line.replace("ansible/_internal", "relaunch/status/_internal"),
        line + " [WARNING]: and more",
        "[WARNING]: relaunch.status.limit: 2 recorded hosts are not selected",
    ):
        assert ours(f"{line}\n{other}") == other


def test_ansible_doc_lists_the_collection(tmp_path: Path) -> None:
    listed = ansible_doc(tmp_path, "-t", "callback", "-l", "relaunch.status")
    assert listed.returncode == 0, listed.stderr
    assert "relaunch.status.manifest" in listed.stdout
