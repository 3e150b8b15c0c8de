# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The manifest store on a real file system: encoding, atomic writes, publishing, pruning,
journals and their recovery, file modes, and symlinks planted in the run directory."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ansible_collections.relaunch.status.plugins.plugin_utils._core import store
from ansible_collections.relaunch.status.plugins.plugin_utils._core.errors import RelaunchError
from ansible_collections.relaunch.status.plugins.plugin_utils._core.failures import group_id
from ansible_collections.relaunch.status.plugins.plugin_utils._core.recorder import STATUSES
from ansible_collections.relaunch.status.plugins.plugin_utils._core.selection import (
    GROUP_LIMIT_FILES,
    CurrentHost,
    limit_file_text,
    limit_file_texts,
    select,
)
from tests.property.manifests import KEYWORDS, host_entry, make_manifest

COLLECTIONS = Path(__file__).resolve().parents[2] / "build" / "collections"


def run_id(second: int) -> str:
    return f"20260101T0000{second:02d}000000Z-{100 + second}-abcd"


def manifest_of(second: int, failed=("web1",), ok=("db1",), limit="") -> dict:
    hosts = [host_entry(name) for name in failed] + [host_entry(name, ("ok",)) for name in ok]
    return make_manifest(hosts, run_id=run_id(second), limit=limit)


@pytest.fixture
def run_dir(tmp_path) -> str:
    path = str(tmp_path / "manifests" / "site")
    store.layout.ensure_run_directory(path)
    return path


def names_in(directory: str) -> list[str]:
    return sorted(os.listdir(directory))


def latest_run(directory: str) -> str:
    with open(os.path.join(directory, store.layout.LATEST), encoding="utf-8") as handle:
        return json.load(handle)["run_id"]


# --- encoding and atomic writes ----------------------------------------------------------------


@pytest.mark.parametrize(
    "hosts",
    [
        pytest.param([], id="no hosts"),
        pytest.param([host_entry("web1", identity="i-1"), host_entry("db1", ("ok", "changed"))], id="plain"),
        pytest.param([host_entry(name) for name in KEYWORDS], id="tricky names"),
        pytest.param([host_entry("vm", provisioned_by=["a", "b"])], id="provisioned"),
    ],
)
def test_encode_round_trips_through_json(hosts):
    manifest = make_manifest(hosts, limit="a,\u00e9\n")
    data = store.encoding.encode(manifest)
    assert json.loads(data) == manifest
    assert data.count(b"\n") == len(hosts) + (2 if hosts else 1)  # one host a line


def test_write_atomic_replaces_and_leaves_no_temporary_file(run_dir):
    for text in (b"first", b"second" * 10_000, b""):
        store.files.write_atomic(run_dir, {"x.json": text})
        assert Path(run_dir, "x.json").read_bytes() == text
    assert names_in(run_dir) == ["x.json"]
    assert stat.S_IMODE(os.stat(os.path.join(run_dir, "x.json")).st_mode) == 0o600


def test_write_atomic_cleans_up_when_the_write_fails(run_dir):
    os.mkdir(os.path.join(run_dir, "taken.json"))  # a directory: the final rename fails
    with pytest.raises(OSError):
        store.files.write_atomic(run_dir, {"first.json": b"data", "taken.json": b"data"})
    # Renamed in order: first.json is in place, whole; no temporary file is left.
    assert names_in(run_dir) == ["first.json", "taken.json"]
    with pytest.raises(TypeError):
        store.files.write_atomic(run_dir, {"y.json": b"data", "z.json": "not bytes"})  # fails while writing
    assert names_in(run_dir) == ["first.json", "taken.json"]  # nothing is renamed before all are written


def test_pruning_removes_the_temporary_files_of_writers_that_died(run_dir):
    left = [store.layout.temporary_name(name) for name in ("latest.json", run_id(1) + store.layout.JOURNAL)]
    for name in left:
        Path(run_dir, name).write_bytes(b"half")
    assert all(map(store.layout.is_temporary, left))
    assert not any(store.layout.run_id_of(name, store.layout.JOURNAL) for name in left)  # never taken for a run
    store.publishing.publish(run_dir, manifest_of(2), keep=5, limit_texts=limit_file_texts)
    assert not any(store.layout.is_temporary(name) for name in names_in(run_dir))


# --- publish -----------------------------------------------------------------------------------


def test_publish_writes_the_run_latest_and_limit_files(run_dir):
    manifest = manifest_of(1, failed=("web1", "web 2"), ok=("db1",))
    path = store.publishing.publish(run_dir, manifest, keep=5, limit_texts=limit_file_texts)
    assert path == os.path.join(run_dir, run_id(1) + ".json")
    assert json.loads(Path(path).read_bytes()) == manifest
    assert manifest["rollout"] == {"started_by": run_id(1), "runs": 1}  # the run started a rollout
    latest = json.loads(Path(run_dir, store.layout.LATEST).read_bytes())
    assert latest["hosts"] == manifest["hosts"]  # the rollout state of its first run: that run's hosts
    assert {key: latest[key] for key in manifest if key != "failure_groups"} == {
        key: value for key, value in manifest.items() if key != "failure_groups"
    }
    # One failure group: web1 and web 2 record no first failure (they failed because of other hosts).
    group_file = f"failure-{group_id(None, None, False, None)}.limit"
    assert {name for name in names_in(run_dir) if name.endswith(".limit")} == {
        f"{status}.limit" for status in STATUSES if status != "all"
    } | {run_id(1) + ".failed.limit", run_id(1) + ".pending.limit", group_file}
    current = [CurrentHost(host["name"]) for host in manifest["hosts"]]
    expected = limit_file_text(select([("", manifest)], ["failed"], current).patterns)
    assert Path(run_dir, "failed.limit").read_text(encoding="utf-8") == expected == "web 2\nweb1\n"
    assert Path(run_dir, group_file).read_text(encoding="utf-8") == expected
    assert Path(run_dir, run_id(1) + ".failed.limit").read_text(encoding="utf-8") == expected
    assert not Path(run_dir, "all.limit").exists()  # "all" relaunches with the original --limit
    assert Path(run_dir, "changed.limit").read_text(encoding="utf-8") == store.limits.empty_limit_text(
        "changed", run_id(1)
    )


def failing(name: str, task: str, message: str = "boom") -> dict:
    """A host entry that failed at ``task`` with ``message``."""
    host = host_entry(name)
    host["first_failure"] = {"play": "Site", "task": task, "action": "fail", "unreachable": False, "message": message}
    return host


def group_files(directory: str) -> dict[str, set[str]]:
    """The failure groups' limit files of a run directory: name -> the lines it holds."""
    return {
        name: set(Path(directory, name).read_text(encoding="utf-8").splitlines())
        for name in names_in(directory)
        if store.layout.FAILURE_LIMIT.match(name)
    }


def test_each_failure_group_gets_a_limit_file_until_it_no_longer_fails(run_dir):
    first = make_manifest(
        [failing("web1", "Deploy"), failing("web2", "Deploy"), failing("db1", "Migrate"), host_entry("ok1", ("ok",))],
        run_id=run_id(1),
    )
    store.publishing.publish(run_dir, first, keep=5, limit_texts=limit_file_texts)
    deploy, migrate = (f"failure-{group_id(task, 'fail', False, 'boom')}.limit" for task in ("Deploy", "Migrate"))
    assert group_files(run_dir) == {deploy: {"web1", "web2"}, migrate: {"db1"}}
    # A relaunch of the Migrate group fixes db1: its group and its file are gone, the other stays as it was.
    fixed = make_manifest([host_entry("db1", ("ok",))], run_id=run_id(2), limit="db1")
    store.publishing.publish(run_dir, fixed, keep=5, limit_texts=limit_file_texts)
    assert group_files(run_dir) == {deploy: {"web1", "web2"}}
    # A run on every host where nothing fails starts a new rollout with no group at all.
    clean = make_manifest([host_entry(name, ("ok",)) for name in ("web1", "web2", "db1", "ok1")], run_id=run_id(3))
    store.publishing.publish(run_dir, clean, keep=5, limit_texts=limit_file_texts)
    assert group_files(run_dir) == {}


def test_only_the_largest_failure_groups_get_a_limit_file(run_dir):
    # One host a failure, and one failure with two hosts: thousands of groups would be thousands of files.
    hosts = [failing(f"h{index}", "Deploy", f"cause {chr(97 + index % 26)}{index}") for index in range(30)]
    hosts += [failing("big1", "Migrate"), failing("big2", "Migrate")]
    store.publishing.publish(run_dir, make_manifest(hosts, run_id=run_id(1)), keep=5, limit_texts=limit_file_texts)
    files = group_files(run_dir)
    assert len(files) == GROUP_LIMIT_FILES
    assert files[f"failure-{group_id('Migrate', 'fail', False, 'boom')}.limit"] == {"big1", "big2"}


def test_an_older_run_published_later_never_replaces_newer_entries(run_dir):
    store.publishing.publish(run_dir, manifest_of(5, failed=("new",), ok=()), keep=5, limit_texts=limit_file_texts)
    limit_before = Path(run_dir, "failed.limit").read_bytes()
    older = manifest_of(3, failed=(), ok=("new",), limit="new")
    store.publishing.publish(run_dir, older, keep=5, limit_texts=limit_file_texts)
    assert latest_run(run_dir) == run_id(5)  # the head is the newest run's
    assert Path(run_dir, "failed.limit").read_bytes() == limit_before  # new's entry is still run 5's
    assert Path(run_dir, run_id(3) + ".json").exists()


def test_a_newer_run_removes_stale_limit_files(run_dir):
    store.publishing.publish(
        run_dir, manifest_of(1, failed=("web1",), ok=("db1",)), keep=5, limit_texts=limit_file_texts
    )
    assert Path(run_dir, "failed.limit").exists()
    store.publishing.publish(
        run_dir, manifest_of(2, failed=(), ok=("web1", "db1")), keep=5, limit_texts=limit_file_texts
    )
    assert latest_run(run_dir) == run_id(2)
    assert Path(run_dir, "failed.limit").read_text(encoding="utf-8") == store.limits.empty_limit_text(
        "failed", run_id(2)
    )
    assert not Path(run_dir, run_id(2) + ".failed.limit").exists()
    assert Path(run_dir, "ok.limit").read_text(encoding="utf-8") == "db1\nweb1\n"


def test_the_limit_file_of_a_status_with_0_hosts_selects_no_host(tmp_path):
    """An empty limit file, or one of only !/& lines, selects every host in ansible-core: never write one."""
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader

    text = store.limits.empty_limit_text("failed", run_id(1))
    assert "0 failed hosts" in text
    limit = tmp_path / "failed.limit"
    limit.write_text(text, encoding="utf-8")
    inventory = InventoryManager(DataLoader(), sources="web1,web2,all,localhost,")
    inventory.subset(f"@{limit}")
    assert inventory.get_hosts("all") == []


def test_a_run_where_no_host_ran_a_task_is_kept_but_never_becomes_latest(run_dir):
    store.publishing.publish(
        run_dir, manifest_of(1, failed=("web1",), ok=("db1",)), keep=5, limit_texts=limit_file_texts
    )
    before = {
        name: Path(run_dir, name).read_bytes()
        for name in names_in(run_dir)
        if name == store.layout.LATEST or name.endswith(".limit")
    }
    refused = dict(manifest_of(2, failed=("web1", "db1"), ok=()), tasks_ran=False)
    assert store.publishing.publish(run_dir, refused, keep=5, limit_texts=limit_file_texts) == os.path.join(
        run_dir, run_id(2) + ".json"
    )
    assert json.loads(Path(run_dir, run_id(2) + ".json").read_bytes())["tasks_ran"] is False
    assert not Path(run_dir, run_id(2) + ".failed.limit").exists()  # no relaunch command offered for it
    assert {name: Path(run_dir, name).read_bytes() for name in before} == before
    assert latest_run(run_dir) == run_id(1)
    store.publishing.publish(
        run_dir,
        dict(manifest_of(3, failed=(), ok=("web1", "db1")), tasks_ran=True),
        keep=5,
        limit_texts=limit_file_texts,
    )
    assert latest_run(run_dir) == run_id(3)


def test_pruning_a_run_removes_its_limit_file(run_dir):
    for second in range(1, 5):
        store.publishing.publish(run_dir, manifest_of(second), keep=2, limit_texts=limit_file_texts)
    assert sorted(name for name in names_in(run_dir) if name.endswith(".failed.limit") and name != "failed.limit") == [
        run_id(3) + ".failed.limit",
        run_id(4) + ".failed.limit",
    ]


def test_publish_prunes_to_keep_but_never_the_newest(run_dir):
    for second in range(1, 6):
        store.publishing.publish(run_dir, manifest_of(second), keep=2, limit_texts=limit_file_texts)
    runs = [name for name in names_in(run_dir) if store.layout.RUN_ID.match(name[:-5])]
    assert runs == [run_id(4) + ".json", run_id(5) + ".json"]
    store.publishing.publish(run_dir, manifest_of(6), keep=0, limit_texts=limit_file_texts)  # keeps at least the newest
    assert [name for name in names_in(run_dir) if store.layout.RUN_ID.match(name[:-5])] == [run_id(6) + ".json"]
    assert latest_run(run_dir) == run_id(6)


def test_prune_never_removes_the_newest_even_when_it_sorts_first(run_dir):
    for second in (1, 2, 3):
        store.files.write_atomic(run_dir, {run_id(second) + ".json": b"{}"})
    store.publishing.prune(run_dir, keep=1, newest=run_id(1))
    assert [name for name in names_in(run_dir) if name.endswith(".json")] == [run_id(1) + ".json", run_id(3) + ".json"]


# Run ids at the edges of the rule: every part of the store must agree with the validator on each.
RUN_ID_CANDIDATES = (
    "20260101T000000000000Z-1-abcd",  # as new_run_id() makes them
    "20260101T000000000000Z-1-abcdef12",  # a longer suffix: the schema allows it
    "\u0662\u0660\u0662\u0666\u0660\u0661\u0660\u0661T000000000000Z-1-abcd",  # Arabic-Indic digits, which \d matches
    "20260101T000000000000Z-\u0661-abcd",
    "20260101T000000000000Z-1-ABCD",
    "20260101T000000000000Z-1-",
    "20260101T00000000000Z-1-abcd",
    "latest",
)


@pytest.mark.parametrize("candidate", RUN_ID_CANDIDATES)
def test_the_store_and_the_validator_agree_on_what_a_run_id_is(candidate):
    manifest = manifest_of(1)
    manifest["run_id"] = candidate
    try:
        store.validation.validate(manifest, "m.json")
        valid = True
    except RelaunchError:
        valid = False
    assert bool(store.layout.RUN_ID.match(candidate)) == valid
    for suffix in (store.layout.MANIFEST, store.layout.JOURNAL, store.layout.FAILED_LIMIT):
        assert store.layout.run_id_of(candidate + suffix, suffix) == (candidate if valid else None)


def test_new_run_ids_are_run_ids():
    assert store.layout.RUN_ID.match(store.layout.new_run_id())


def test_a_valid_run_id_with_a_longer_suffix_counts_for_latest_and_pruning(run_dir):
    newer = "20260101T000009000000Z-109-abcdef12"
    store.publishing.publish(
        run_dir, make_manifest([host_entry("new")], run_id=newer), keep=1, limit_texts=limit_file_texts
    )
    store.publishing.publish(run_dir, manifest_of(1, failed=("old",)), keep=1, limit_texts=limit_file_texts)
    assert latest_run(run_dir) == newer  # an older run never replaces it
    assert [name for name in names_in(run_dir) if name.endswith(".json")] == [newer + ".json", "latest.json"]


def test_files_and_directories_are_private(tmp_path):
    run_dir = str(tmp_path / "deep" / "er" / "site")
    old = os.umask(0)
    try:
        store.layout.ensure_run_directory(run_dir)
        store.publishing.publish(run_dir, manifest_of(1), keep=5, limit_texts=limit_file_texts)
        journal = store.journal.Journal(run_dir, run_id(2))
        journal.append({"e": "start", "run_id": run_id(2)})
    finally:
        os.umask(old)
    for directory in (tmp_path / "deep", tmp_path / "deep" / "er", Path(run_dir)):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory
    for name in names_in(run_dir):
        assert stat.S_IMODE(os.stat(os.path.join(run_dir, name)).st_mode) == 0o600, name
    journal.close(remove=True)


@pytest.mark.parametrize("name", [store.layout.LATEST, "failed.limit"])
@pytest.mark.parametrize("target_exists", [True, False], ids=["hostile", "dangling"])
def test_a_symlink_in_the_run_directory_is_never_followed(tmp_path, run_dir, name, target_exists):
    target = tmp_path / "outside.txt"
    if target_exists:
        target.write_text("precious", encoding="utf-8")
    link = os.path.join(run_dir, name)
    os.symlink(target, link)
    # Refused: the message names the path and says what to do; the link is left as it was,
    # and the run's own manifest is written all the same.
    with pytest.raises(RelaunchError) as caught:
        store.publishing.publish(run_dir, manifest_of(1), keep=5, limit_texts=limit_file_texts)
    assert link in str(caught.value) and "remove it" in str(caught.value)
    assert os.path.islink(link) and os.readlink(link) == str(target)
    assert Path(run_dir, run_id(1) + ".json").is_file()
    if target_exists:
        assert target.read_text(encoding="utf-8") == "precious"
    else:
        assert not target.exists()
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        ["manifests", *(["outside.txt"] if target_exists else [])]
    )


def test_run_directory_that_is_a_file_or_a_symlink_is_refused(tmp_path):
    Path(tmp_path, "file").write_text("x", encoding="utf-8")
    os.symlink(tmp_path, tmp_path / "link")
    for path in (tmp_path / "file", tmp_path / "link"):
        with pytest.raises(RelaunchError) as caught:
            store.layout.ensure_run_directory(str(path))
        assert str(path) in str(caught.value) and "RELAUNCH_MANIFEST_DIR" in str(caught.value)


# --- journals ----------------------------------------------------------------------------------

EVENTS = [
    {
        "e": "start",
        "run_id": None,  # filled in per test
        "playbook": "/srv/site.yml",
        "started": "2026-01-01T00:00:00+00:00",
        "invocation": {"limit": "", "inventory": ["inv"], "tags": [], "skip_tags": []},
        "passwords_needed_to_start": [],
        "check_mode": False,
        "ansible_version": "2.19.14",
    },
    {"e": "host", "name": "web1", "identity": "i-1", "identity_var": "relaunch_id"},
    {"e": "play", "name": "p", "batch": ["web1", "web2"], "pending": ["web3"]},
    {"e": "result", "host": "web1", "outcome": "changed"},
    {
        "e": "result",
        "host": "web2",
        "outcome": "failed",
        "ignored": False,
        "rescued": False,
        "play": "p",
        "task": "t",
        "action": "fail",
        "msg": "boom",
    },
]


def events_of(run: str) -> list[dict]:
    return [dict(EVENTS[0], run_id=run), *EVENTS[1:]]


def statuses_by_host(manifest: dict) -> dict[str, list[str]]:
    return {host["name"]: host["statuses"] for host in manifest["hosts"]}


def test_journal_replay_recovers_every_event_and_skips_a_torn_last_line(run_dir):
    journal = store.journal.Journal(run_dir, run_id(1))
    for event in events_of(run_id(1)):
        journal.append(event)
    journal.close(remove=False)
    with open(journal.path, "ab") as handle:
        handle.write(b'{"e": "result", "host": "web3", "outco')  # the event being written when the run died
    manifest = store.journal.replay(journal.path).manifest(complete=False, finished=None)
    assert manifest["run_id"] == run_id(1)
    assert statuses_by_host(manifest) == {
        "web1": ["all", "changed", "not_run", "ok", "pending"],
        "web2": ["all", "failed", "pending"],
        "web3": ["all", "not_run", "pending"],
    }


def test_replay_skips_damaged_lines_in_the_middle(run_dir):
    path = os.path.join(run_dir, run_id(1) + store.layout.JOURNAL)
    lines = [json.dumps(event) for event in events_of(run_id(1))]
    lines[2:2] = ["{not json", "[1, 2]", '{"e": "result"}', '{"e": "play", "batch": 5}']
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")
    manifest = store.journal.replay(path).manifest(complete=False, finished=None)
    assert statuses_by_host(manifest)["web2"] == ["all", "failed", "pending"]


WRITER = textwrap.dedent(
    """
    import sys
    from ansible_collections.relaunch.status.plugins.plugin_utils._core import store
    journal = store.journal.Journal(sys.argv[1], sys.argv[2])
    for line in sys.argv[3:]:
        journal.append(__import__("json").loads(line))
    print("ready", flush=True)
    sys.stdin.read()  # lives, holding the journal's lock, until the test ends it
    """
)


def start_writer(run_dir: str, run: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(COLLECTIONS))
    argv = [sys.executable, "-c", WRITER, run_dir, run, *(json.dumps(event) for event in events_of(run))]
    process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True)
    assert process.stdout.readline().strip() == "ready"
    return process


def test_recover_leaves_live_runs_alone_and_recovers_dead_ones(run_dir):
    live = start_writer(run_dir, run_id(1))
    dead = start_writer(run_dir, run_id(2))
    try:
        assert store.recovery.recover(run_dir, 20, limit_file_texts) == []  # both writers hold their journal's lock
        dead.kill()
        dead.wait()
        recovered = store.recovery.recover(run_dir, 20, limit_file_texts)
        assert recovered == [os.path.join(run_dir, run_id(2) + ".json")]
        manifest = store.reading.load(recovered[0])
        assert manifest["complete"] is False and manifest["finished"] is None
        assert statuses_by_host(manifest) == {
            "web1": ["all", "changed", "not_run", "ok", "pending"],
            "web2": ["all", "failed", "pending"],
            "web3": ["all", "not_run", "pending"],
        }
        assert latest_run(run_dir) == run_id(2)
        assert not Path(run_dir, run_id(2) + store.layout.JOURNAL).exists()
        assert Path(run_dir, run_id(1) + store.layout.JOURNAL).exists()
        assert store.recovery.recover(run_dir, 20, limit_file_texts) == []  # nothing twice
    finally:
        for process in (live, dead):
            if process.poll() is None:
                process.kill()
                process.wait()
    assert store.recovery.recover(run_dir, 20, limit_file_texts) == [os.path.join(run_dir, run_id(1) + ".json")]
    assert latest_run(run_dir) == run_id(2)  # recovered later, but older: not the latest


def test_readers_replay_a_dead_run_in_memory_and_write_nothing(tmp_path, run_dir):
    dead = start_writer(run_dir, run_id(1))
    dead.kill()
    dead.wait()
    before = names_in(run_dir)
    located = store.reading.locate(str(tmp_path / "manifests"))
    assert located == os.path.join(run_dir, run_id(1) + store.layout.JOURNAL)
    manifest = store.reading.load(located)
    assert manifest["run_id"] == run_id(1) and manifest["complete"] is False
    assert statuses_by_host(manifest)["web2"] == ["all", "failed", "pending"]
    assert names_in(run_dir) == before  # nothing recovered, written or removed
    store.recovery.recover(run_dir, 20, limit_file_texts)  # the next run does
    assert store.reading.locate(run_dir) == os.path.join(run_dir, store.layout.LATEST)
    assert latest_run(run_dir) == run_id(1)


def test_readers_merge_a_dead_run_into_latest_in_memory(tmp_path, run_dir):
    first = manifest_of(1, failed=("db1",), ok=("web1",))
    first["playbook"] = "/srv/site.yml"
    store.publishing.publish(run_dir, first, keep=20, limit_texts=limit_file_texts)
    dead = start_writer(run_dir, run_id(2))
    dead.kill()
    dead.wait()
    before = {name: Path(run_dir, name).read_bytes() for name in names_in(run_dir)}
    located = store.reading.locate(str(tmp_path / "manifests"))
    assert located == os.path.join(run_dir, store.layout.LATEST)
    manifest = store.reading.load(located)
    # The dead run's hosts join the rollout; db1, pending and never reached by it, keeps its entry.
    assert statuses_by_host(manifest) == {
        "db1": ["all", "failed", "pending"],
        "web1": ["all", "changed", "not_run", "ok", "pending"],
        "web2": ["all", "failed", "pending"],
        "web3": ["all", "not_run", "pending"],
    }
    assert manifest["rollout"] == {"started_by": run_id(1), "runs": 2}
    assert {name: Path(run_dir, name).read_bytes() for name in names_in(run_dir)} == before  # nothing written
    store.recovery.recover(run_dir, 20, limit_file_texts)  # the next run merges it the same way
    assert statuses_by_host(store.reading.load(located)) == statuses_by_host(manifest)


def test_readers_never_prune_the_runs_that_keep_keeps(tmp_path, run_dir):
    for second in range(1, 31):
        store.publishing.publish(run_dir, manifest_of(second), keep=100, limit_texts=limit_file_texts)
    dead = start_writer(run_dir, run_id(40))
    dead.kill()
    dead.wait()
    store.reading.locate(str(tmp_path / "manifests"))
    store.reading.locate(run_dir)
    store.reading.load(store.reading.locate(run_dir))
    assert (
        len([name for name in names_in(run_dir) if name.endswith(".json") and store.layout.RUN_ID.match(name[:-5])])
        == 30
    )
    assert Path(run_dir, run_id(40) + store.layout.JOURNAL).exists()
    store.recovery.recover(run_dir, 100, limit_file_texts)
    assert (
        len([name for name in names_in(run_dir) if name.endswith(".json") and store.layout.RUN_ID.match(name[:-5])])
        == 31
    )


def test_an_older_dead_run_is_not_read_instead_of_latest(run_dir):
    dead = start_writer(run_dir, run_id(1))
    dead.kill()
    dead.wait()
    store.publishing.publish(run_dir, manifest_of(2), keep=5, limit_texts=limit_file_texts)
    assert store.reading.locate(run_dir) == os.path.join(run_dir, store.layout.LATEST)


def test_recover_ignores_journals_of_other_names_and_foreign_content(run_dir):
    Path(run_dir, "notes.journal").write_text("{}\n", encoding="utf-8")
    Path(run_dir, run_id(1) + store.layout.JOURNAL).write_text(
        json.dumps(dict(EVENTS[0], run_id=run_id(9))) + "\n", encoding="utf-8"
    )
    assert store.recovery.recover(run_dir, 20, limit_file_texts) == []
    assert not Path(run_dir, store.layout.LATEST).exists()
    assert Path(run_dir, "notes.journal").exists()


def test_recover_of_a_missing_directory_is_empty(tmp_path):
    assert store.recovery.recover(str(tmp_path / "missing"), 20, limit_file_texts) == []


# --- which run directory belongs to which playbook ---------------------------------------------


def test_a_shared_manifest_directory_gives_each_playbook_of_a_stem_its_own_run_directory(tmp_path):
    root = str(tmp_path / "central")
    first, second = str(tmp_path / "appA" / "site.yml"), str(tmp_path / "appB" / "site.yml")
    assert store.layout.claim_run_directory(root, first) == os.path.join(root, "site")  # the public contract
    other = store.layout.claim_run_directory(root, second)
    assert other.startswith(os.path.join(root, "site-")) and other != os.path.join(root, "site")
    # Every reader computes the same directories.
    assert store.layout.run_directory(root, first) == os.path.join(root, "site")
    assert store.layout.run_directory(root, second) == other
    assert store.layout.claim_run_directory(root, second) == other


def test_the_default_directory_beside_a_moved_checkout_stays_the_playbooks(tmp_path):
    old, new = tmp_path / "old", tmp_path / "new"
    store.layout.claim_run_directory(str(old / ".relaunch"), str(old / "site.yml"))
    os.rename(old, new)
    root = str(new / ".relaunch")
    assert store.layout.run_directory(root, str(new / "site.yml")) == os.path.join(root, "site")
    assert store.layout.same_playbook(root, str(old / "site.yml"), str(new / "site.yml"))
    assert not store.layout.same_playbook(root, str(old / "other.yml"), str(new / "site.yml"))
    assert not store.layout.same_playbook(str(tmp_path / "central"), str(old / "site.yml"), str(new / "site.yml"))


def test_check_playbook_refuses_a_manifest_of_another_playbook(tmp_path, run_dir):
    recorded = tmp_path / "appB" / "site.yml"
    recorded.parent.mkdir()
    recorded.write_text("[]\n")
    store.publishing.publish(
        run_dir, dict(manifest_of(1), playbook=str(recorded)), keep=5, limit_texts=limit_file_texts
    )
    latest = os.path.join(run_dir, store.layout.LATEST)
    store.reading.check_playbook(latest, os.path.dirname(run_dir), str(recorded))
    running = tmp_path / "appA" / "site.yml"
    for root in (os.path.dirname(run_dir), str(running.parent / ".relaunch")):  # shared, or copied beside appA
        with pytest.raises(RelaunchError, match=f"written by playbook {recorded}, not {running}"):
            store.reading.check_playbook(latest, root, str(running))
    recorded.unlink()  # gone: appB's checkout was moved to appA
    store.reading.check_playbook(latest, str(running.parent / ".relaunch"), str(running))
