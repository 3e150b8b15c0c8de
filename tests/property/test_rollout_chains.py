# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Never widen, never lose, across chained runs: random sequences of full runs, relaunches of a status set,
--check runs, interrupted runs, runs the select role narrowed, renames and failures, each fed to a Recorder as
events and published. After every run: (1) no relaunch selected a host that is not pending, and (2) no pending
host is missing from ``pending``, where pending is the model's own truth, computed here simply: each host's
outcome in the latest run of its rollout that ran it."""

from __future__ import annotations

import os
import tempfile

from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.relaunch.status.plugins.plugin_utils._core import store
from ansible_collections.relaunch.status.plugins.plugin_utils._core.recorder import Recorder
from ansible_collections.relaunch.status.plugins.plugin_utils._core.selection import (
    CurrentHost,
    limit_file_texts,
    select,
)

IDENTITIES = ("i0", "i1", "i2", "i3", "i4")
OUTCOMES = ("ok", "ok", "changed", "failed", "unreachable")
RELAUNCH_STATUSES = ("failed", "not_run", "pending", "unreachable")
PLAYBOOK = "/srv/site.yml"

outcomes = st.fixed_dictionaries({identity: st.sampled_from(OUTCOMES) for identity in IDENTITIES})
statuses = st.lists(st.sampled_from(RELAUNCH_STATUSES), min_size=1, max_size=2, unique=True)
steps = st.one_of(
    st.tuples(st.just("full"), outcomes),
    st.tuples(st.just("relaunch"), outcomes, statuses),
    st.tuples(st.just("check"), outcomes),
    st.tuples(st.just("interrupted"), outcomes, st.integers(0, len(IDENTITIES))),
    st.tuples(st.just("narrowed"), outcomes, statuses),
    st.tuples(st.just("rename"), st.sampled_from(IDENTITIES)),
)


class Chain:
    """The inventory, the store and the model's truth of one chain of runs."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.names = {identity: "h" + identity[1:] for identity in IDENTITIES}  # identity -> current name
        self.truth: dict[str, bool] | None = None  # identity -> pending, for the hosts of the current rollout
        self.runs = 0
        self.renames = 0

    def current(self) -> list[CurrentHost]:
        return [CurrentHost(name, identity) for identity, name in self.names.items()]

    def latest(self) -> dict | None:
        path = os.path.join(self.directory, store.layout.LATEST)
        return store.reading.load(path) if os.path.exists(path) else None

    def selected(self, wanted: list[str]) -> set[str]:
        """The current names a relaunch of ``wanted`` selects (every front end selects through this engine)."""
        latest = self.latest()
        if latest is None:
            return set()
        selection = select([("latest.json", latest)], wanted, self.current(), allow_empty=True, build_limit=False)
        return set(selection.hosts)

    def pending_names(self) -> set[str]:
        return {self.names[identity] for identity, pending in (self.truth or {}).items() if pending}

    def run(self, outcome_of: dict, targeted: list[str], ran: list[str], *, limit: str = "", **kind) -> None:
        """Record one run as events, publish it and update the model."""
        self.runs += 1
        check, complete, narrowed = kind.get("check", False), kind.get("complete", True), kind.get("narrowed", False)
        run_id = f"20260101T0000{self.runs:02d}000000Z-{self.runs}-abcd"
        recorder = Recorder()
        events = [
            {
                "e": "start",
                "run_id": run_id,
                "playbook": PLAYBOOK,
                "started": "2026-01-01T00:00:00+00:00",
                "invocation": {"limit": limit, "limit_given": limit, "inventory": ["i"], "tags": [], "skip_tags": []},
                "passwords_needed_to_start": [],
                "check_mode": check,
                "ansible_version": "2.21.0",
            },
            *({"e": "host", "name": self.names[i], "identity": i, "identity_var": "relaunch_id"} for i in targeted),
            {"e": "play", "name": "site", "batch": [self.names[i] for i in targeted], "pending": []},
        ]
        for identity in targeted:
            if identity not in ran:  # ended by the select role: its only result is the selection's own
                events.append({"e": "result", "host": self.names[identity], "outcome": "ok", "selection": True})
            elif narrowed:
                events.append(
                    {"e": "result", "host": self.names[identity], "outcome": "ok", "selection": True, "narrowed": True}
                )
        failed = []
        for identity in ran:
            outcome = outcome_of[identity]
            events.append({"e": "result", "host": self.names[identity], "outcome": outcome, "msg": "boom"})
            if outcome in ("failed", "unreachable"):
                failed.append(self.names[identity])
        events.append({"e": "verdict", "failed": failed})
        for event in events:
            recorder.apply(event)
        names = frozenset(self.names.values())
        store.publishing.publish(
            self.directory,
            recorder.snapshot(complete, "2026-01-01T00:01:00+00:00"),
            20,
            lambda manifest: limit_file_texts(manifest, ["all", "ungrouped"], names),
            names,
        )
        if not check and ran:
            self._merge_truth(outcome_of, targeted, ran, limit, narrowed, complete)

    def _merge_truth(self, outcome_of, targeted, ran, limit, narrowed, complete) -> None:
        """The model's own rollout: a full run that ran every pending host starts one; any other run continues it."""
        pending_left = any(pending and identity not in ran for identity, pending in (self.truth or {}).items())
        if self.truth is None or (not limit and not narrowed and not pending_left):
            self.truth = {}
        for identity in targeted:
            if identity in ran:
                self.truth[identity] = not complete or outcome_of[identity] in ("failed", "unreachable")
            else:
                self.truth.setdefault(identity, True)

    def check(self) -> None:
        """(2): every pending host is in pending, and pending holds nothing else."""
        assert self.selected(["pending"]) == self.pending_names()


def relaunch_limit(names: set[str]) -> str:
    return ",".join(sorted(names))


# Each example publishes up to nine runs: fewer examples than the fast profile's default, all of the soak's.
CHAIN_EXAMPLES = min(settings.default.max_examples, 40) if os.environ.get("HYPOTHESIS_PROFILE") != "soak" else None


@settings(max_examples=CHAIN_EXAMPLES or settings.default.max_examples)
@given(st.lists(steps, min_size=1, max_size=8))
def test_chained_runs_never_widen_and_never_lose_a_pending_host(chain_steps):
    with tempfile.TemporaryDirectory() as directory:
        chain = Chain(directory)
        everyone = list(IDENTITIES)
        chain.run({identity: "ok" for identity in everyone}, everyone, everyone)  # the first run deploys all
        chain.check()
        for step in chain_steps:
            kind = step[0]
            if kind == "rename":
                chain.renames += 1
                chain.names[step[1]] = f"r{chain.renames}"
                continue
            if kind == "full":
                chain.run(step[1], everyone, everyone)
            elif kind == "check":
                chain.run(step[1], everyone, everyone, check=True)
            elif kind == "interrupted":
                chain.run(step[1], everyone, everyone[: step[2]], complete=False)
            else:
                chosen = chain.selected(step[2])
                # (1): a relaunch selects only hosts that are pending.
                assert chosen <= chain.pending_names(), (chosen, chain.truth)
                by_name = {name: identity for identity, name in chain.names.items()}
                ran = [by_name[name] for name in sorted(chosen)]
                if kind == "relaunch":
                    if ran:  # an empty selection is refused: nothing runs
                        chain.run(step[1], ran, ran, limit=relaunch_limit(chosen))
                else:  # the role targets every host and ends those it did not select
                    chain.run(step[1], everyone, ran, narrowed=len(ran) < len(everyone))
            chain.check()
