# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A run directory that cannot be created: the one error line names the file in the way."""

from __future__ import annotations

from pathlib import Path

import pytest

from ansible_collections.relaunch.status.plugins.plugin_utils._core.errors import RelaunchError
from ansible_collections.relaunch.status.plugins.plugin_utils._core.store.layout import ensure_run_directory


@pytest.mark.parametrize("under", ["", "relaunch/site"])
def test_the_error_names_the_file_in_the_way(tmp_path: Path, under: str) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("not a directory\n")
    target = blocker / under if under else blocker
    with pytest.raises(RelaunchError) as raised:
        ensure_run_directory(str(target))
    message = str(raised.value)
    assert f"{blocker} is a file, not a directory" in message
    assert "RELAUNCH_MANIFEST_DIR" in message and "\n" not in message
    assert blocker.read_text() == "not a directory\n"
