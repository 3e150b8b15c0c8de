# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Each selecting plugin on its own, through real ansible-playbook, ansible-inventory and ansible-doc runs:
documentation, options and their validation, defaults, check mode, and the errors a user can cause."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from ansible_collections.relaunch.status.plugins.modules import relaunch_info
from tests.e2e import test_relaunch
from tests.e2e.test_relaunch import (
    ALL_HOSTS,
    INFO_PLAYBOOK,
    Workdir,
    assert_clean_error,
    copy_project,
    flat,
    module_result,
    ran,
)
from tests.fixtures import ROLE_SITE
from tests.runner import ANSIBLE_BIN, ansible_env, write_files


def ansible(workdir: Path, tool: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(ANSIBLE_BIN / tool), *args],
        cwd=workdir,
        env=ansible_env(workdir),
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
        check=False,
    )


# The session's one real run that the tests below start from (shared with test_relaunch).
failed_template = test_relaunch.failed_template


@pytest.fixture
def failed_project(failed_template: Path, tmp_path: Path) -> Workdir:
    return copy_project(failed_template, tmp_path)


@pytest.fixture
def project(tmp_path: Path) -> Workdir:
    project = Workdir(tmp_path)
    write_files(tmp_path, {"info.yml": INFO_PLAYBOOK})
    return project


# --- the module -----------------------------------------------------------------------------------------


def test_module_returns_what_the_relaunch_endpoint_shows(failed_project: Workdir) -> None:
    info = module_result(failed_project)
    assert info["changed"] is False
    assert info["hosts"] == ["down", "fail1", "fail2"]
    assert info["limit"] == "down,fail1,fail2"
    assert info["retry_counts"] == {
        "all": 5,
        "failed": 3,
        "unreachable": 1,
        "changed": 4,
        "ok": 4,
        "skipped": 2,
        "rescued": 0,
        "ignored": 0,
        "not_run": 0,
        "pending": 3,  # still to do: the failed hosts, the unreachable one included
    }
    assert info["passwords_needed_to_start"] == []
    assert info["original_limit"] == ""
    assert info["manifests"] == [str(failed_project.path / ".relaunch/site/latest.json")]
    assert info["unresolved"] == [] and info["renamed"] == {} and info["provisioned"] == []


def test_module_takes_a_list_of_statuses_and_works_in_check_mode(failed_project: Workdir) -> None:
    info = module_result(failed_project, "--check", statuses=["unreachable", "skipped"])
    assert info["hosts"] == ["down", "ok1", "ok2"]
    assert info["statuses"] == ["unreachable", "skipped"]
    assert info["changed"] is False


def test_module_allow_empty_gives_an_empty_selection(failed_project: Workdir) -> None:
    info = module_result(failed_project, statuses="rescued", allow_empty=True)
    assert info["hosts"] == [] and info["limit"] == ""


def test_module_runs_on_the_controller_for_an_unreachable_host(failed_project: Workdir) -> None:
    # The task's host is the unreachable one: the action never connects to it.
    info = module_result(failed_project, "--limit", "down")
    assert info["hosts"] == ["down", "fail1", "fail2"]


# Keys ansible-core adds to every task result, which a module's RETURN does not list.
COMMON_RESULT_KEYS = {"changed", "failed", "skipped", "msg", "warnings", "deprecations", "invocation"}


def test_module_returns_exactly_the_keys_its_documentation_lists(failed_project: Workdir) -> None:
    documented = yaml.safe_load(relaunch_info.RETURN)
    # history is returned only when asked (history: true): tests/e2e/test_history.py checks it then.
    documented = {key for key, spec in documented.items() if "history=true" not in spec["returned"]}
    info = module_result(failed_project, statuses=["failed", "ok"])
    assert {key for key in info if key not in COMMON_RESULT_KEYS and not key.startswith("_ansible")} == documented


@pytest.mark.parametrize(
    ("task", "message"),
    [
        ("{hosts: failed, manifest: .relaunch/site, colour: blue}", "Unsupported parameters"),
        ("{hosts: failed, allow_empty: perhaps}", "allow_empty"),
        ("{hosts: [failed, 3]}", "is not a status"),
        ("{hosts: rescued, manifest: .relaunch/site}", "status rescued selects 0 hosts"),
        ("{manifest: nowhere}", "does not exist"),
        ("{manifest: nowhere, allow_missing: true, hosts: nope}", "unknown status 'nope'"),
    ],
)
def test_module_errors_are_one_line(failed_project: Workdir, task: str, message: str) -> None:
    write_files(
        failed_project.path,
        {
            "bad.yml": "- hosts: all\n  gather_facts: false\n  tasks:\n"
            f"    - relaunch.status.relaunch_info: {task}\n      run_once: true\n"
        },
    )
    run = failed_project.run(playbook="bad.yml")
    output = run.stdout + run.stderr
    assert run.rc == 2 and message in output and "Traceback" not in output, output


# A play that saves what relaunch_info finds without a manifest option, then does the work.
DEFAULT_MANIFEST_PLAYBOOK = """
- name: Report the previous run of this playbook
  hosts: all
  gather_facts: false
  tasks:
    - name: Read the default manifest
      relaunch.status.relaunch_info:
        allow_missing: true
      register: info
      run_once: true
    - name: Save it
      ansible.builtin.copy:
        content: "{{ info | to_json }}"
        dest: "{{ marker_dir }}/../own.json"
        mode: "0600"
      run_once: true
      delegate_to: localhost
    - name: The work
      ansible.builtin.import_tasks: tasks.yml
"""


@pytest.mark.parametrize("manifest_dir", [None, "records"])
def test_module_default_manifest_is_the_latest_of_its_playbook(project: Workdir, manifest_dir: str | None) -> None:
    """Without a manifest option: the latest manifest of the playbook, in the manifest_dir setting (env) if set."""
    env = {"RELAUNCH_MANIFEST_DIR": str(project.path / manifest_dir)} if manifest_dir else None
    root = project.path / (manifest_dir or ".relaunch")
    write_files(
        project.path,
        {
            "own.yml": DEFAULT_MANIFEST_PLAYBOOK,
        },
    )
    first = project.run(playbook="own.yml", env=env)
    info = json.loads((first.markers.parent / "own.json").read_text())
    assert info["manifest_found"] is False and "no manifest for playbook 'own'" in info["msg"]
    second = project.run(playbook="own.yml", env=env)
    info = json.loads((second.markers.parent / "own.json").read_text())
    assert info["manifest_found"] is True
    assert info["manifests"] == [str(root / "own/latest.json")]
    assert info["hosts"] == ["down", "fail1", "fail2"]


# --- the lookup ----------------------------------------------------------------------------------------

LOOKUP_TASK = """
- hosts: localhost
  gather_facts: false
  tasks:
    - ansible.builtin.copy:
        content: "{{{{ {expression} | to_json }}}}"
        dest: "{{{{ marker_dir }}}}/../lookup.json"
        mode: "0600"
"""


def lookup_value(project: Workdir, expression: str, *args: str):
    write_files(project.path, {"lookup.yml": LOOKUP_TASK.format(expression=expression)})
    run = project.run(*args, playbook="lookup.yml")
    assert run.rc == 0, run.stdout + run.stderr
    return json.loads((run.markers.parent / "lookup.json").read_text())


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("lookup('relaunch.status.limit', manifest='.relaunch/site')", "down,fail1,fail2"),
        ("lookup('relaunch.status.limit', 'failed', manifest='.relaunch/site/latest.json')", "down,fail1,fail2"),
        ("lookup('relaunch.status.limit', 'unreachable', 'skipped', manifest='.relaunch')", "down,ok1,ok2"),
        ("lookup('relaunch.status.limit', 'unreachable,skipped', manifest='.relaunch')", "down,ok1,ok2"),
        ("query('relaunch.status.limit', 'unreachable', manifest='.relaunch')", ["down,"]),
        ("lookup('relaunch.status.limit', 'rescued', manifest='.relaunch', allow_empty=true)", ""),
    ],
)
def test_lookup_values(failed_project: Workdir, expression: str, expected) -> None:
    assert lookup_value(failed_project, expression) == expected


def test_lookup_in_hosts_works_with_list_hosts(failed_project: Workdir) -> None:
    # --list-hosts templates hosts: without a task queue (no hostvars): the lookup still finds the inventory.
    listed = failed_project.run(
        "-e", "statuses=failed", "-e", "manifest=.relaunch/site", "--list-hosts", playbook="retry.yml"
    )
    assert listed.rc == 0, listed.stderr
    assert {line.strip() for line in listed.stdout.splitlines()} & ALL_HOSTS == {"fail1", "fail2", "down"}


def test_lookup_default_manifest_is_the_latest_of_the_playbook_being_run(project: Workdir) -> None:
    play = (
        "- name: Work\n  hosts: {hosts}\n  gather_facts: false\n  tasks:\n"
        "    - ansible.builtin.import_tasks: tasks.yml\n"
    )
    write_files(project.path, {"again.yml": play.format(hosts="all")})
    project.run(playbook="again.yml")
    # The same playbook, now relaunching itself on what failed last time.
    write_files(project.path, {"again.yml": play.format(hosts="\"{{ lookup('relaunch.status.limit') }}\"")})
    second = project.run(playbook="again.yml")
    assert ran(second, ALL_HOSTS) == {"fail1", "fail2"}, second.stdout + second.stderr


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("lookup('relaunch.status.limit', 'bogus', manifest='.relaunch')", "unknown status 'bogus'"),
        ("lookup('relaunch.status.limit', 'rescued', manifest='.relaunch')", "status rescued selects 0 hosts"),
        ("lookup('relaunch.status.limit', manifest=['.relaunch', 3])", "option manifest"),
        ("lookup('relaunch.status.limit', manifest='missing')", "does not exist"),
        # The run had no --limit: no host pattern means that ("all" skips the implicit localhost).
        ("lookup('relaunch.status.limit', 'all', manifest='.relaunch')", "status all: the run recorded in"),
    ],
)
def test_lookup_errors_are_one_line(failed_project: Workdir, expression: str, message: str) -> None:
    write_files(failed_project.path, {"lookup.yml": LOOKUP_TASK.format(expression=expression)})
    assert_clean_error(failed_project.run(playbook="lookup.yml"), message)


def test_lookup_without_a_playbook_manifest_says_so(project: Workdir) -> None:
    write_files(project.path, {"lookup.yml": LOOKUP_TASK.format(expression="lookup('relaunch.status.limit')")})
    assert_clean_error(project.run(playbook="lookup.yml"), "no manifest for playbook 'lookup'")


# --- the inventory plugin ------------------------------------------------------------------------------


def graph(project: Workdir, *sources: str) -> subprocess.CompletedProcess:
    args = [arg for source in sources for arg in ("-i", source)]
    return ansible(project.path, "ansible-inventory", *args, "--list")


@pytest.mark.parametrize(
    "name", ["relaunch.yml", "relaunch.yaml", "site.relaunch.yml", ".relaunch.yml", "prod-relaunch.yaml"]
)
def test_inventory_plugin_accepts_its_file_names(failed_project: Workdir, name: str) -> None:
    write_files(
        failed_project.path,
        {name: "plugin: relaunch.status.groups\nmanifest: .relaunch/site\nstatuses: [failed, unreachable]\n"},
    )
    result = graph(failed_project, failed_project.inventory, name)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data["relaunch_failed"]["hosts"]) == {"fail1", "fail2", "down"}
    assert data["relaunch_unreachable"]["hosts"] == ["down"]
    assert "relaunch_ok" not in data


def test_inventory_plugin_declines_other_file_names(failed_project: Workdir) -> None:
    write_files(failed_project.path, {"groups.yml": "plugin: relaunch.status.groups\nmanifest: .relaunch/site\n"})
    result = graph(failed_project, failed_project.inventory, "groups.yml")
    assert "could not be verified by inventory plugin 'relaunch.status.groups'" in flat(result.stderr), result.stderr


def test_inventory_plugin_resolves_identity_from_host_vars_files(failed_project: Workdir) -> None:
    # fail1 becomes "renamed", its identity now coming from host_vars/.
    inventory = (
        (failed_project.path / "inventory.yml")
        .read_text()
        .replace("fail1: {relaunch_id: id-fail1, should_fail: true}", "renamed: {should_fail: true}")
    )
    write_files(failed_project.path, {"inventory.yml": inventory, "host_vars/renamed.yml": "relaunch_id: id-fail1\n"})
    result = graph(failed_project, "inventory.yml", "groups.relaunch.yml")
    assert result.returncode == 0, result.stderr
    assert set(json.loads(result.stdout)["relaunch_failed"]["hosts"]) == {"renamed", "fail2", "down"}


@pytest.mark.parametrize(
    ("config", "sources", "message"),
    [
        (
            "plugin: relaunch.status.groups\nmanifest: .relaunch/site\nstatuses: [failed, broken]\n",
            "after",
            "unknown status 'broken'",
        ),
        ("plugin: relaunch.status.groups\nmanifest: nowhere\n", "after", "does not exist"),
        (
            "plugin: relaunch.status.groups\nmanifest: .relaunch/site\n",
            "before",
            "give this file after the real inventory sources",
        ),
        ("plugin: relaunch.status.groups\nmanifest: .relaunch/site\n", "clash", "already has group 'relaunch_failed'"),
    ],
)
def test_inventory_plugin_errors_name_the_file_and_nothing_runs(
    failed_project: Workdir, config: str, sources: str, message: str
) -> None:
    write_files(failed_project.path, {"x.relaunch.yml": config, "clash.yml": "relaunch_failed:\n  hosts:\n    ok1:\n"})
    order = {
        "after": (failed_project.inventory, "x.relaunch.yml"),
        "before": ("x.relaunch.yml", failed_project.inventory),
        "clash": (failed_project.inventory, "clash.yml", "x.relaunch.yml"),
    }[sources]
    run = failed_project.run("--limit", "relaunch_failed", inventory=order)
    assert_clean_error(run, "x.relaunch.yml: ", message)
    # One line, not ansible-core's fallback through every other inventory plugin.
    output = run.stdout + run.stderr
    assert [line for line in output.splitlines() if line.strip()] == [
        line for line in output.splitlines() if "x.relaunch.yml: " in line
    ], output
    assert "Failed to parse" not in output, output


BROKEN_SOURCE = "[web\nnot an ini inventory ::::\n"


def test_another_broken_inventory_source_still_only_warns(failed_project: Workdir) -> None:
    write_files(failed_project.path, {"broken.ini": BROKEN_SOURCE})
    run = failed_project.run(
        "--limit", "relaunch_failed", inventory=(failed_project.inventory, "broken.ini", "groups.relaunch.yml")
    )
    output = run.stdout + run.stderr
    assert "Unable to parse" in flat(output) and "broken.ini" in output, output
    assert ran(run, ALL_HOSTS) == {"fail1", "fail2"}, output


# The Python API in one process, as ansible-runner or a test harness uses it: an error of the groups
# configuration must not turn later failing sources of the same process into fatal ones.
ONE_PROCESS = """
import sys
from ansible.plugins.loader import init_plugin_loader
init_plugin_loader([sys.argv[1]])
from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader
try:
    InventoryManager(DataLoader(), sources=["inventory.yml", "x.relaunch.yml"])
except (SystemExit, Exception) as exc:
    print("groups error:", type(exc).__name__)
inventory = InventoryManager(DataLoader(), sources=["inventory.yml", "broken.ini"])
print("hosts:", len(inventory.hosts))
"""


def test_a_groups_error_leaves_the_other_sources_of_the_process_alone(failed_project: Workdir) -> None:
    write_files(
        failed_project.path,
        {"broken.ini": BROKEN_SOURCE, "x.relaunch.yml": "plugin: relaunch.status.groups\nmanifest: nowhere\n"},
    )
    env = ansible_env(failed_project.path)
    result = subprocess.run(
        [str(ANSIBLE_BIN / "python"), "-c", ONE_PROCESS, env["ANSIBLE_COLLECTIONS_PATH"]],
        cwd=failed_project.path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert "groups error:" in result.stdout and "hosts: 5" in result.stdout, result.stdout + result.stderr


# --- the role ------------------------------------------------------------------------------------------


def test_role_runs_every_host_without_a_manifest_then_only_the_failed(project: Workdir) -> None:
    write_files(project.path, {"site.yml": ROLE_SITE})
    first = project.run("-e", "relaunch_hosts=failed")
    assert ran(first, ALL_HOSTS) == {"ok1", "ok2", "fail1", "fail2"}
    assert "no manifest for playbook 'site'" in first.stdout and "running on every host" in first.stdout
    again = project.run("-e", "relaunch_hosts=failed")
    assert ran(again, ALL_HOSTS) == {"fail1", "fail2"}, again.stdout
    assert "3 hosts of status failed run" in again.stdout
    # Check mode selects the same hosts.
    checked = project.run("-e", "relaunch_hosts=failed", "--check")
    assert "3 hosts of status failed run" in checked.stdout, checked.stdout


@pytest.mark.parametrize("off", [None, "none", ""])
def test_role_without_relaunch_hosts_selects_nothing(project: Workdir, off: str | None) -> None:
    """A plain run of a playbook that holds the role runs on all its hosts, even after a failed run."""
    write_files(project.path, {"site.yml": ROLE_SITE})
    first = project.run()
    assert first.with_status("failed") == {"fail1", "fail2", "down"}
    plain = project.run() if off is None else project.run("-e", f"relaunch_hosts={off}")
    assert ran(plain, ALL_HOSTS) == {"ok1", "ok2", "fail1", "fail2"}, plain.stdout
    assert (
        "relaunch.status.select: no relaunch_hosts (or none) nor relaunch_group given: it selects nothing"
        in plain.stdout
    )
    # It read no manifest and ended no host.
    assert "of status" not in plain.stdout and "End the play for the hosts outside" not in plain.stdout


def test_role_with_a_named_manifest_that_is_missing_refuses(project: Workdir) -> None:
    write_files(project.path, {"site.yml": ROLE_SITE})
    refused = project.run("-e", "relaunch_hosts=failed", "-e", "relaunch_manifest=.relaunch/nope")
    assert_clean_error(refused, "does not exist")


def test_role_refuses_an_empty_selection(failed_project: Workdir) -> None:
    refused = failed_project.relaunch("role", "rescued")
    assert_clean_error(refused, "status rescued selects 0 hosts", "rescued=0")


# --- settings, argument validation and the role's output ----------------------------------------------


def test_module_reads_the_manifest_dir_setting_from_ansible_cfg(project: Workdir) -> None:
    """The action reads the settings it shares with the callback from ansible.cfg, as the callback does."""
    config = project.path / "ansible.cfg"
    write_files(
        project.path,
        {"own.yml": DEFAULT_MANIFEST_PLAYBOOK, "ansible.cfg": "[relaunch_status]\nmanifest_dir = records\n"},
    )
    env = {"ANSIBLE_CONFIG": str(config)}
    first = project.run(playbook="own.yml", env=env)
    assert json.loads((first.markers.parent / "own.json").read_text())["manifest_found"] is False
    second = project.run(playbook="own.yml", env=env)
    info = json.loads((second.markers.parent / "own.json").read_text())
    assert info["manifest_found"] is True, info
    assert info["manifests"] == [str(project.path / "records/own/latest.json")]
    assert info["hosts"] == ["down", "fail1", "fail2"]


def test_role_names_a_bad_boolean_in_one_line(failed_project: Workdir) -> None:
    """A value that is not a boolean fails once, naming the variable, without the role's argument spec."""
    refused = failed_project.relaunch("role", "failed", "-e", "relaunch_allow_empty=maybe")
    assert_clean_error(refused, "relaunch_allow_empty must be true or false (or yes/no, on/off, 1/0), not 'maybe'")
    output = refused.stdout + refused.stderr
    assert "argument_spec_data" not in output and output.count("relaunch_allow_empty must be") <= 2, output
    # Its spellings of a boolean still work.
    allowed = failed_project.relaunch("role", "rescued", "-e", "relaunch_allow_empty=yes")
    assert allowed.rc == 0 and ran(allowed, ALL_HOSTS) == set(), allowed.stdout + allowed.stderr
    refused = failed_project.relaunch("role", "rescued", "-e", "relaunch_allow_empty=off")
    assert_clean_error(refused, "status rescued selects 0 hosts")


# The README's lookup example, as pasted into a play's hosts:.
README_LOOKUP_HOSTS = "hosts: \"{{ lookup('relaunch.status.limit', 'failed', default='all') }}\""


def test_lookup_readme_example_runs_on_a_first_run_then_on_the_failed(project: Workdir) -> None:
    assert README_LOOKUP_HOSTS in (Path(__file__).parents[2] / "README.md").read_text()
    play = (
        f"- name: Work\n  {README_LOOKUP_HOSTS}\n  gather_facts: false\n"
        "  tasks:\n    - ansible.builtin.import_tasks: tasks.yml\n"
    )
    write_files(project.path, {"again.yml": play})
    first = project.run(playbook="again.yml")
    assert ran(first, ALL_HOSTS) == {"ok1", "ok2", "fail1", "fail2"}, first.stdout + first.stderr
    second = project.run(playbook="again.yml")
    assert ran(second, ALL_HOSTS) == {"fail1", "fail2"}, second.stdout + second.stderr


def test_lookup_default_is_only_for_a_missing_manifest(failed_project: Workdir) -> None:
    # A manifest that selects 0 hosts still fails; an empty default is refused.
    expression = "lookup('relaunch.status.limit', 'rescued', manifest='.relaunch', default='all')"
    write_files(failed_project.path, {"lookup.yml": LOOKUP_TASK.format(expression=expression)})
    assert_clean_error(failed_project.run(playbook="lookup.yml"), "status rescued selects 0 hosts")
    expression = "lookup('relaunch.status.limit', manifest='missing', default='')"
    write_files(failed_project.path, {"lookup.yml": LOOKUP_TASK.format(expression=expression)})
    assert_clean_error(failed_project.run(playbook="lookup.yml"), "option default: empty")
    assert lookup_value(failed_project, "lookup('relaunch.status.limit', manifest='missing', default='web')") == "web"


def test_role_ends_hosts_without_headers_when_skipped_hosts_are_hidden(failed_project: Workdir) -> None:
    """What roles/select/README.md says: display_skipped_hosts=false hides the per-host headers of end_host."""
    header = "End the play for the hosts outside the selection"
    shown = failed_project.relaunch("role", "failed")
    assert shown.stdout.count(header) == len(ALL_HOSTS), shown.stdout
    hidden = failed_project.relaunch("role", "failed", env={"ANSIBLE_DISPLAY_SKIPPED_HOSTS": "false"})
    assert hidden.rc != 0 and header not in hidden.stdout, hidden.stdout
    assert ran(hidden, ALL_HOSTS) == ran(shown, ALL_HOSTS) == {"fail1", "fail2"}, hidden.stdout


def test_inventory_plugin_makes_a_pending_group_by_default(failed_project: Workdir) -> None:
    write_files(failed_project.path, {"relaunch.yml": "plugin: relaunch.status.groups\nmanifest: .relaunch/site\n"})
    result = graph(failed_project, failed_project.inventory, "relaunch.yml")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    # Everything still to do: the failed hosts, the unreachable one included.
    assert set(data["relaunch_pending"]["hosts"]) == set(data["relaunch_failed"]["hosts"]) == {"fail1", "fail2", "down"}
