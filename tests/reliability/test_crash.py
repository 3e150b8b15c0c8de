# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""SIGKILL during a run and during the final write: nothing unreadable, nothing earlier lost, the journal recovered.

The same checks run hundreds of times in scripts/soak-crash.
"""

from __future__ import annotations

import json
import random
import subprocess

import pytest

from ansible_collections.relaunch.status.plugins.plugin_utils._core import store
from tests.conftest import ROOT
from tests.reliability import soak
from tests.reliability.conftest import Live, wait_for


@pytest.fixture
def crashing(tmp_path):
    soak.setup(tmp_path)
    tally = soak.Tally()
    soak.full_run(tmp_path, tally)  # an earlier manifest that every kill must leave intact
    return tmp_path, tally


def test_sigkill_at_random_moments(crashing):
    workdir, tally = crashing
    rng = random.Random(soak.SEED)
    for _attempt in range(4):
        soak.crash(workdir, rng, tally, "random")
    assert tally.kills + tally.late == 4
    assert tally.kills >= 1, tally.report()  # the delays are drawn within one run's duration


@pytest.mark.parametrize("target", soak.WRITE_TARGETS, ids=["run-manifest", "limit-file", "latest"])
def test_sigkill_in_the_middle_of_the_final_write(crashing, target):
    workdir, tally = crashing
    soak.crash(workdir, random.Random(soak.SEED), tally, "write", target)
    assert tally.kills == tally.mid_write == 1, tally.report()
    assert tally.recovered == tally.kills, tally.report()


def test_soak_crash_command_smoke(tmp_path):
    """scripts/soak-crash itself, for a couple of kills, so the long command cannot rot."""
    completed = subprocess.run(
        [str(ROOT / "scripts" / "soak-crash"), "--kills", "1", "--write-share", "0", "--workdir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "soak-crash: passed, runs=2 " in completed.stdout


def test_the_next_run_recovers_a_killed_run(crashing):
    """Recovery by a second ansible-playbook run of the same playbook (readers only replay the journal in memory)."""
    workdir, _tally = crashing
    run_dir = workdir / ".relaunch" / "site"
    live = Live(workdir, "-i", "inventory.ini", name="killed")

    def second_play_journalled() -> bool:
        # The first play has ended once the callback journalled the second one. ansible-core calls the
        # stdout callback first: a kill as soon as "PLAY [second]" is printed can land before the callback
        # hears of that play, and the first play's batch then never finished, as far as the journal knows.
        # The first play (no serial) is one play event; the second play's first batch is the second.
        journals = list(run_dir.glob("*" + store.layout.JOURNAL))
        return "PLAY [second]" in live.stdout and bool(journals) and journals[0].read_text().count('"e":"play"') >= 2

    wait_for(second_play_journalled, live=live)
    assert live.kill()
    journals = list(run_dir.glob("*" + store.layout.JOURNAL))
    assert len(journals) == 1
    killed = journals[0].name[: -len(store.layout.JOURNAL)]

    after = Live(workdir, "-i", "inventory.ini", name="after")
    assert after.wait() == 2, after.stderr
    assert "WARNING" not in after.stderr
    assert not list(run_dir.glob("*" + store.layout.JOURNAL))
    recovered = json.loads((run_dir / f"{killed}.json").read_text())
    assert recovered["complete"] is False
    soak.check_against_output(recovered, live.stdout)
    latest = json.loads((run_dir / "latest.json").read_text())
    assert latest["complete"] is True and latest["run_id"] > killed  # the later run stays the newest
