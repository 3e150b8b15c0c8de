# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ansible-lint with the production profile passes on the collection, its role and its example playbooks."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.ecosystem.collection import clean_env, copy_collection, ensure_venv

REQUIREMENTS = Path(__file__).with_name("requirements-lint.txt")


def test_ansible_lint_production(tmp_path: Path) -> None:
    requirements = [
        line.split("#")[0].strip() for line in REQUIREMENTS.read_text().splitlines() if line.split("#")[0].strip()
    ]
    bin_dir = ensure_venv("lint", requirements)
    collection = copy_collection(tmp_path / "tree")
    home = tmp_path / "home"
    # ansible-lint finds the collection where it lies; --offline: nothing is fetched from Galaxy.
    env = clean_env(home, tmp_path / "tree", bin_dir=bin_dir)
    lint = subprocess.run(
        [str(bin_dir / "ansible-lint"), "--offline", "--nocolor", "--profile", "production"],
        cwd=collection,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    output = lint.stdout + lint.stderr
    assert lint.returncode == 0, output[-6000:]
    assert "Profile 'production' was required, and it passed" in output
    # What it covered: at least every YAML file of the role, the demo and the example playbooks.
    ours = [path for top in ("roles", "demo", "docs/examples") for path in (collection / top).rglob("*.yml")]
    processed = int(re.search(r"in (\d+) files processed", output).group(1))
    assert processed >= len(ours) > 0
