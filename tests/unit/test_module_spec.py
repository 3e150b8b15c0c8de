# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The module's argument spec, kept in code, agrees with its DOCUMENTATION, and the action validates with it."""

from __future__ import annotations

import yaml

from ansible_collections.relaunch.status.plugins.action import relaunch_info as action
from ansible_collections.relaunch.status.plugins.modules import relaunch_info as module

# What an argument spec and a documented option must agree on (as ansible-test's validate-modules checks).
COMPARED = ("type", "elements", "default", "required", "choices")


def documented(option: dict) -> dict:
    """An option of DOCUMENTATION as its argument spec entry; an absent ``required`` means false."""
    entry = {key: option[key] for key in COMPARED if key in option}
    if entry.get("required") is False:
        del entry["required"]
    return entry


def test_the_argument_spec_agrees_with_the_documentation() -> None:
    options = yaml.safe_load(module.DOCUMENTATION)["options"]
    spec = {
        name: {key: value for key, value in entry.items() if key != "required" or value}
        for name, entry in module.ARGUMENT_SPEC.items()
    }
    assert spec == {name: documented(option) for name, option in options.items()}


def test_the_action_validates_with_the_module_spec() -> None:
    assert action.ARGUMENT_SPEC is module.ARGUMENT_SPEC
