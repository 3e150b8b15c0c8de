# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Failure messages normalised and grouped: each kind of mask on real Ansible failure messages."""

from __future__ import annotations

import hashlib
import json
import re

import pytest

from ansible_collections.relaunch.status.plugins.plugin_utils._core import failures
from ansible_collections.relaunch.status.plugins.plugin_utils._core.failures import (
    ID_PATTERN,
    LINE_MAX,
    Failure,
    FailureGroup,
    failures_of,
    group_failures,
    group_id,
    id_of,
    natural_key,
    normalise,
    summary_lines,
)
from ansible_collections.relaunch.status.plugins.plugin_utils._core.recorder import cut_message


@pytest.mark.parametrize(
    ("message", "host_words", "expected"),
    [
        (
            "Failed to connect to the host via ssh: ssh: connect to host 10.0.3.17 port 22: Connection refused",
            ("web07", "10.0.3.17"),
            "Failed to connect to the host via ssh: ssh: connect to host <ip> port <n>: Connection refused",
        ),
        (
            'Data could not be sent to remote host "web07.example.com". Make sure this host can be reached over'
            " ssh: ssh: connect to host web07.example.com port 22: Connection timed out",
            ("web07", "web07.example.com"),
            'Data could not be sent to remote host "<host>". Make sure this host can be reached over'
            " ssh: ssh: connect to host <host> port <n>: Connection timed out",
        ),
        (
            "Failed to connect to the host via ssh: ssh: Could not resolve hostname db-03.internal: Name or service"
            " not known",
            ("db-03", "db-03.internal"),
            "Failed to connect to the host via ssh: ssh: Could not resolve hostname <host>: Name or service not known",
        ),
        (
            "Timeout (12s) waiting for privilege escalation prompt: ",
            ("web07",),
            "Timeout (<n>) waiting for privilege escalation prompt: ",
        ),
        (
            "Timeout when waiting for 10.0.3.17:8080",
            ("web07",),
            "Timeout when waiting for <ip>",
        ),
        (
            "Timed out waiting for the connection after 300 seconds (elapsed 301.52s)",
            (),
            "Timed out waiting for the connection after <n> seconds (elapsed <n>)",
        ),
        (
            "The checksum for /tmp/ansible_get_url_payload_x1y2z3/app-2.4.tar.gz did not match"
            " e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855; it was"
            " 5d41402abc4b2a76b9719d911017c592.",
            (),
            "The checksum for <tmp> did not match <hex>; it was <hex>.",
        ),
        (
            "Destination /srv/app not writable: [Errno 28] No space left on device: wrote 1048576 of 2097152"
            " bytes, 12.5MB free (98% used)",
            (),
            "Destination /srv/app not writable: [Errno <n>] No space left on device: wrote <n> of <n>"
            " bytes, <n> free (<n> used)",
        ),
        ("non-zero return code", ("web07",), "non-zero return code"),
        (
            "command exited with rc=-1 after 1,024 attempts",
            (),
            "command exited with rc=<n> after <n> attempts",
        ),
    ],
)
def test_realistic_messages(message, host_words, expected):
    assert normalise(message, host_words) == expected


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("job 123e4567-e89b-12d3-a456-426614174000 failed", "job <uuid> failed"),
        ("JOB 123E4567-E89B-12D3-A456-426614174000 failed", "JOB <uuid> failed"),
        ("at 2026-12-03T17:03:44.123456+00:00", "at <time>"),
        ("at 2026-12-03T17:03:44Z.", "at <time>."),
        ("at 2026-12-03 17:03:44", "at <time>"),
        ("on 2026-12-03, again", "on <time>, again"),
        ("backup-2026-12-03.tar is missing", "backup-<time>.tar is missing"),
        ("Dec  3 17:03:44 web07 sshd[811]: error", "<time> web07 sshd[<n>]: error"),
        ("Thu Dec  3 17:03:44 UTC 2026 boot", "<time> boot"),
        ("Date: Thu, 03 Dec 2026 17:03:44 GMT", "Date: <time>"),
        ("started 17:03:44, ended 17:04:01.250", "started <time>, ended <time>"),
        ("address 192.168.0.1 and 192.168.0.1:2222 and 10.0.0.0/8", "address <ip> and <ip> and <ip>"),
        ("v6 2001:db8::1 and fe80::1ff:fe23:4567:890a and [2001:db8::2]:22", "v6 <ip> and <ip> and <ip>"),
        ("mapped ::ffff:10.0.0.1 and the loopback ::1", "mapped <ip> and the loopback <ip>"),
        ("in brackets [::1] and [10.0.0.1]", "in brackets [<ip>] and [<ip>]"),
        ("full 2001:0db8:85a3:0000:0000:8a2e:0370:7334 address", "full <ip> address"),
        ("container 3f2a9c1b7d8e exited", "container <hex> exited"),
        ("pointer 0x7f3a2b10 freed", "pointer <hex> freed"),
        ("mac 00:1a:2b:3c:4d:5e is down", "mac <hex> is down"),
        ("pod api-7d9f8b6c5 restarted", "pod api-<hex> restarted"),
        ("sizes 10GiB 512k 4096 bytes 3.5M 12KB", "sizes <n> <n> <n> bytes <n> <n>"),
        ("durations 30s 100ms 5m 2h 1d 250us 45sec", "durations <n> <n> <n> <n> <n> <n> <n>"),
        ("version 2.16.0 required, found 3.9", "version <n> required, found <n>"),
        ("temp file ~/.ansible/tmp/ansible-tmp-1700000000.12-1234-5678/AnsiballZ_ping.py", "temp file <tmp>"),
        ("'/root/.ansible/tmp/ansible-tmp-1700000000.12-1234-5678': Permission denied", "'<tmp>': Permission denied"),
        ("/var/tmp/cache/x and /tmp and /tmp/a.b.", "<tmp> and <tmp> and <tmp>."),
        ("line 42, column 7", "line <n>, column <n>"),
    ],
)
def test_each_kind_of_mask(message, expected):
    assert normalise(message) == expected


@pytest.mark.parametrize(
    "message",
    [
        "python3 not found",
        "/usr/bin/python3.11: No module named apt_pkg",
        "sha256 checksum mismatch",
        "ipv4 only, http2 disabled",
        "ansible.builtin.get_url failed",
        "x86_64 and utf-8 and aarch64",
        "node-12 and web07 and s3",
        "The words decade, facade and accede stay",
        "std::string",
        "Error:: nothing to mask",
        "REDACTED ******** stays",
    ],
)
def test_words_holding_digits_stay(message):
    assert normalise(message) == message


def test_host_words_are_whole_words_only():
    assert normalise("web1 and web10 and web1.example.com", ["web1"]) == "<host> and web10 and web1.example.com"
    assert normalise("web1 and web1.example.com", ["web1", "web1.example.com"]) == "<host> and <host>"
    assert normalise("WEB1 is down.", ["web1"]) == "<host> is down."
    assert normalise("host host <host>", ["host"]) == "<host> <host> <host>"


def test_short_host_words_are_left_alone():
    """Masking a host called "a" would mask the article in every message."""
    assert normalise("a host named a failed", ["a", "db"]) == "a host named a failed"


def test_an_address_given_as_a_host_word_is_an_address():
    """A host whose message holds its own address groups with one whose message holds another address."""
    assert normalise("connect to 10.0.3.17 failed", ["10.0.3.17"]) == "connect to <ip> failed"
    assert normalise("connect to 10.0.3.18 failed", ["10.0.3.17"]) == "connect to <ip> failed"


def test_a_host_word_holding_digits_is_masked_before_the_digits():
    assert normalise("api-7d9f8b6c5-x2x9z is gone", ["api-7d9f8b6c5-x2x9z"]) == "<host> is gone"
    assert normalise("reports/web-2026-01-01 is gone", ["web-2026-01-01"]) == "reports/<host> is gone"


def test_none_stays_none():
    assert normalise(None, ["web1"]) is None


def test_natural_order_of_host_names():
    names = ["web10", "web2", "10.0.0.10", "10.0.0.9", "Web3", "db1", "web1"]
    assert sorted(names, key=natural_key) == ["10.0.0.9", "10.0.0.10", "db1", "web1", "web2", "Web3", "web10"]
    assert sorted(["a1", "a", "1", "", "a1b", "a01", "b"], key=natural_key) == ["", "1", "a", "a01", "a1", "a1b", "b"]


SSH = "Failed to connect to the host via ssh: ssh: connect to host {} port 22: Connection refused"


def test_groups_by_task_and_normalised_message():
    failures = [
        Failure("web10", "Gather", "ansible.builtin.setup", SSH.format("10.0.3.10"), True, ("web10", "10.0.3.10")),
        Failure("web2", "Gather", "ansible.builtin.setup", SSH.format("10.0.3.2"), True, ("web2", "10.0.3.2")),
        Failure("db1", "Deploy", "ansible.builtin.copy", "No space left on device: 512MB", False, ("db1",)),
        Failure("web3", "Gather", "ansible.builtin.setup", SSH.format("10.0.3.3"), True, ("web3",)),
        Failure("db2", None, None, None),
    ]
    groups = group_failures(failures)
    assert [(group.task, group.message, group.hosts) for group in groups] == [
        ("Gather", SSH.format("<ip>").replace("22", "<n>"), ["web2", "web3", "web10"]),
        ("Deploy", "No space left on device: <n>", ["db1"]),
        (None, None, ["db2"]),
    ]
    assert groups[0].example == SSH.format("10.0.3.10")
    assert groups[0].unreachable
    assert groups[2].because_of_others


def test_a_group_never_merges_two_tasks_nor_unreachable_with_failed():
    failures = [
        Failure("a1", "Install", "ansible.builtin.apt", "boom"),
        Failure("a2", "Install", "ansible.builtin.dnf", "boom"),
        Failure("a3", "Setup", "ansible.builtin.apt", "boom"),
        Failure("a4", "Install", "ansible.builtin.apt", "boom", True),
        Failure("a5", "Install", "ansible.builtin.apt", "boom"),
    ]
    groups = group_failures(failures)
    assert [(group.task, group.action, group.unreachable, group.hosts) for group in groups] == [
        ("Install", "ansible.builtin.apt", False, ["a1", "a5"]),
        ("Install", "ansible.builtin.apt", True, ["a4"]),
        ("Install", "ansible.builtin.dnf", False, ["a2"]),
        ("Setup", "ansible.builtin.apt", False, ["a3"]),
    ]


def test_order_largest_first_then_task_then_message():
    failures = [
        Failure(f"h{i}", task, "command", message)
        for i, (task, message) in enumerate([("b", "y"), ("b", "x"), ("a", "z"), ("c", "w"), ("c", "w")])
    ]
    assert [(group.task, group.message) for group in group_failures(failures)] == [
        ("c", "w"),
        ("a", "z"),
        ("b", "x"),
        ("b", "y"),
    ]


def test_a_host_counts_once_and_no_log_failures_group_by_task():
    failures = [
        ("web1", "Secret", "command", None, False, ("web1",)),
        ("web1", "Other", "command", "late", False, ("web1",)),
        ("web2", "Secret", "command", None, False, ("web2",)),
    ]
    assert group_failures(failures) == [
        FailureGroup(
            "Secret", "command", None, None, False, ["web1", "web2"], group_id("Secret", "command", False, None)
        )
    ]


def test_failures_of_manifest_host_entries():
    hosts = [
        {"name": "ok1", "statuses": ["all", "ok"], "first_failure": None},
        {
            "name": "web1",
            "statuses": ["all", "failed", "unreachable"],
            "first_failure": {
                "play": "site",
                "task": "Gather",
                "action": "ansible.builtin.setup",
                "unreachable": True,
                "message": SSH.format("10.0.3.1"),
            },
        },
        {"name": "web2", "statuses": ["all", "failed"], "first_failure": None},
    ]
    assert failures_of(hosts, {"web1": ("web1", "10.0.3.1")}) == [
        Failure("web1", "Gather", "ansible.builtin.setup", SSH.format("10.0.3.1"), True, ("web1", "10.0.3.1")),
        Failure("web2", None, None, None, False, ("web2",)),
    ]


def test_the_json_form():
    group = group_failures([Failure("web1", "Gather", "setup", "took 30s", False, ("web1",))])[0]
    assert json.loads(json.dumps(group.as_dict())) == {
        "id": group_id("Gather", "setup", False, "took <n>"),
        "task": "Gather",
        "action": "setup",
        "message": "took <n>",
        "example": "took 30s",
        "unreachable": False,
        "hosts": ["web1"],
    }
    assert group_failures([Failure("web2", None, None, None)])[0].as_dict() == {
        "id": group_id(None, None, False, None),
        "task": None,
        "action": None,
        "message": None,
        "example": None,
        "unreachable": False,
        "hosts": ["web2"],
    }


# --- the id of a group -----------------------------------------------------------------------


def test_a_group_id_is_eight_hex_digits_and_the_same_in_every_run():
    first = group_failures([Failure("web1", "Deploy", "command", "exit 3 on web1 after 12s", False, ("web1",))])
    second = group_failures(
        [
            Failure("web7", "Deploy", "command", "exit 9 on web7 after 40s", False, ("web7",)),
            Failure("db1", "Migrate", "command", "locked", False, ("db1",)),
            Failure("web8", "Deploy", "command", "exit 1 on web8 after 2s", False, ("web8",)),
        ]
    )
    assert re.fullmatch(ID_PATTERN, first[0].id)
    # The same failure on other hosts, at another rank: the same id; the hosts are not part of it.
    assert second[0].hosts == ["web7", "web8"] and second[0].id == first[0].id
    # A pinned value: the id of a failure must not change from one version to the next.
    assert group_id("Deploy", "command", False, "exit <n> on <host> after <n>") == first[0].id == "793ae5ae"


@pytest.mark.parametrize(
    "other",
    [
        ("Deploy again", "command", False, "boom"),  # another task
        ("Deploy", "shell", False, "boom"),  # another action
        ("Deploy", "command", True, "boom"),  # unreachable
        ("Deploy", "command", False, "bang"),  # another message
        ("Deploy", "command", False, None),  # no message (no_log)
        (None, None, False, None),  # failed because of other hosts
    ],
)
def test_a_group_id_differs_for_another_failure(other):
    assert group_id(*other) != group_id("Deploy", "command", False, "boom")


def test_a_recorded_group_without_an_id_gets_the_computed_one():
    recorded = group_failures([Failure("web1", "Gather", "setup", "took 30s", False, ("web1",))])[0].as_dict()
    without = {key: value for key, value in recorded.items() if key != "id"}
    assert id_of(without) == recorded["id"] == FailureGroup.from_dict(without).id
    assert FailureGroup.from_dict({**recorded, "id": "0badc0de"}).id == "0badc0de"  # the recorded one has the say


def sha256(seed: int) -> str:
    return hashlib.sha256(str(seed).encode()).hexdigest()


def sixty_hosts() -> list[Failure]:
    """The run that asked for this: 60 hosts, 32 failing, 20 of them unreachable."""
    failures = []
    for number in range(1, 21):
        address = f"10.0.3.{number}"
        failures.append(Failure(f"web{number:02d}", "Gather Facts", "setup", SSH.format(address), True, (address,)))
    for number in range(21, 31):
        failures.append(
            Failure(
                f"web{number:02d}",
                "Fetch release",
                "ansible.builtin.get_url",
                f"The checksum for /tmp/ansible_get_url_payload_{number:x}ab/app.tar.gz did not match"
                f" {sha256(number)}; it was {sha256(-number)}.",
                False,
                (f"web{number:02d}",),
            )
        )
    failures += [Failure("web31", None, None, None), Failure("web32", None, None, None)]
    return failures


def test_summary_of_sixty_hosts():
    assert summary_lines(group_failures(sixty_hosts())) == [
        "  20 hosts unreachable at TASK [Gather Facts]: " + SSH.format("<ip>").replace("22", "<n>"),
        "      web01, web02, web03, web04, web05, web06, web07, web08, web09, web10 and 10 more",
        "  10 hosts failed at TASK [Fetch release]: The checksum for <tmp> did not match <hex>; it was <hex>.",
        "      web21, web22, web23, web24, web25, web26, web27, web28, web29, web30",
        "  2 hosts failed because of other hosts (any_errors_fatal, max_fail_percentage or a failed run_once task)",
        "      web31, web32",
    ]


def test_summary_says_what_it_leaves_out():
    failures = [Failure(f"h{i}", f"Task {i:02d}", "command", "boom") for i in range(7)]
    failures.append(Failure("h7", "Task 00", "command", "boom"))
    lines = summary_lines(group_failures(failures), max_lines=5)
    assert lines == [
        "  2 hosts failed at TASK [Task 00]: boom",
        "      h0, h7",
        "  1 host failed at TASK [Task 01]: boom",
        "      h1",
        "  5 more failure groups of 5 hosts not shown",
    ]
    assert summary_lines(group_failures(failures), max_lines=1) == ["  7 failure groups of 8 hosts not shown"]
    assert summary_lines(group_failures(failures), max_lines=0) == []
    assert summary_lines([]) == []


def test_summary_lines_are_cut():
    long_task = "T" * 300
    names = [f"host-with-a-rather-long-name-{i:03d}.example.com" for i in range(40)]
    failures = [Failure(name, long_task, "command", "x" * 500, False, (name,)) for name in names]
    lines = summary_lines(group_failures(failures))
    assert len(lines) == 2
    assert all(len(line) <= LINE_MAX for line in lines)
    assert lines[0].endswith("...")
    assert lines[1].endswith(" and 37 more")


@pytest.mark.parametrize("message", ["id 000000a-5 gone", "ab12cd34-7", "[::1]:22 and [::1]"])
def test_a_placeholder_does_not_start_a_new_mask(message):
    """What followed a word still follows a word once the word is a placeholder: normalising twice changes nothing."""
    once = normalise(message)
    assert normalise(once) == once


def test_next_to_a_placeholder():
    assert normalise("id 000000a-5 gone") == "id <hex>-5 gone"


def test_messages_cut_by_the_recorder_group_whatever_their_host():
    """The recorder cuts at 300 characters: the longer the host's name, the less of the end is kept."""
    tail = " ".join(f"line {number}: debug1: reading configuration data /etc/ssh/ssh_config" for number in range(9))
    messages = [
        cut_message(f"Failed to connect to the host via ssh: {name}: Permission denied (publickey). {tail}")
        for name in ("db1", "a-very-long-host-name-in-a-very-long-domain.example.com")
    ]
    assert messages[0].endswith("\u2026")
    assert messages[1].endswith("\u2026")
    names = ["db1", "a-very-long-host-name-in-a-very-long-domain.example.com"]
    first, second = (normalise(message, [name]) for message, name in zip(messages, names))
    assert first == second
    assert first.startswith("Failed to connect to the host via ssh: <host>: Permission denied (publickey). line <n>")
    assert first.endswith("\u2026")
    assert first.endswith(" configuration data \u2026")
    assert len(first) <= 202


# --- each message masked once a process ------------------------------------------------------------------


def test_a_message_is_masked_once_for_the_same_words(monkeypatch):
    monkeypatch.setattr(failures, "_memo", {})
    message = "ssh: connect to host web07.example.com port 22: Connection timed out"
    first = normalise(message, ["web07.example.com"])
    assert failures._memo == {(message, ("web07.example.com",)): first}
    calls = []
    monkeypatch.setattr(failures, "_masked", lambda *args: calls.append(args) or "not masked again")
    assert normalise(message, ("web07.example.com",)) == first
    assert calls == []


def test_another_hosts_words_do_not_reuse_an_entry(monkeypatch):
    monkeypatch.setattr(failures, "_memo", {})
    message = "disk full on web07 and web08"
    assert normalise(message, ("web07",)) == "disk full on <host> and web08"
    assert normalise(message, ("web08",)) == "disk full on web07 and <host>"
    assert normalise(message, ("web07", "asset-7")) == "disk full on <host> and web08"
    assert normalise(message) == "disk full on web07 and web08"
    assert len(failures._memo) == 4


def test_the_memo_starts_over_when_full(monkeypatch):
    monkeypatch.setattr(failures, "_memo", {})
    monkeypatch.setattr(failures, "MEMO_MAX", 2)
    for number in range(5):
        assert normalise(f"port {number} of web{number}", (f"web{number}",)) == "port <n> of <host>"
        assert len(failures._memo) <= 2
    assert normalise(None, ("web1",)) is None
