# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The recorder alone: streams of plain events in, manifests out; no Ansible involved."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.relaunch.status.plugins.plugin_utils._core.recorder import (
    COUNTERS,
    MESSAGE_MAX,
    OUTCOMES,
    REDACTED,
    STATUSES,
    Recorder,
    cut_message,
    failure_message,
)

START = {
    "e": "start",
    "run_id": "20260101T000000000000Z-1-abcd",
    "playbook": "/srv/site.yml",
    "started": "2026-01-01T00:00:00+00:00",
    "invocation": {"limit": "web", "inventory": ["/srv/inventory"], "tags": ["all"], "skip_tags": []},
    "passwords_needed_to_start": ["become_password"],
    "check_mode": False,
    "ansible_version": "2.19.14",
}


def play(batch, pending=None, name="play"):
    event = {"e": "play", "name": name, "batch": list(batch)}
    if pending is not None:
        event["pending"] = list(pending)
    return event


def result(host, outcome, **extra):
    return {"e": "result", "host": host, "outcome": outcome, **extra}


def failure(host, task="t", msg="boom", **extra):
    fields = {"ignored": False, "rescued": False, "play": "play", "task": task, "action": "fail", "msg": msg, **extra}
    return result(host, "failed", **fields)


def record(events, complete=True):
    recorder = Recorder()
    recorder.apply(START)
    for event in events:
        recorder.apply(event)
    return recorder.manifest(complete=complete, finished="2026-01-01T00:01:00+00:00")


def hosts_of(manifest):
    return {host["name"]: host for host in manifest["hosts"]}


def with_status(manifest, status):
    return {host["name"] for host in manifest["hosts"] if status in host["statuses"]}


# --- statuses from results --------------------------------------------------------------------

# (events of one host "h" after a one-host play, its expected statuses, its expected non-zero counters)
OUTCOME_CASES = [
    ("ok", [result("h", "ok")], ["all", "ok"], {"ok": 1}),
    ("changed", [result("h", "changed")], ["all", "changed", "ok"], {"ok": 1, "changed": 1}),
    ("skipped", [result("h", "skipped")], ["all", "skipped"], {"skipped": 1}),
    ("failed", [failure("h")], ["all", "failed", "pending"], {"failures": 1}),
    (
        "unreachable",
        [result("h", "unreachable", ignored=False, msg="no route")],
        ["all", "failed", "pending", "unreachable"],
        {"unreachable": 1},
    ),
    ("ignored failure", [failure("h", ignored=True)], ["all", "ignored", "ok"], {"ok": 1, "ignored": 1}),
    (
        "ignored unreachable",
        [result("h", "unreachable", ignored=True)],
        ["all", "ignored", "ok"],
        {"ok": 1, "ignored": 1},
    ),
    ("rescued", [failure("h", rescued=True), result("h", "ok")], ["all", "ok", "rescued"], {"ok": 1, "rescued": 1}),
    (
        "ok then failed",
        [result("h", "changed"), result("h", "skipped"), failure("h")],
        ["all", "changed", "failed", "ok", "pending", "skipped"],
        {"ok": 1, "changed": 1, "skipped": 1, "failures": 1},
    ),
    # Without a selection that narrowed the run, a host of a finished play ran it even with no result of its own
    # (a run_once task reports for one host): test_hosts_the_selection_ended_did_not_run has the other case.
    ("no result at all, in a run nothing narrowed", [], ["all"], {}),
]


@pytest.mark.parametrize(
    ("events", "statuses", "counters"), [case[1:] for case in OUTCOME_CASES], ids=[case[0] for case in OUTCOME_CASES]
)
def test_statuses_and_counters_from_results(events, statuses, counters):
    manifest = record([play(["h"], pending=[]), *events])
    host = hosts_of(manifest)["h"]
    assert host["statuses"] == statuses
    assert host["counters"] == {key: counters.get(key, 0) for key in COUNTERS}


def test_retry_counts_count_hosts_per_status():
    manifest = record([play(["a", "b", "c"], pending=[]), result("a", "changed"), failure("b"), result("c", "skipped")])
    assert manifest["retry_counts"] == {
        "all": 3,
        "failed": 1,
        "unreachable": 0,
        "changed": 1,
        "ok": 1,
        "skipped": 1,
        "rescued": 0,
        "ignored": 0,
        "not_run": 0,
        "pending": 1,
    }
    assert list(manifest["retry_counts"]) == list(STATUSES)


def test_stats_replace_counters_with_ansible_core_figures():
    manifest = record(
        [
            play(["a"], pending=[]),
            result("a", "ok"),
            {"e": "stats", "hosts": {"a": {"ok": 3, "changed": 2, "rescued": 1}}},
        ]
    )
    host = hosts_of(manifest)["a"]
    assert host["counters"] == {
        "ok": 3,
        "changed": 2,
        "failures": 0,
        "unreachable": 0,
        "skipped": 0,
        "rescued": 1,
        "ignored": 0,
    }
    assert host["statuses"] == ["all", "changed", "ok", "rescued"]


def test_hosts_only_in_cumulative_stats_are_left_out():
    # Several playbooks on one command line share ansible-core's stats: a host of an earlier playbook is not this one's.
    manifest = record([play(["a"], pending=[]), {"e": "stats", "hosts": {"a": {"ok": 1}, "earlier": {"ok": 4}}}])
    assert set(hosts_of(manifest)) == {"a"}


# --- the verdict: ansible-core's own failed and unreachable sets ----------------------------------


def test_verdict_replaces_derived_failures():
    # clear_host_errors: the host failed a task, then ansible-core forgot it.
    manifest = record([play(["a", "b"], pending=[]), failure("a"), {"e": "verdict", "failed": []}])
    assert with_status(manifest, "failed") == set()
    host = hosts_of(manifest)["a"]
    assert host["counters"]["failures"] == 1
    assert host["first_failure"] is None, "a host that is not failed has no failure to show"


def test_verdict_adds_hosts_without_a_failure_of_their_own():
    # any_errors_fatal, max_fail_percentage or run_once: ansible-core fails hosts that failed no task.
    manifest = record([play(["a", "b", "c"], pending=[]), failure("a"), {"e": "verdict", "failed": ["a", "b", "c"]}])
    assert with_status(manifest, "failed") == {"a", "b", "c"}
    assert hosts_of(manifest)["b"]["first_failure"] is None
    assert hosts_of(manifest)["a"]["first_failure"]["task"] == "t"


def test_failures_after_the_last_verdict_still_count():
    # A run interrupted mid-batch: ansible-core gave no verdict for the failures of the running batch yet.
    manifest = record(
        [play(["a", "b"], pending=[]), failure("a"), {"e": "verdict", "failed": ["a"]}, failure("b")], complete=False
    )
    assert with_status(manifest, "failed") == {"a", "b"}


def test_a_later_verdict_wins_over_an_earlier_one():
    manifest = record(
        [play(["a", "b"], pending=[]), {"e": "verdict", "failed": ["a"]}, {"e": "verdict", "failed": ["b"]}]
    )
    assert with_status(manifest, "failed") == {"b"}


def test_verdict_may_name_a_host_this_playbook_never_targeted():
    # ansible-core carries unreachable hosts over to later playbooks of the command line, and lists them in .retry.
    manifest = record([play(["a"], pending=[]), {"e": "verdict", "failed": ["gone"]}])
    assert with_status(manifest, "failed") == {"gone"}


# --- not_run ---------------------------------------------------------------------------------------


def test_later_batches_of_an_aborted_play_are_not_run():
    manifest = record(
        [play(["a", "b"], pending=["c", "d", "e"]), failure("a"), failure("b"), {"e": "verdict", "failed": ["a", "b"]}]
    )
    assert with_status(manifest, "not_run") == {"c", "d", "e"}
    assert with_status(manifest, "all") == {"a", "b", "c", "d", "e"}
    assert with_status(manifest, "failed") == {"a", "b"}


def test_batches_that_ran_are_not_not_run():
    manifest = record(
        [
            play(["a"], pending=["b", "c"]),
            result("a", "ok"),
            play(["b"]),
            result("b", "ok"),
            play(["c"]),
            result("c", "ok"),
        ]
    )
    assert with_status(manifest, "not_run") == set()


def test_a_new_play_keeps_the_previous_play_pending_hosts_not_run():
    manifest = record(
        [
            play(["a"], pending=["b"], name="one"),
            result("a", "ok"),
            play(["c"], pending=[], name="two"),
            result("c", "ok"),
        ]
    )
    assert with_status(manifest, "not_run") == {"b"}


def test_an_incomplete_run_leaves_its_current_batch_not_run_except_failed_hosts():
    events = [
        play(["a"], pending=["b", "c", "d"]),
        result("a", "ok"),
        play(["b", "c"]),
        result("b", "ok"),
        failure("c"),
    ]
    manifest = record(events, complete=False)
    assert manifest["complete"] is False
    assert with_status(manifest, "not_run") == {"b", "d"}
    assert with_status(manifest, "failed") == {"c"}
    complete = record(events, complete=True)
    assert with_status(complete, "not_run") == {"d"}


# --- provisioned hosts -----------------------------------------------------------------------------


def test_provisioned_hosts_record_their_provisioners():
    events = [
        play(["p1", "p2"], pending=[]),
        {"e": "provision", "host": "new", "by": "p2", "identity": "id-new", "identity_var": "serial"},
        {"e": "provision", "host": "new", "by": "p1", "identity": None, "identity_var": None},
        {"e": "provision", "host": "new", "by": "p2"},
    ]
    # Like an inventory host, a created host is recorded once a play targets it (after --limit).
    assert "new" not in hosts_of(record(events))
    assert "new" not in hosts_of(record(events, complete=False))
    hosts = hosts_of(record([*events, play(["new"], pending=[])]))
    host = hosts["new"]
    assert host["provisioned"] is True
    assert host["provisioned_by"] == ["p1", "p2"]
    assert (host["identity"], host["identity_var"]) == ("id-new", "serial")
    assert host["statuses"] == ["all"], "targeted, ran its play with no result of its own"
    assert hosts["p1"]["provisioned"] is False


def test_hosts_of_plays_that_never_started_are_not_run():
    events = [
        play(["a", "b"], pending=[]),
        failure("b"),
        {"e": "verdict", "failed": ["b"]},
        {"e": "unstarted", "hosts": ["a", "b", "c"]},
    ]
    manifest = record(events)
    assert with_status(manifest, "all") == {"a", "b", "c"}
    assert with_status(manifest, "not_run") == {"a", "c"}, "a failed host stays failed only"
    assert with_status(manifest, "failed") == {"b"}


def test_provisioned_host_that_fails_later():
    events = [
        play(["p"], pending=[]),
        {"e": "provision", "host": "new", "by": "p", "identity": None, "identity_var": None},
        play(["new"], pending=[]),
        failure("new"),
        {"e": "verdict", "failed": ["new"]},
    ]
    host = hosts_of(record(events))["new"]
    assert host["statuses"] == ["all", "failed", "pending"]
    assert host["provisioned_by"] == ["p"]


def test_identity_from_host_events():
    manifest = record(
        [
            {"e": "host", "name": "a", "identity": "m-1", "identity_var": "relaunch_id"},
            {"e": "host", "name": "b"},
            play(["a", "b"], pending=[]),
        ]
    )
    hosts = hosts_of(manifest)
    assert (hosts["a"]["identity"], hosts["a"]["identity_var"]) == ("m-1", "relaunch_id")
    assert (hosts["b"]["identity"], hosts["b"]["identity_var"]) == (None, None)


# --- first failure and messages ------------------------------------------------------------------


def test_first_failure_is_the_first_one():
    manifest = record(
        [play(["a"], pending=[]), failure("a", task="first", msg="one"), failure("a", task="second", msg="two")]
    )
    assert hosts_of(manifest)["a"]["first_failure"] == {
        "play": "play",
        "task": "first",
        "action": "fail",
        "unreachable": False,
        "message": "one",
    }


def test_first_failure_of_an_unreachable_host():
    manifest = record(
        [
            play(["a"], pending=[]),
            result("a", "unreachable", ignored=False, task="ping", action="ping", play="p", msg="Connection refused"),
        ]
    )
    assert hosts_of(manifest)["a"]["first_failure"] == {
        "play": "p",
        "task": "ping",
        "action": "ping",
        "unreachable": True,
        "message": "Connection refused",
    }


def test_ignored_and_rescued_failures_are_not_first_failures():
    manifest = record(
        [
            play(["a"], pending=[]),
            failure("a", ignored=True, task="ignored"),
            failure("a", rescued=True, task="rescued"),
            failure("a", task="real"),
        ]
    )
    assert hosts_of(manifest)["a"]["first_failure"]["task"] == "real"


@pytest.mark.parametrize(
    ("result", "no_log"),
    [
        ({"msg": "the token is tok-6a2b9c"}, True),
        ({"msg": "the token is tok-6a2b9c", "censored": "the output has been hidden"}, False),
    ],
    ids=["no_log task", "censored result"],
)
def test_no_log_failure_has_no_message(result, no_log):
    assert failure_message(result, no_log=no_log) is None
    assert failure_message({"msg": "the token is tok-6a2b9c"}, no_log=False) == "the token is tok-6a2b9c"


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        ({"msg": "bad", "stderr": "err"}, "bad"),
        ({"reason": "why", "stderr": "err"}, "why"),
        ({"stderr": "err", "module_stderr": "module"}, "err"),
        ({"module_stderr": "module"}, "module"),
        ({"msg": ""}, None),
        ({}, None),
    ],
)
def test_failure_message_source(result, expected):
    assert failure_message(result, no_log=False) == expected


def test_secrets_are_redacted_from_failure_messages():
    secrets = ["s3cr3t", "s3cr3t-and-more", "multi\nline secret", ""]
    message = failure_message(
        {"msg": "login s3cr3t-and-more failed; s3cr3t;\n multi line  secret!"}, no_log=False, secrets=secrets
    )
    assert message == f"login {REDACTED} failed; {REDACTED}; {REDACTED}!"


def test_secrets_are_redacted_before_the_message_is_cut():
    secret = "tail-secret-" + "z" * 40
    message = failure_message({"msg": "x" * (MESSAGE_MAX - 20) + secret}, no_log=False, secrets=[secret])
    assert "tail-secret" not in message and message.endswith(REDACTED)


def test_long_messages_are_cut():
    manifest = record([play(["a"], pending=[]), failure("a", msg="x" * 10_000)])
    message = hosts_of(manifest)["a"]["first_failure"]["message"]
    assert len(message) == MESSAGE_MAX
    assert message.endswith("\u2026")


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (None, None),
        ("", ""),
        ("short", "short"),
        ("multi\nline\n\n  text\t here", "multi line text here"),
        ("y" * MESSAGE_MAX, "y" * MESSAGE_MAX),
        ("y" * (MESSAGE_MAX + 1), "y" * (MESSAGE_MAX - 1) + "\u2026"),
        (12345, "12345"),
    ],
)
def test_cut_message(message, expected):
    assert cut_message(message) == expected


# --- robustness ------------------------------------------------------------------------------------


def test_unknown_event_kinds_are_ignored():
    events = [
        play(["a"], pending=[]),
        {"e": "from-the-future", "host": "a", "outcome": "failed"},
        {"no": "kind"},
        {},
        result("a", "ok"),
    ]
    manifest = record(events)
    assert manifest == record([play(["a"], pending=[]), result("a", "ok")])


def test_manifest_carries_the_start_event_and_is_json():
    manifest = record([play(["a"], pending=[])], complete=False)
    assert manifest["schema_version"] == 2
    for key in (
        "run_id",
        "playbook",
        "started",
        "invocation",
        "passwords_needed_to_start",
        "check_mode",
        "ansible_version",
    ):
        assert manifest[key] == START[key]
    assert "e" not in manifest
    assert manifest["finished"] == "2026-01-01T00:01:00+00:00"
    assert manifest["complete"] is False
    assert json.loads(json.dumps(manifest)) == manifest


def test_hosts_are_sorted_by_name():
    manifest = record([play(["c", "a", "b"], pending=[])])
    assert [host["name"] for host in manifest["hosts"]] == ["a", "b", "c"]


# --- properties over arbitrary event streams ----------------------------------------------------

NAMES = st.sampled_from(["a", "b", "c", "d", "e"])
EVENTS = st.one_of(
    st.builds(play, st.lists(NAMES, max_size=3, unique=True), st.none() | st.lists(NAMES, max_size=3, unique=True)),
    st.builds(
        lambda host, outcome, ignored, rescued: result(host, outcome, ignored=ignored, rescued=rescued, msg="m"),
        NAMES,
        st.sampled_from(OUTCOMES),
        st.booleans(),
        st.booleans(),
    ),
    st.builds(lambda failed: {"e": "verdict", "failed": failed}, st.lists(NAMES, max_size=3, unique=True)),
    st.builds(lambda host, by: {"e": "provision", "host": host, "by": by}, st.sampled_from(["x", "y"]), NAMES),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(EVENTS, max_size=25), st.booleans())
def test_manifest_invariants(events, complete):
    manifest = record(events, complete=complete)
    counts = {status: len(with_status(manifest, status)) for status in STATUSES}
    assert manifest["retry_counts"] == counts
    for host in manifest["hosts"]:
        statuses = host["statuses"]
        assert statuses == sorted(set(statuses))
        assert "all" in statuses
        assert not {"failed", "not_run"} <= set(statuses)
        for status in ("unreachable", "changed", "ok", "skipped", "rescued", "ignored"):
            assert (status in statuses) == (host["counters"][status] > 0)
        assert (host["first_failure"] is not None) <= ("failed" in statuses)
    # A verdict is exactly ansible-core's failed set when no failure came after it.
    last_verdict = max((i for i, event in enumerate(events) if event["e"] == "verdict"), default=None)
    if last_verdict is not None:
        later = {
            event["host"]
            for event in events[last_verdict:]
            if event["e"] == "result"
            and event["outcome"] in ("failed", "unreachable")
            and not event["ignored"]
            and not (event["outcome"] == "failed" and event["rescued"])
        }
        assert with_status(manifest, "failed") == set(events[last_verdict]["failed"]) | later


def test_an_unknown_outcome_is_ignored_not_counted():
    recorder = Recorder()
    recorder.apply({"e": "play", "name": "p", "batch": ["a"], "pending": []})
    recorder.apply({"e": "result", "host": "a", "outcome": "exploded"})
    host = recorder.manifest(complete=True, finished=None)["hosts"][0]
    assert set(host["counters"].values()) == {0}
    assert host["statuses"] == ["all"]


def test_hosts_the_selection_ended_did_not_run():
    recorder = Recorder()
    recorder.apply({"e": "play", "name": "p", "batch": ["kept", "ended"], "pending": []})
    recorder.apply({"e": "result", "host": "kept", "outcome": "ok", "selection": True, "narrowed": True})
    recorder.apply({"e": "result", "host": "kept", "outcome": "changed"})
    recorder.apply({"e": "result", "host": "ended", "outcome": "skipped", "selection": True})
    hosts = {host["name"]: host for host in recorder.manifest(complete=True, finished="t")["hosts"]}
    assert hosts["ended"]["statuses"] == ["all", "not_run", "pending"] and hosts["ended"]["run_id"] is None
    assert "not_run" not in hosts["kept"]["statuses"]


def test_recording_a_first_failure_masks_its_message_for_the_end_of_the_run(monkeypatch):
    from ansible_collections.relaunch.status.plugins.plugin_utils._core import failures

    monkeypatch.setattr(failures, "_memo", {})
    recorder = Recorder()
    recorder.apply(START)
    recorder.apply({"e": "host", "name": "web1", "identity": "asset-1", "identity_var": "relaunch_id"})
    recorder.apply({"e": "host", "name": "web2", "identity": None, "identity_var": None})
    recorder.apply(play(["web1", "web2"], []))
    first = {"e": "result", "host": "web1", "outcome": "failed", "task": "t", "action": "command"}
    recorder.apply({**first, "msg": "web1 (asset-1): 3 retries\nfailed"})
    recorder.apply({**first, "msg": "a second failure, not the first"})
    recorder.apply({**first, "host": "web2", "outcome": "unreachable", "msg": "no route to web2"})
    recorder.apply({**first, "host": "web2", "outcome": "ok", "msg": "fine"})
    assert failures._memo == {
        ("web1 (asset-1): 3 retries failed", ("web1", "asset-1")): "<host> (<host>): <n> retries failed",
        ("no route to web2", ("web2",)): "no route to <host>",
    }
    calls = []
    masked = failures._masked
    monkeypatch.setattr(failures, "_masked", lambda *args: calls.append(args) or masked(*args))
    groups = recorder.snapshot(True, "2026-01-01T00:01:00+00:00").head["failure_groups"]
    assert calls == []  # the end of the run masks nothing again
    assert [(group["message"], group["hosts"]) for group in groups] == [
        ("<host> (<host>): <n> retries failed", ["web1"]),
        ("no route to <host>", ["web2"]),
    ]
