# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The relaunch command the documentation shows is the one a run prints: its own run's limit file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.runner import RUN_LIMIT_FILE

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", ["README.md", "docs/quickstart.md"])
def test_the_printed_command_names_the_runs_own_limit_file(name: str) -> None:
    lines = (ROOT / name).read_text(encoding="utf-8").splitlines()
    printed = [
        lines[index + 1] for index, line in enumerate(lines) if line.strip("# ") == "relaunch on the failed hosts:"
    ]
    assert printed, f"{name} shows no summary"
    for line in printed:
        assert re.search(r"--limit @\.relaunch/site/" + RUN_LIMIT_FILE + "$", line), line
