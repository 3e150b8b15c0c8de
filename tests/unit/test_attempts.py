# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The decisions of ansible-relaunch run (plugin_utils/_core/attempts.py), on plain data."""

from __future__ import annotations

import itertools

import pytest

from ansible_collections.relaunch.status.plugins.plugin_utils._core import attempts
from ansible_collections.relaunch.status.plugins.plugin_utils._core.errors import RelaunchError


def host(name: str, *statuses: str, identity: str | None = None, task: str | None = None) -> dict:
    failure = {"play": "P", "task": task, "action": "fail", "unreachable": False, "message": "boom"} if task else None
    return {"name": name, "identity": identity, "statuses": ["all", *statuses], "first_failure": failure}


def attempt(number: int, rc: int, *hosts: dict) -> attempts.Attempt:
    manifest = {"run_id": f"run{number}", "retry_counts": {"all": len(hosts)}, "hosts": list(hosts)}
    return attempts.Attempt(number, ["ansible-playbook"], rc=rc, run_id=f"run{number}", manifest=manifest)


def rollout(*runs: attempts.Attempt) -> attempts.Rollout:
    return attempts.Rollout("/p/site.yml", "/p/.relaunch/site", list(attempts.PENDING_STATUSES), attempts=list(runs))


@pytest.mark.parametrize(
    ("text", "statuses"),
    [("unreachable", ["unreachable"]), ("failed, not_run,failed", ["failed", "not_run"])],
)
def test_retry_statuses(text, statuses):
    assert attempts.parse_retry(text) == statuses


@pytest.mark.parametrize("text", ["", "ok", "failed,changed", ","])
def test_retry_refuses_statuses_that_are_not_left_to_do(text):
    with pytest.raises(RelaunchError, match="--retry"):
        attempts.parse_retry(text)


def test_delays_grow_by_the_backoff():
    assert list(itertools.islice(attempts.delays(2, 3), 4)) == [2, 6, 18, 54]
    assert list(itertools.islice(attempts.delays(0, 2), 2)) == [0, 0]


def test_callbacks_enabled_adds_the_manifest_callback_once():
    assert attempts.callbacks_enabled([]) == "relaunch.status.manifest"
    assert attempts.callbacks_enabled(["ansible.posix.profile_tasks", " "]) == (
        "ansible.posix.profile_tasks,relaunch.status.manifest"
    )
    assert attempts.callbacks_enabled(["relaunch.status.manifest", "x"]) == "relaunch.status.manifest,x"


@pytest.mark.parametrize(
    ("args", "value"),
    [
        (["-i", "inv", "site.yml"], None),
        (["-l", "web", "site.yml"], "web"),
        (["--limit=db", "-lweb", "site.yml"], "web"),
        (["-e", "-l", "site.yml"], None),  # -l is the value of -e
        (["--limit", "a", "--limit", "b"], "b"),  # the last one wins, as in ansible-playbook
    ],
)
def test_option_value(args, value):
    assert attempts.option_value(args, ("-l", "--limit")) == value


def test_without_prompts_keeps_everything_but_the_prompting_options():
    args = [
        "-i", "inv", "-K", "--ask-pass", "--ask-vault-pass", "--vault-id", "dev@prompt", "--vault-id", "ops@file.txt",
        "--vault-id=prompt", "-e", "-K", "site.yml",
    ]  # fmt: skip
    assert attempts.without_prompts(args) == ["-i", "inv", "--vault-id", "ops@file.txt", "-e", "-K", "site.yml"]
    assert attempts.without_prompt_vault_ids(["a@prompt", "b@x", "prompt_ask_vault_pass"]) == ["b@x"]


@pytest.mark.parametrize(
    ("name", "option", "prompt"),
    [
        ("ssh_password", ["--connection-password-file", "/f"], "SSH password: "),
        ("become_password", ["--become-password-file", "/f"], "BECOME password: "),
        ("vault_password", ["--vault-password-file", "/f"], "Vault password: "),
        ("vault_password.dev", ["--vault-id", "dev@/f"], "Vault password (dev): "),
    ],
)
def test_each_password_has_an_option_and_a_prompt(name, option, prompt):
    assert attempts.password_option(name, "/f") == option
    assert attempts.prompt_text(name) == prompt


def test_a_host_that_recovers_and_one_still_pending():
    record = rollout(
        attempt(1, 2, host("ok1", "ok"), host("flaky", "failed", task="Work"), host("bad", "failed", task="Work")),
        attempt(2, 2, host("flaky", "ok"), host("bad", "failed", task="Again")),
    )
    assert [(o.name, o.recovered_on) for o in record.recovered()] == [("flaky", 2)]
    [pending] = record.pending()
    assert (pending.name, pending.failed_on, pending.first_failure["task"]) == ("bad", 1, "Work")
    assert record.exit_code() == 2
    text = "\n".join(attempts.summary_lines(record, "CONTINUE"))
    assert "flaky on attempt 2" in text and "bad (failed): failed at TASK [Work]: boom" in text
    assert "continue with: CONTINUE" in text


def test_a_host_renamed_between_attempts_is_one_host_by_its_identity():
    record = rollout(
        attempt(1, 2, host("old", "failed", identity="id-1", task="Work")),
        attempt(2, 0, host("new", "ok", identity="id-1")),
    )
    assert [(o.name, o.recovered_on) for o in record.recovered()] == [("new", 2)]
    assert record.pending() == [] and record.exit_code() == 0


def test_exit_code():
    assert rollout(attempt(1, 0, host("a", "ok"))).exit_code() == 0
    # Pending after a successful last attempt (a failed host that --retry unreachable left alone): still red.
    assert rollout(attempt(1, 2, host("a", "failed")), attempt(2, 0)).exit_code() == 2
    assert rollout(attempt(1, 4, host("a", "unreachable"))).exit_code() == 4
    interrupted = rollout(attempt(1, 2, host("a", "failed")))
    interrupted.interrupted = True
    assert interrupted.exit_code() == 130
    no_manifest = rollout(attempts.Attempt(1, ["ansible-playbook"], rc=4))
    assert no_manifest.exit_code() == 4


def test_document_keys():
    record = rollout(attempt(1, 2, host("a", "failed", task="Work")), attempt(2, 0, host("a", "ok")))
    document = attempts.document(record, "CONTINUE")
    assert set(document) == {
        "playbook", "run_directory", "retry", "resumed", "exit_code", "attempts", "recovered", "pending",
        "interrupted", "continue",
    }  # fmt: skip
    assert document["attempts"][0] == {
        "number": 1, "rc": 2, "interrupted": False, "run_id": "run1", "hosts": ["a"], "counts": {"all": 1},
    }  # fmt: skip
    assert document["recovered"] == [{"name": "a", "attempt": 2}] and document["continue"] is None


def test_continue_command_quotes_each_word():
    command = attempts.continue_command(["-i", "my inv", "-e", "x=1", "site.yml"], ["--attempts", "5"])
    assert command == "ansible-relaunch run --resume --attempts 5 -- -i 'my inv' -e x=1 site.yml"


def test_new_run_manifests(tmp_path):
    (tmp_path / "20260101T000000000000Z-1-ab.json").write_text("{}")
    before = set(attempts.run_manifests(str(tmp_path)))
    for name in ("20260102T000000000000Z-1-ab.json", "latest.json", "x.json", "20260102T000000000000Z-1-ab.journal"):
        (tmp_path / name).write_text("{}")
    assert attempts.new_run_manifests(str(tmp_path), before) == ["20260102T000000000000Z-1-ab.json"]
