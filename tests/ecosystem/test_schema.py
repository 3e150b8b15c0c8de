# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Real manifests validate against the published JSON Schema, docs/manifest.schema.json."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pytest

from ansible_collections.relaunch.status.plugins.plugin_utils._core.errors import RelaunchError
from ansible_collections.relaunch.status.plugins.plugin_utils._core.store.validation import validate
from tests.ecosystem.collection import ROOT
from tests.fixtures import UNREACHABLE_VARS, local_inventory
from tests.runner import ansible_playbook, write_files

SCHEMA = json.loads((ROOT / "docs" / "manifest.schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker())

FILES = {
    "inventory.yml": local_inventory(
        "ok1: {relaunch_id: id-ok1}",
        "broken1: {relaunch_id: id-broken1, broken: true}",
        "rescued1: {rescue_me: true}",
        "ignored1: {ignore_me: true}",
        "secret1: {secret: true}",
        f"down1: {{{UNREACHABLE_VARS}}}",
    ),
    "site.yml": """
        - name: Every outcome
          hosts: all
          gather_facts: false
          tasks:
            - name: Reach every host (raw starts no Python on the host)
              ansible.builtin.raw: "true"
              changed_when: false
            - name: Change something
              ansible.builtin.raw: "true"
              changed_when: true
            - name: Fail on broken hosts
              ansible.builtin.fail:
                msg: broken host
              when: broken | default(false)
            - name: Fail and rescue
              when: rescue_me | default(false)
              block:
                - name: Fail to be rescued
                  ansible.builtin.fail:
                    msg: rescued
              rescue:
                - name: Rescue
                  ansible.builtin.debug:
                    msg: rescued
            - name: Fail and ignore
              ansible.builtin.fail:
                msg: ignored
              ignore_errors: true
              when: ignore_me | default(false)
            - name: Fail without a message
              ansible.builtin.fail:
                msg: do not record me
              no_log: true
              when: secret | default(false)
            - name: Provision a host
              ansible.builtin.add_host:
                name: made1
                relaunch_id: id-made1
                ansible_connection: local
              run_once: true
              changed_when: false

        - name: Use the provisioned host (a created host is recorded once a play targets it)
          hosts: made1
          gather_facts: false
          tasks:
            - name: Reach it
              ansible.builtin.raw: "true"
              changed_when: false
    """,
}


def errors(manifest: dict) -> list[str]:
    return [f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in VALIDATOR.iter_errors(manifest)]


def test_schema_is_valid_draft_2020_12() -> None:
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    workdir = tmp_path_factory.mktemp("schema")
    write_files(workdir, FILES)
    run = ansible_playbook(workdir, "-i", "inventory.yml", "--limit", "all:!nothing")
    assert run.rc in (2, 4), run.stdout + run.stderr
    checked = ansible_playbook(workdir, "-i", "inventory.yml", "--check", "--tags", "all", "--skip-tags", "never")
    assert checked.rc in (2, 4), checked.stdout + checked.stderr
    return run.run_dir


def test_real_manifests_validate(run_dir: Path) -> None:
    manifests = sorted(path for path in run_dir.glob("*.json") if path.name != "latest.json")
    assert len(manifests) == 2
    for path in [*manifests, run_dir / "latest.json"]:
        manifest = json.loads(path.read_text())
        assert errors(manifest) == [], path
    first = json.loads(manifests[0].read_text())
    statuses = {status for host in first["hosts"] for status in host["statuses"]}
    # The run exercised every branch of the schema worth having.
    assert {"all", "failed", "unreachable", "changed", "ok", "rescued", "ignored", "skipped"} <= statuses
    assert any(host["provisioned"] for host in first["hosts"])
    assert any(host["first_failure"] and host["first_failure"]["message"] is None for host in first["hosts"])
    assert first["invocation"]["limit"] == "all:!nothing"
    assert first["rollout"] == {"started_by": first["run_id"], "runs": 1}
    checked = json.loads(manifests[1].read_text())
    assert checked["check_mode"] is True and checked["rollout"] is None  # a dry run is merged into no rollout
    latest = json.loads((run_dir / "latest.json").read_text())
    assert latest["check_mode"] is False and latest["run_id"] == first["run_id"]  # nor does it touch latest.json
    assert latest["failure_groups"] and latest["retry_counts"]["pending"] >= 2


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("schema_version",), 3),
        (("hosts", 0, "statuses"), ["all", "broken"]),
        (("retry_counts", "failed"), -1),
        (("invocation", "limit"), None),
        (("passwords_needed_to_start",), ["my-secret"]),
        (("hosts", 0, "counters", "ok"), "1"),
        (("complete",), "yes"),
        (("started",), "yesterday"),
        (("hosts", 0, "first_failure"), {"message": "no play"}),
        (("invocation", "limit_given"), 5),
    ],
)
def test_schema_rejects_what_readers_reject(run_dir: Path, path: tuple, value: object) -> None:
    manifest = copy.deepcopy(json.loads((run_dir / "latest.json").read_text()))
    target = manifest
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert errors(manifest)
    with pytest.raises(RelaunchError):
        validate(manifest, "latest.json")


def test_documented_example_validates() -> None:
    text = (ROOT / "docs" / "manifest.md").read_text()
    example = json.loads(text.split("```json\n", 1)[1].split("```", 1)[0])
    assert errors(example) == []
    validate(example, "docs/manifest.md")
    counts = {
        status: sum(status in host["statuses"] for host in example["hosts"]) for status in example["retry_counts"]
    }
    assert counts == example["retry_counts"]
