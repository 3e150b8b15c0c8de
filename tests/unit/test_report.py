# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The report of ``ansible-relaunch report`` on hand-made manifests of schema 1 and 2."""

from __future__ import annotations

import gc
import json
import re
from xml.etree import ElementTree

from ansible_collections.relaunch.status.plugins.plugin_utils._core import report
from ansible_collections.relaunch.status.plugins.plugin_utils._core.failures import group_id
from ansible_collections.relaunch.status.plugins.plugin_utils._core.history import Thresholds

PLAYBOOK = "/srv/deploy/site.yml"


def entry(name: str, *statuses: str, message: str | None = None, unreachable: bool = False, **extra) -> dict:
    failure = None
    if "failed" in statuses:
        failure = {"task": "Deploy", "action": "ansible.builtin.command", "message": message or "boom"}
        if unreachable:
            failure["unreachable"] = True
    return {"name": name, "identity": f"id-{name}", "statuses": ["all", *statuses], "first_failure": failure, **extra}


def run(number: int, *hosts: dict, schema: int = 1, **head) -> dict:
    manifest = {
        "schema_version": schema,
        "run_id": f"20261201T10000{number}000000Z-1-a",
        "playbook": PLAYBOOK,
        "finished": f"2026-12-01T10:00:0{number}+00:00",
        "complete": True,
        "check_mode": False,
        "invocation": {"limit": "", "inventory": ["/srv/deploy/inventory.yml"], "tags": ["all"], "skip_tags": []},
        "hosts": list(hosts),
    }
    manifest.update(head)
    return manifest


def schema1_runs() -> list[dict]:
    """Oldest first: web2 flips failed/ok, db1 keeps failing, cache1 is unreachable once, web1 is fine."""
    outcomes = [("failed", "ok", "failed", "ok"), ("failed",) * 4]
    runs = []
    for number in range(4):
        web2 = entry("web2", outcomes[0][number], message=f"timeout after {number}s")
        db1 = entry("db1", "failed", message="disk full")
        web1 = entry("web1", "changed", "ok") if number % 2 else entry("web1", "ok")
        hosts = [web1, web2, db1]
        if number == 1:
            hosts.append(entry("cache1", "failed", unreachable=True, message="ssh: connection refused"))
        runs.append(run(number, *hosts))
    return runs


def built(runs: list[dict], latest: dict | None = None, directory: str = "/srv/deploy/.relaunch/site") -> report.Report:
    return report.build(directory, latest or runs[-1], reversed(runs), Thresholds(flaky_flips=2))


def test_grid_has_one_letter_per_kept_run_oldest_first():
    found = built(schema1_runs())
    rows = {row.name: row.outcomes for row in found.hosts}
    assert [run.run_id for run in found.runs] == [manifest["run_id"] for manifest in schema1_runs()]
    assert rows == {"cache1": "-u--", "db1": "ffff", "web1": "ococ", "web2": "fofo"}
    assert [row.name for row in found.hosts] == ["cache1", "db1", "web1", "web2"]


def test_the_collector_is_paused_while_the_runs_are_read_and_resumed_after():
    seen = []

    def runs():
        for manifest in reversed(schema1_runs()):
            seen.append(gc.isenabled())
            yield manifest

    assert gc.isenabled()
    report.build("/srv/deploy/.relaunch/site", None, runs())
    assert seen == [False] * 4
    assert gc.isenabled()


def test_failure_messages_are_kept_per_cell():
    found = built(schema1_runs())
    web2 = next(row for row in found.hosts if row.name == "web2")
    assert web2.messages == {0: "timeout after 0s", 2: "timeout after 2s"}


def test_flaky_and_chronic_hosts_with_their_relaunch_commands():
    found = built(schema1_runs())
    assert found.flaky == ["web2"]
    assert found.chronic == ["db1"]
    assert found.commands["flaky"].endswith("-i relaunch.yml /srv/deploy/site.yml --limit relaunch_flaky")
    assert found.commands["chronic"].endswith("--limit relaunch_chronic")
    assert "--limit @/srv/deploy/.relaunch/site/failed.limit" in found.commands["pending"]


def test_schema1_rollout_is_the_latest_run():
    runs = schema1_runs()
    found = built(runs)
    assert found.rollout["done"] == 2 and found.rollout["pending"] == ["db1"]
    assert found.rollout["run_ids"] == [runs[-1]["run_id"]] and found.rollout["runs"] == 1
    assert [group.hosts for group in found.groups] == [["db1"]]


def test_schema2_rollout_state_and_recorded_failure_groups():
    runs = schema1_runs()
    latest = run(
        3,
        entry("web1", "ok", run_id=runs[3]["run_id"], finished="x"),
        entry("web2", "failed", "pending", run_id=runs[2]["run_id"], finished="x"),
        entry("new1", "not_run", "pending", run_id=None, finished=None),
        schema=2,
        rollout={"started_by": runs[2]["run_id"], "runs": 2},
        failure_groups=[
            {"task": "A", "action": None, "message": "one", "example": "one", "unreachable": False, "hosts": ["x"]},
            {"task": "B", "action": None, "message": "two", "example": "two", "unreachable": True, "hosts": ["y", "z"]},
        ],
    )
    found = built(runs, latest)
    assert found.rollout["started_by"] == runs[2]["run_id"] and found.rollout["runs"] == 2
    assert found.rollout["run_ids"] == sorted([runs[2]["run_id"], runs[3]["run_id"]])
    assert found.rollout["done"] == 1 and found.rollout["pending"] == ["new1", "web2"]
    assert [group.hosts for group in found.groups] == [["y", "z"], ["x"]]  # largest first
    assert [group.key for group in found.groups] == [
        group_id("B", None, True, "two"),
        group_id("A", None, False, "one"),
    ]


def test_each_failure_group_shows_its_id_and_the_command_of_its_limit_file(tmp_path):
    directory = tmp_path / ".relaunch" / "site"
    directory.mkdir(parents=True)
    runs = schema1_runs()
    group = built(runs, directory=str(directory)).groups[0].key
    (directory / f"failure-{group}.limit").write_text("db1\n")
    found = built(runs, directory=str(directory))
    command = found.group_commands[group]
    assert " --limit @" in command and command.endswith(f"/.relaunch/site/failure-{group}.limit")
    assert f"      group {group}: {command}\n" in report.text(found)
    assert f"{command}  # group {group}" in report.markdown(found)
    assert command in report.html(found)
    # Without its file (schema 1, or beyond the largest groups), the id alone.
    assert f"      group {group}\n" in report.text(built(runs))


def test_schema2_run_manifest_host_that_did_not_run_is_not_run():
    first = run(0, entry("web1", "ok"), entry("web2", "ok"))
    second = run(1, entry("web1", "ok"), schema=2)
    second["hosts"][0]["run_id"] = second["run_id"]
    second["hosts"].append(entry("web2", "ok", run_id=None, finished=None))
    rows = {row.name: row.outcomes for row in built([first, second]).hosts}
    assert rows == {"web1": "oo", "web2": "on"}


def test_check_mode_runs_are_left_out_of_the_grid():
    runs = schema1_runs()
    runs[1]["check_mode"] = True
    assert len(built(runs).runs) == 3


def test_text_names_the_rollout_groups_and_commands():
    output = report.text(built(schema1_runs()))
    assert output.startswith(f"RELAUNCH REPORT: {PLAYBOOK} (4 kept runs)")
    assert "1 host failed at TASK [Deploy]: disk full" in output
    assert "flaky: 1\n    web2\n    relaunch: ansible-playbook" in output
    assert "chronic: 1\n    db1\n" in output


def test_markdown_is_a_compact_summary():
    output = report.markdown(built(schema1_runs()))
    assert output.startswith(f"## Relaunch report: `{PLAYBOOK}`")
    group = built(schema1_runs()).groups[0].key
    assert f"| 1 | `{group}` | Deploy | disk full |" in output
    assert "**Chronic**: db1" in output and "--limit relaunch_chronic" in output


def test_markdown_escapes_table_cells():
    runs = [run(0, entry("web1", "failed", message="a | b"))]
    assert "| a \\| b |" in report.markdown(built(runs))


def test_junit_has_one_testcase_per_host_and_unreachable_is_a_failure():
    runs = schema1_runs()
    latest = run(
        4,
        entry("web1", "ok"),
        entry("db1", "failed", message="disk full"),
        entry("cache1", "failed", unreachable=True, message="ssh: connection refused"),
        entry("web3", "not_run"),
    )
    document = ElementTree.fromstring(report.junit(built(runs, latest)))
    suite = document.find("testsuite")
    assert suite.get("name") == PLAYBOOK
    cases = {case.get("name"): case for case in suite.findall("testcase")}
    assert sorted(cases) == ["cache1", "db1", "web1", "web3"]
    assert suite.get("tests") == "4" and suite.get("failures") == "2" and suite.get("skipped") == "1"
    assert cases["cache1"].find("failure").get("type") == "unreachable"
    assert cases["cache1"].find("failure").get("message") == "ssh: connection refused"
    assert cases["db1"].find("failure").get("message") == "disk full"
    assert cases["web1"].find("failure") is None and cases["web3"].find("skipped") is not None


def page_json(page: str) -> dict:
    match = re.search(r'<script id="report-data" type="application/json">(.*?)</script>', page, re.S)
    assert match
    return json.loads(match.group(1))


def test_html_is_self_contained_and_holds_the_grid():
    page = report.html(built(schema1_runs()))
    assert not re.search(r"(?i)(src|href)\s*=\s*[\"']?(https?:)?//", page)  # nothing from the network
    assert "<link" not in page and "@import" not in page and "url(" not in page
    data = page_json(page)
    assert [host[0] for host in data["hosts"]] == ["cache1", "db1", "web1", "web2"]
    assert data["hosts"][3][1] == "fofo"
    assert data["messages"][data["hosts"][3][2]["0"]] == "timeout after 0s"


def test_html_escapes_what_runs_recorded():
    hostile = "</script><script>alert(1)</script>"
    runs = [run(0, entry("web<b>1", "failed", message=hostile))]
    page = report.html(built(runs))
    assert hostile not in page and "web<b>1" not in page
    data = page_json(page)
    assert data["hosts"][0][0] == "web<b>1" and data["messages"] == [hostile]


def test_no_runs_at_all():
    found = report.build("/nowhere", None, [], None)
    assert found.runs == [] and found.hosts == [] and found.rollout["done"] == 0
    assert report.text(found).startswith("RELAUNCH REPORT: /nowhere (0 kept runs)")
