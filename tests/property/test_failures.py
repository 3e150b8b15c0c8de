# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Failure groups: messages that differ only in their varying parts group together, a group never
mixes tasks, every host is in exactly one group, and the summary stays within its lines."""

from __future__ import annotations

import datetime

from hypothesis import assume, given
from hypothesis import strategies as st

from ansible_collections.relaunch.status.plugins.plugin_utils._core.failures import (
    LINE_MAX,
    Failure,
    group_failures,
    natural_key,
    normalise,
    summary_lines,
)
from ansible_collections.relaunch.status.plugins.plugin_utils._core.recorder import cut_message

# Words of real failure messages: none holds a digit, a month or a weekday, nor looks like a host name below.
WORDS = (
    *("failed", "to", "connect", "host", "via", "ssh", "port", "Connection", "refused", "timed", "out"),
    *("waiting", "for", "checksum", "did", "not", "match", "wrote", "of", "bytes", "free", "on", "device"),
    *("at", "job", "container", "since", "file", "error", "rc", "return", "code", "non-zero", "the", "was"),
)
# What may stand around a varying part in a message.
SEPARATORS = (" ", " (", ") ", ", ", " '", "' ", ' "', '" ', " [", "] ", " = ")

# Host names start with g-z so that no part of one reads as hex, and hold a digit so that no message word is one.
host_names = st.from_regex(r"[g-z][a-z]{1,5}[0-9]{1,3}(\.[a-z]{2,8}){0,2}", fullmatch=True)
ipv4 = st.ip_addresses(v=4).map(str)
ipv6 = st.ip_addresses(v=6).map(str).filter(lambda address: address != "::")
ports = st.integers(0, 65535)
hex_ids = (
    st.binary(min_size=4, max_size=32)
    .map(bytes.hex)
    .filter(lambda text: any(c.isdigit() for c in text) and any(c.isalpha() for c in text))
)
numbers = st.one_of(
    st.integers(-(10**12), 10**12).map(str),
    st.integers(1000, 10**9).map("{:,}".format),
    st.floats(0, 10**6, allow_nan=False).map("{:.2f}".format),
    st.tuples(st.integers(0, 99), st.integers(0, 99), st.integers(0, 99)).map(lambda v: "{}.{}.{}".format(*v)),
    st.tuples(
        st.integers(0, 10**5).map(str),
        st.sampled_from(("", ".5", ".25")),
        st.sampled_from(("MB", "GiB", "k", "s", "ms", "m", "h", "d", "%", "bytes", "seconds")),
    ).map("".join),
)
instants = st.datetimes(datetime.datetime(1990, 1, 1), datetime.datetime(2099, 12, 31))
timestamps = st.one_of(
    instants.map(datetime.datetime.isoformat),
    instants.map(lambda t: t.replace(tzinfo=datetime.timezone.utc).isoformat()),
    instants.map(lambda t: t.strftime("%b ") + f"{t.day:>2}" + t.strftime(" %H:%M:%S")),
    instants.map(lambda t: t.strftime("%a, %d %b %Y %H:%M:%S GMT")),
    instants.map(lambda t: t.strftime("%H:%M:%S")),
    instants.map(lambda t: t.strftime("%Y-%m-%d")),
)
path_parts = st.from_regex(r"[A-Za-z0-9_.-]{0,11}[A-Za-z0-9_]", fullmatch=True)  # a last dot ends the sentence
temporary_paths = st.one_of(
    st.lists(path_parts, min_size=1, max_size=4).map(lambda parts: "/tmp/" + "/".join(parts)),
    st.tuples(st.integers(10**9, 2 * 10**9), st.integers(0, 99), st.integers(), st.integers()).map(
        lambda v: "~/.ansible/tmp/ansible-tmp-{}.{:02d}-{}-{}/AnsiballZ_command.py".format(*v)
    ),
)

# The kinds of varying part, each with its values; ``host`` also gives the message's host words.
KINDS = {
    "ip": st.one_of(
        ipv4,
        st.tuples(ipv4, ports).map("%s:%d".__mod__),
        ipv6,
        st.tuples(ipv6, ports).map("[%s]:%d".__mod__),
    ),
    "n": numbers,
    "hex": st.one_of(hex_ids, st.integers(1, 2**64).map(hex)),
    "uuid": st.uuids().map(str),
    "time": timestamps,
    "tmp": temporary_paths,
}

# A template: words and varying parts, each part between a word before it and a word after it.
templates = st.lists(
    st.tuples(
        st.lists(st.sampled_from(WORDS), min_size=1, max_size=3).map(" ".join),
        st.sampled_from((*KINDS, "host")),
        st.sampled_from(SEPARATORS),
        st.sampled_from(SEPARATORS),
    ),
    min_size=1,
    max_size=5,
)


@st.composite
def message_of(draw, template) -> tuple[str, tuple[str, ...]]:
    """A message of ``template`` with values drawn for its varying parts, and the host words."""
    host = draw(host_names)
    address = draw(ipv4)
    text = ""
    for words, kind, before, after in template:
        value = host if kind == "host" else draw(KINDS[kind])
        text += words + before + value + after
    return text + "end", (host, address)


@given(st.data(), templates)
def test_messages_differing_only_in_masked_parts_normalise_the_same(data, template):
    first, first_words = data.draw(message_of(template))
    second, second_words = data.draw(message_of(template))
    assert normalise(first, first_words) == normalise(second, second_words)


@given(st.data(), templates.map(lambda template: template[:1]), st.lists(st.sampled_from(WORDS), min_size=60))
def test_messages_cut_by_the_recorder_normalise_the_same(data, template, tail):
    """Cut at 300 characters, a message keeps less of its end when its varying part is longer.

    Cut again at 200 characters once masked, messages whose varying parts are up to about 90 characters
    long still agree (a temporary path of Ansible is about 70).
    """
    first, first_words = data.draw(message_of(template))
    second, second_words = data.draw(message_of(template))
    assume(len(first) <= 100 and len(second) <= 100)
    first, second = (cut_message(message + " " + " ".join(tail)) for message in (first, second))
    assert normalise(first, first_words) == normalise(second, second_words)


realistic_words = st.lists(st.from_regex(r"[A-Za-z0-9._-]{1,20}", fullmatch=True), max_size=3)


@given(
    st.one_of(
        st.text(max_size=300),
        st.text(alphabet="0123456789abcdefxT:.-/~[]<>%, Z+", max_size=300),
        templates.flatmap(message_of).map(lambda drawn: drawn[0]),
    ),
    realistic_words,
)
def test_normalising_is_idempotent(message, host_words):
    once = normalise(message, host_words)
    assert normalise(once, host_words) == once


TASKS = (("Deploy", "ansible.builtin.copy"), ("Deploy", "ansible.builtin.template"), ("Check", "command"))
MESSAGES = ("boom", "took 30s", "took 45s", "host {host} is down", None)
failures = st.lists(
    st.builds(
        lambda host, task, message, unreachable: Failure(
            host,
            task[0] if task else None,
            task[1] if task else None,
            message.format(host=host) if message and task else None,
            unreachable and task is not None,  # a host failed because of others was unreachable nowhere
            (host,),
        ),
        st.sampled_from([f"web{number}" for number in range(12)]),
        st.one_of(st.none(), st.sampled_from(TASKS)),
        st.sampled_from(MESSAGES),
        st.booleans(),
    ),
    max_size=30,
)


@given(failures)
def test_every_host_is_in_exactly_one_group_of_one_task(items):
    groups = group_failures(items)
    first_failure = {}
    for failure in items:
        first_failure.setdefault(failure.host, failure)
    assert sorted(host for group in groups for host in group.hosts) == sorted(first_failure)
    for group in groups:
        tasks = {(first_failure[host].task, first_failure[host].action) for host in group.hosts}
        assert tasks == {(group.task, group.action)}
        assert {bool(first_failure[host].unreachable) for host in group.hosts} == {group.unreachable}


@given(failures)
def test_the_example_of_a_group_is_one_of_its_real_messages(items):
    first_failure = {}
    for failure in items:
        first_failure.setdefault(failure.host, failure)
    for group in group_failures(items):
        sources = [first_failure[host] for host in group.hosts if first_failure[host].message == group.example]
        assert sources
        assert group.message == normalise(group.example, sources[0].host_words)


@given(failures, st.integers(0, 12))
def test_the_summary_never_exceeds_its_lines(items, max_lines):
    lines = summary_lines(group_failures(items), max_lines=max_lines)
    assert len(lines) <= max_lines
    assert all(len(line) <= LINE_MAX for line in lines)
    if items and max_lines:
        assert lines[-1].endswith("not shown") or len(lines) == 2 * len(group_failures(items))


# Long runs of what the masks look for, with the output each one must give.
ADVERSARIAL = (
    (lambda k: "7" * k, lambda k: "<n>"),
    (lambda k: "7" * k + "x", lambda k: "7" * k + "x"),
    (lambda k: "1." * (k + 4), lambda k: "<n>."),
    (lambda k: "12:" * k, lambda k: "<n>:" * k),
    (lambda k: "1:" * k, lambda k: "<n>:" * k),
    (lambda k: ":" * (k + 2), lambda k: ":" * (k + 2)),
    (lambda k: "-" * k + "1", lambda k: "-" * (k - 1) + "<n>"),
    (lambda k: "ab" * (k + 3) + "1", lambda k: "<hex>"),
    (lambda k: "0x" + "f" * k, lambda k: "<hex>"),
    (lambda k: "9" * k + "." + "9" * k, lambda k: "<n>"),
    (lambda k: "/a" * k + "/", lambda k: "/a" * k + "/"),
    (lambda k: "Dec " * k, lambda k: "Dec " * k),
    (lambda k: " " * k, lambda k: " " * k),
    (lambda k: "/tmp/" + "." * k, lambda k: "<tmp>" + "." * k),
    (lambda k: "web1 " * k, lambda k: "<host> " * k),
    (lambda k: "web1" * k, lambda k: "<host>" if k == 1 else "web1" * k),
)


@given(st.sampled_from(ADVERSARIAL), st.integers(1, 5000))
def test_adversarial_runs_are_masked_as_expected(family, length):
    build, expected = family
    assert normalise(build(length), ["web1"]) == expected(length)


@given(st.text(alphabet="0123456789abcdef.:-/[] xZT", min_size=1000, max_size=5000))
def test_long_strings_of_mask_characters_normalise(message):
    once = normalise(message)
    assert normalise(once) == once
    assert set(once) <= set(message) | set("<>nhexipuidtmp")


@given(st.lists(st.text(alphabet="ab01.-: ", max_size=8), max_size=20))
def test_any_host_names_sort_naturally(names):
    ordered = sorted(names, key=natural_key)
    assert sorted(ordered) == sorted(names)
    assert sorted(reversed(ordered), key=natural_key) == ordered
