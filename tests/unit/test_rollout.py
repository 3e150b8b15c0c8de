# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""latest.json as the rollout state: which runs start a rollout, which continue it, and what a merge keeps."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ansible_collections.relaunch.status.plugins.plugin_utils._core import store
from ansible_collections.relaunch.status.plugins.plugin_utils._core.selection import limit_file_texts
from tests.property.manifests import host_entry, make_manifest


def run_id(second: int) -> str:
    return f"20260101T0000{second:02d}000000Z-{100 + second}-abcd"


def run(second: int, hosts: list[dict], limit: str = "", **head) -> dict:
    manifest = make_manifest(hosts, run_id=run_id(second), limit=limit)
    manifest["invocation"]["limit_given"] = limit
    manifest.update(head)
    return manifest


def not_run(name: str, identity: str | None = None) -> dict:
    """A targeted host that ran no task in its run."""
    host = host_entry(name, ("not_run",), identity)
    host["run_id"] = host["finished"] = None
    return host


@pytest.fixture
def run_dir(tmp_path) -> str:
    path = str(tmp_path / "site")
    store.layout.ensure_run_directory(path)
    return path


def publish(run_dir: str, manifest: dict, inventory=None) -> None:
    store.publishing.publish(run_dir, manifest, 20, limit_file_texts, inventory)


def latest(run_dir: str) -> dict:
    return json.loads(Path(run_dir, store.layout.LATEST).read_text(encoding="utf-8"))


def statuses(manifest: dict) -> dict[str, list[str]]:
    return {host["name"]: host["statuses"] for host in manifest["hosts"]}


def test_a_relaunch_keeps_the_hosts_it_did_not_run(run_dir):
    publish(run_dir, run(1, [host_entry("a"), host_entry("b"), host_entry("c", ("ok",))]))
    publish(run_dir, run(2, [host_entry("a", ("ok",))], limit="a,b"))
    state = latest(run_dir)
    assert statuses(state) == {"a": ["all", "ok"], "b": ["all", "failed", "pending"], "c": ["all", "ok"]}
    assert [host["run_id"] for host in state["hosts"]] == [run_id(2), run_id(1), run_id(1)]
    assert state["rollout"] == {"started_by": run_id(1), "runs": 2}
    assert state["run_id"] == run_id(2) and state["invocation"]["limit"] == ""  # "all": the first run's limit
    assert state["retry_counts"]["pending"] == 1 and state["retry_counts"]["all"] == 3
    assert Path(run_dir, "pending.limit").read_text(encoding="utf-8") == "b\n"
    assert Path(run_dir, run_id(2) + ".pending.limit").read_text(encoding="utf-8") == "b\n"
    assert json.loads(Path(run_dir, run_id(2) + ".json").read_text())["rollout"] == state["rollout"]


def test_hosts_the_role_ended_keep_their_entry(run_dir):
    publish(run_dir, run(1, [host_entry("a"), host_entry("b", ("ok",))]))
    publish(run_dir, run(2, [host_entry("a", ("ok",)), not_run("b")], narrowed=True))
    assert statuses(latest(run_dir)) == {"a": ["all", "ok"], "b": ["all", "ok"]}
    assert latest(run_dir)["rollout"]["runs"] == 2


def test_a_dry_run_touches_neither_latest_nor_the_limit_files(run_dir):
    publish(run_dir, run(1, [host_entry("a")]))
    before = {name: Path(run_dir, name).read_bytes() for name in os.listdir(run_dir) if not name.startswith(".")}
    publish(run_dir, run(2, [host_entry("a", ("ok",))], check_mode=True))
    after = {name: Path(run_dir, name).read_bytes() for name in os.listdir(run_dir) if not name.startswith(".")}
    assert after.pop(run_id(2) + ".json") and after == before
    assert json.loads(Path(run_dir, run_id(2) + ".json").read_text())["rollout"] is None


def test_a_renamed_host_replaces_its_old_name(run_dir):
    publish(run_dir, run(1, [host_entry("app02", identity="i-2"), host_entry("app01", ("ok",), "i-1")]))
    publish(run_dir, run(2, [host_entry("app02-new", ("ok",), "i-2")], limit="app02-new"))
    assert statuses(latest(run_dir)) == {"app01": ["all", "ok"], "app02-new": ["all", "ok"]}


def test_a_failure_survives_a_relaunch_that_did_not_reach_it(run_dir):
    publish(run_dir, run(1, [host_entry("app02", identity="i-2")]))
    publish(run_dir, run(2, [host_entry("app01", ("ok",), "i-1")], limit="app02"))  # matched another host
    assert statuses(latest(run_dir))["app02"] == ["all", "failed", "pending"]


def test_a_full_run_that_ran_every_pending_host_starts_a_new_rollout(run_dir):
    publish(run_dir, run(1, [host_entry("a"), host_entry("gone")]))
    publish(run_dir, run(2, [host_entry("a", ("ok",))]), inventory={"a"})  # gone left the inventory
    state = latest(run_dir)
    assert statuses(state) == {"a": ["all", "ok"]}
    assert state["rollout"] == {"started_by": run_id(2), "runs": 1}


def test_a_run_without_limit_that_left_a_pending_host_aside_continues(run_dir):
    # A play whose hosts: is a lookup narrows a run without any --limit.
    publish(run_dir, run(1, [host_entry("a"), host_entry("b")]))
    publish(run_dir, run(2, [host_entry("a", ("ok",))]), inventory={"a", "b"})
    state = latest(run_dir)
    assert statuses(state) == {"a": ["all", "ok"], "b": ["all", "failed", "pending"]}
    assert state["rollout"] == {"started_by": run_id(1), "runs": 2}


def test_runs_finishing_out_of_order_never_replace_newer_entries(run_dir):
    publish(run_dir, run(1, [host_entry("a"), host_entry("b")]))
    publish(run_dir, run(3, [host_entry("a", ("ok",))], limit="a"))
    publish(run_dir, run(2, [host_entry("a"), host_entry("b", ("ok",))], limit="a,b"))  # started before run 3
    state = latest(run_dir)
    assert statuses(state) == {"a": ["all", "ok"], "b": ["all", "ok"]}
    assert state["run_id"] == run_id(3) and state["rollout"]["runs"] == 3


def schema_1(manifest: dict) -> dict:
    """A manifest as schema 1 had it."""
    manifest["schema_version"] = 1
    for key in ("narrowed", "rollout", "failure_groups", "tasks_ran"):
        del manifest[key]
    del manifest["retry_counts"]["pending"]
    for host in manifest["hosts"]:
        del host["run_id"], host["finished"]
        host["statuses"] = [status for status in host["statuses"] if status != "pending"]
    store.validation.validate(manifest, "schema-1")
    return manifest


def test_a_schema_1_latest_is_continued(run_dir):
    old = schema_1(run(1, [host_entry("a"), host_entry("b", ("ok",))]))
    Path(run_dir, store.layout.LATEST).write_text(json.dumps(old), encoding="utf-8")
    publish(run_dir, run(2, [host_entry("a", ("ok",))], limit="a"))
    state = latest(run_dir)
    assert statuses(state) == {"a": ["all", "ok"], "b": ["all", "ok"]}
    assert state["rollout"] == {"started_by": run_id(1), "runs": 2}


def test_a_schema_1_run_is_published_as_schema_2(run_dir):
    # A run that died while an older version published it: its written manifest is recovered as it is.
    old = schema_1(run(1, [host_entry("a"), host_entry("b", ("ok",))]))
    publish(run_dir, old)
    for path in (os.path.join(run_dir, run_id(1) + ".json"), os.path.join(run_dir, store.layout.LATEST)):
        manifest = store.validation.read_manifest(path)
        assert manifest["schema_version"] == 2
        assert statuses(manifest) == {"a": ["all", "failed", "pending"], "b": ["all", "ok"]}
        assert manifest["rollout"] == {"started_by": run_id(1), "runs": 1}


def test_another_playbooks_latest_is_never_merged(run_dir):
    publish(run_dir, run(1, [host_entry("a")], playbook="/srv/other.yml"))
    publish(run_dir, run(2, [host_entry("b", ("ok",))], limit="b"))
    assert statuses(latest(run_dir)) == {"b": ["all", "ok"]}


def test_failure_groups_are_counted_over_the_state(run_dir):
    first = host_entry("a")
    first["first_failure"] = {"play": "p", "task": "Deploy", "action": "fail", "unreachable": False, "message": "x"}
    publish(run_dir, run(1, [first, host_entry("b", ("ok",))]))
    publish(run_dir, run(2, [host_entry("b", ("ok",))], limit="b"))
    assert [group["hosts"] for group in latest(run_dir)["failure_groups"]] == [["a"]]


def test_a_runs_pending_limit_is_pruned_with_it(run_dir):
    for second in range(1, 4):
        store.publishing.publish(run_dir, run(second, [host_entry("a")]), 2, limit_file_texts)
    assert not Path(run_dir, run_id(1) + ".pending.limit").exists()
    assert not Path(run_dir, run_id(1) + ".failed.limit").exists()
    assert Path(run_dir, run_id(3) + ".pending.limit").exists()
    assert latest(run_dir)["hosts"][0]["run_id"] == run_id(3)
