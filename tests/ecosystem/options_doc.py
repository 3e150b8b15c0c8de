# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write docs/options.md, every option of every plugin and of the role, from ansible-doc itself.

.venv/bin/python -m tests.ecosystem.options_doc > docs/options.md
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.conftest import COLLECTIONS
from tests.ecosystem.collection import clean_env, plugins
from tests.runner import ANSIBLE_BIN

KIND_TITLES = {
    "callback": "Callback",
    "lookup": "Lookup",
    "module": "Module",
    "inventory": "Inventory plugin",
    "role": "Role",
}


def ansible_doc(plugin_type: str, name: str) -> dict:
    with tempfile.TemporaryDirectory() as home:
        output = subprocess.run(
            [str(ANSIBLE_BIN / "ansible-doc"), "-t", plugin_type, "--json", name],
            env=clean_env(Path(home), COLLECTIONS),
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    return json.loads(output)[name]


def plain(text: object) -> str:
    """ansible-doc markup (C(), O(), P(), E(), V(), I()) as Markdown."""
    if isinstance(text, list):
        text = " ".join(str(item) for item in text)
    text = str(text or "")
    text = re.sub(r"(?:RV|[COEVI])\(([^)]*)\)", r"`\1`", text)
    text = re.sub(r"P\(([^#)]*)#([^)]*)\)", r"`\1` (\2)", text)
    text = re.sub(r"U\(([^)]*)\)", r"<\1>", text)
    text = re.sub(r"L\(([^,]*),\s*([^)]*)\)", r"[\1](\2)", text)
    return text.replace("|", "\\|").replace("\n", " ")


def default(details: dict) -> str:
    if "default" not in details or details["default"] is None:
        return "required" if details.get("required") else ""
    return f"`{json.dumps(details['default'])}`"


def where(details: dict) -> str:
    places = [f"env `{item['name']}`" for item in details.get("env") or ()]
    places += [f"ini `[{item['section']}] {item['key']}`" for item in details.get("ini") or ()]
    places += [f"var `{item['name']}`" for item in details.get("vars") or ()]
    places += [f"keyword `{item['name']}`" for item in details.get("keyword") or ()]
    return "<br>".join(places)


def table(options: dict, with_sources: bool) -> list[str]:
    head = (
        "| Option | Type | Default | Set with | Description |"
        if with_sources
        else "| Option | Type | Default | Description |"
    )
    lines = [head, "|" + "---|" * head.count(" | ") + "---|"]
    for name in sorted(options):
        details = options[name]
        kind = details.get("type", "str")
        if details.get("elements"):
            kind += f" of {details['elements']}"
        if details.get("choices"):
            kind += "; one of " + ", ".join(f"`{choice}`" for choice in details["choices"])
        cells = [f"`{name}`", kind, default(details)]
        if with_sources:
            cells.append(where(details))
        cells.append(plain(details.get("description")))
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def render() -> str:
    out = [
        "# Every option",
        "",
        "Generated from the plugins' own documentation with",
        "`.venv/bin/python -m tests.ecosystem.options_doc > docs/options.md`; "
        "`ansible-doc -t <type> <name>` shows the same.",
        "An option set in several places takes, from lowest to highest precedence: its default, `ansible.cfg` (ini),",
        "the environment (env), then what the playbook or the inventory configuration file gives.",
        "",
    ]
    for plugin_type, name in plugins():
        entry = ansible_doc(plugin_type, name)
        out += [f"## {KIND_TITLES.get(plugin_type, plugin_type)} `{name}`", ""]
        if plugin_type == "role":
            for entry_point, spec in sorted(entry["entry_points"].items()):
                out += [plain(spec.get("short_description")), "", f"Entry point `{entry_point}`, role variables:", ""]
                out += table(spec.get("options") or {}, with_sources=False)
                out.append("")
            continue
        doc = entry["doc"]
        out += [plain(doc.get("short_description")) + ".", "", f"`ansible-doc -t {plugin_type} {name}`", ""]
        options = doc.get("options") or {}
        if options:
            out += table(options, with_sources=plugin_type in ("callback", "lookup", "inventory"))
        else:
            out.append("No options.")
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
