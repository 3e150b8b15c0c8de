# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""docs/options.md documents every option of every plugin and of the role, with its env and ini names."""

from __future__ import annotations

import re

from tests.ecosystem.collection import ROOT, plugins
from tests.ecosystem.options_doc import ansible_doc, default


def test_every_option_is_documented() -> None:
    text = (ROOT / "docs" / "options.md").read_text()
    sections = dict(re.findall(r"^## .*?`([^`]+)`\n(.*?)(?=^## |\Z)", text, re.MULTILINE | re.DOTALL))
    missing = []
    for plugin_type, name in plugins():
        entry = ansible_doc(plugin_type, name)
        section = sections.get(name)
        if section is None:
            missing.append(name)
            continue
        if plugin_type == "role":
            options = {
                option: details
                for spec in entry["entry_points"].values()
                for option, details in (spec.get("options") or {}).items()
            }
        else:
            options = entry["doc"].get("options") or {}
        for option, details in options.items():
            row = next((line for line in section.splitlines() if line.startswith(f"| `{option}` |")), None)
            if row is None:
                missing.append(f"{name}: {option}")
                continue
            wanted = [item["name"] for item in details.get("env") or ()] + [
                f"[{item['section']}] {item['key']}" for item in details.get("ini") or ()
            ]
            wanted.append(default(details))
            missing += [f"{name}: {option}: {item}" for item in wanted if item not in row]
    assert missing == [], "regenerate: .venv/bin/python -m tests.ecosystem.options_doc > docs/options.md"
