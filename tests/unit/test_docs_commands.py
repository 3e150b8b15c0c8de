# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The relaunch command the documentation shows is the one a run prints: its own run's pending limit file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.runner import RUN_LIMIT_FILE

ROOT = Path(__file__).resolve().parents[2]
# The line a summary prints before its relaunch command when the rollout has pending hosts.
PENDING_COMMAND = "to finish the rollout, relaunch on its pending hosts (failed or not run yet):"


@pytest.mark.parametrize("name", ["README.md", "docs/quickstart.md"])
def test_the_printed_command_names_the_runs_own_pending_limit_file(name: str) -> None:
    lines = (ROOT / name).read_text(encoding="utf-8").splitlines()
    printed = [lines[index + 1] for index, line in enumerate(lines) if line.strip("# ") == PENDING_COMMAND]
    assert printed, f"{name} shows no summary"
    for line in printed:
        assert re.search(r"--limit @\.relaunch/site/" + RUN_LIMIT_FILE + "$", line), line
