# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Relaunch end to end: a real run where some hosts fail, then a real relaunch by each way a user can.

The four ways are the limit file the callback writes (``--limit @.relaunch/site/failed.limit``),
the inventory groups (``-i inventory -i relaunch.yml --limit relaunch_failed``), the lookup in a
play's ``hosts:``, and the role at the top of a play. Every task touches a marker file named by the
SHA-1 of ``inventory_hostname``, so which hosts did the work is read from the disk, whatever their
names; unreachable hosts are read from the recap. The marker task is ``raw``: a module would start a
Python on every host, which made these tests about twice as slow.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import sys
from pathlib import Path

import pytest

from tests.fixtures import ROLE_SITE, THE_WORK, play
from tests.runner import ANSIBLE_BIN, RUN_LIMIT_FILE, Run, ansible_env, ansible_playbook, write_files

WAYS = ("limit_file", "groups", "lookup", "role")

TASKS = """
- name: Leave a marker for this host
  ansible.builtin.raw: touch {{ (marker_dir ~ '/' ~ inventory_hostname | hash('sha1')) | quote }}
- name: Fail where the inventory says so
  ansible.builtin.fail:
    msg: asked to fail
  when: (should_fail | default(false) | bool) or inventory_hostname in (fail_names | default([]))
"""

PLAYBOOKS = {
    "tasks.yml": TASKS,
    "site.yml": play("Site", "all", THE_WORK),
    # The lookup way: the same work, on the hosts the lookup selects.
    "retry.yml": play(
        "Relaunch with the lookup", "\"{{ lookup('relaunch.status.limit', statuses, manifest=manifest) }}\"", THE_WORK
    ),
    # The role way: every host, the role ends those outside the statuses.
    "role.yml": play("Relaunch with the role", "all", THE_WORK, select_role=True),
    "groups.relaunch.yml": """
        plugin: relaunch.status.groups
        manifest: .relaunch/site
        """,
}

UNREACHABLE = (
    "ansible_connection: ssh, ansible_host: 127.0.0.1, ansible_port: 1, ansible_ssh_common_args: '-o ConnectTimeout=5'"
)

INVENTORY = f"""
all:
  vars:
    ansible_connection: local
  hosts:
    ok1: {{relaunch_id: id-ok1}}
    ok2: {{relaunch_id: id-ok2}}
    fail1: {{relaunch_id: id-fail1, should_fail: true}}
    fail2: {{relaunch_id: id-fail2, should_fail: true}}
    down: {{relaunch_id: id-down, {UNREACHABLE}}}
"""

RECAP_LINE = re.compile(
    r"^(?P<host>.+?)\s+: ok=\d+\s+changed=\d+\s+unreachable=(?P<unreachable>\d+)\s+failed=\d+", re.MULTILINE
)


def marker(name: str) -> str:
    return hashlib.sha1(name.encode("utf-8")).hexdigest()


class Workdir:
    """A project directory: playbooks, an inventory, and runs that each leave their own markers."""

    def __init__(self, path: Path, inventory: str = INVENTORY, inventory_name: str = "inventory.yml") -> None:
        self.path = path
        self.inventory = inventory_name
        self.runs = 0
        write_files(path, PLAYBOOKS)
        if inventory:
            write_files(path, {inventory_name: inventory})

    def run(
        self, *args: str, playbook: str = "site.yml", inventory: tuple[str, ...] | None = None, env: dict | None = None
    ) -> Run:
        self.runs += 1
        markers = self.path / "markers" / str(self.runs)
        markers.mkdir(parents=True)
        sources = inventory if inventory is not None else (self.inventory,)
        inventory_args = [arg for source in sources for arg in ("-i", source)]
        run = ansible_playbook(
            self.path, *inventory_args, "-e", f"marker_dir={markers}", *args, playbook=playbook, env=env
        )
        run.markers = markers
        return run

    def relaunch(
        self,
        way: str,
        statuses: str = "failed",
        *args: str,
        inventory: tuple[str, ...] | None = None,
        env: dict | None = None,
    ) -> Run:
        """Relaunch site.yml's last run on ``statuses`` by ``way``."""
        sources = inventory if inventory is not None else (self.inventory,)
        if way == "limit_file":
            return self.run("--limit", f"@.relaunch/site/{statuses}.limit", *args, inventory=sources, env=env)
        if way == "groups":
            return self.run(
                "--limit", f"relaunch_{statuses}", *args, inventory=(*sources, "groups.relaunch.yml"), env=env
            )
        if way == "lookup":
            return self.run(
                "-e",
                f"statuses={statuses}",
                "-e",
                "manifest=.relaunch/site",
                *args,
                playbook="retry.yml",
                inventory=sources,
                env=env,
            )
        if way == "role":
            extra = ("-e", f"relaunch_hosts={statuses}", "-e", "relaunch_manifest=.relaunch/site")
            return self.run(*extra, *args, playbook="role.yml", inventory=sources, env=env)
        raise AssertionError(way)


def ran(run: Run, candidates) -> set[str]:
    """The candidate hosts that did the work in ``run``."""
    done = {path.name for path in run.markers.iterdir()}
    return {name for name in candidates if marker(name) in done}


def unreachable(run: Run) -> set[str]:
    return {match["host"].strip() for match in RECAP_LINE.finditer(run.stdout) if int(match["unreachable"])}


def flat(text: str) -> str:
    """Output with line wrapping undone (ansible-core before 2.19 wraps warnings at the terminal width)."""
    return " ".join(text.replace("\n", " ").split()).replace("- ", "-")


def assert_clean_error(run: Run, *fragments: str) -> None:
    """Failed before any work, with one clear message and no Python traceback."""
    output = run.stdout + run.stderr
    assert run.rc != 0, output
    assert "Traceback" not in output, output
    for fragment in fragments:
        assert flat(fragment) in flat(output), output
    assert not any(run.markers.iterdir()), output


@pytest.fixture
def project(tmp_path: Path) -> Workdir:
    return Workdir(tmp_path)


@pytest.fixture(scope="session")
def failed_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One real run of site.yml where fail1, fail2 fail and down is unreachable, copied by the tests that start from
    it."""
    path = tmp_path_factory.mktemp("failed-template")
    first = Workdir(path).run()
    assert first.with_status("failed") == {"fail1", "fail2", "down"} == first.retry()
    return path


@pytest.fixture
def failed_project(failed_template: Path, tmp_path: Path) -> Workdir:
    return copy_project(failed_template, tmp_path)


def copy_project(template: Path, tmp_path: Path) -> Workdir:
    target = tmp_path / "project"
    shutil.copytree(template, target, symlinks=True)
    project = Workdir(target)
    project.runs = len(list((target / "markers").iterdir()))
    write_files(target, {"info.yml": INFO_PLAYBOOK})
    return project


ALL_HOSTS = {"ok1", "ok2", "fail1", "fail2", "down"}
# The run's own limit file of the rollout's pending hosts, which its summary names.
RUN_PENDING_FILE = RUN_LIMIT_FILE.replace("failed", "pending")


# --- the four ways on a plain run ---------------------------------------------------------


@pytest.mark.parametrize("way", WAYS)
def test_relaunch_on_failed_runs_exactly_the_failed_hosts(project: Workdir, way: str) -> None:
    first = project.run()
    assert first.rc == 4, first.stdout  # unreachable hosts make it 4
    assert first.with_status("failed") == {"fail1", "fail2", "down"} == first.retry()
    assert ran(first, ALL_HOSTS) == {"ok1", "ok2", "fail1", "fail2"}

    again = project.relaunch(way)
    assert "Traceback" not in again.stdout + again.stderr
    assert ran(again, ALL_HOSTS) == {"fail1", "fail2"}, again.stdout + again.stderr
    assert unreachable(again) == {"down"}, again.stdout


@pytest.mark.parametrize("way", WAYS)
def test_relaunch_on_a_union_of_statuses(failed_project: Workdir, way: str) -> None:
    project = failed_project
    if way == "limit_file":
        # One file a status; several --limit options keep the last, so a union takes one run per file.
        again = project.run("--limit", "@.relaunch/site/unreachable.limit")
        expected = {"down"}
    elif way == "groups":
        again = project.run(
            "--limit", "relaunch_unreachable,relaunch_skipped", inventory=(project.inventory, "groups.relaunch.yml")
        )
        expected = {"down", "ok1", "ok2"}
    else:
        again = project.relaunch(way, "unreachable,skipped")
        expected = {"down", "ok1", "ok2"}
    assert ran(again, ALL_HOSTS) | unreachable(again) == expected, again.stdout + again.stderr


# --- limit files ----------------------------------------------------------------------------


@pytest.mark.newest_only
def test_limit_files_follow_the_latest_run_and_leave_nothing_stale(project: Workdir) -> None:
    first = project.run()
    run_dir = first.run_dir
    assert set((run_dir / "failed.limit").read_text().splitlines()) == {"fail1", "fail2", "down"}
    summary = first.stdout[first.stdout.index("RELAUNCH SUMMARY") :]
    assert re.search(r"--limit @\.relaunch/site/" + RUN_PENDING_FILE, summary)

    clean = project.run("-e", "should_fail=false", "--limit", "@.relaunch/site/failed.limit")
    assert ran(clean, ALL_HOSTS) == {"fail1", "fail2"}
    # down is still unreachable: failed.limit now names it alone; unreachable.limit too.
    assert (run_dir / "failed.limit").read_text() == "down\n"
    # A run on some hosts continues the rollout: down is still to do, ok1 and ok2 join fail1 and fail2 as ok.
    fixed = project.run("-e", "should_fail=false", "--limit", "ok1,ok2")
    assert fixed.rc == 0, fixed.stdout
    assert (run_dir / "failed.limit").read_text() == "down\n"
    assert (run_dir / "unreachable.limit").read_text() == "down\n"
    assert (run_dir / f"{fixed.manifest()['run_id']}.pending.limit").read_text() == "down\n"
    assert sorted((run_dir / "ok.limit").read_text().splitlines()) == ["fail1", "fail2", "ok1", "ok2"]
    # A run on every host starts a new rollout: once down is reachable, nothing is left of the old one.
    done = project.run("-e", "should_fail=false", "-e", "ansible_connection=local")
    assert done.rc == 0, done.stdout
    assert "0 failed hosts" in (run_dir / "failed.limit").read_text()
    assert "0 unreachable hosts" in (run_dir / "unreachable.limit").read_text()
    assert "0 pending hosts" in (run_dir / "pending.limit").read_text()
    assert sorted((run_dir / "ok.limit").read_text().splitlines()) == sorted(ALL_HOSTS)


@pytest.mark.newest_only
def test_more_names_than_one_argument_holds_fit_a_limit_file(tmp_path: Path) -> None:
    # 300 names of 460 characters are 138 KB: more than one command-line argument may hold (128 KiB).
    names = [f"host-{index:03d}-" + "x" * 451 for index in range(300)]
    hosts = {name: {"should_fail": True} for name in names}
    hosts["fine"] = {}
    project = Workdir(
        tmp_path, json.dumps({"all": {"vars": {"ansible_connection": "local"}, "hosts": hosts}}), "inventory.json"
    )
    write_files(
        tmp_path,
        {
            "site.yml": "- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.builtin.fail: {msg: x}\n"
            "      when: should_fail | default(false)\n"
        },
    )
    first = project.run("-f", "20")
    limit = first.limit_file("failed").read_text()
    assert len(limit.encode()) > 128 * 1024
    listed = project.run("--limit", "@.relaunch/site/failed.limit", "--list-hosts")
    assert listed.rc == 0, listed.stderr
    shown = {line.strip() for line in listed.stdout.splitlines()} & (set(names) | {"fine"})
    assert shown == set(names)


# --- renames and other machines -------------------------------------------------------------

RENAME_BEFORE = """
all:
  vars: {ansible_connection: local}
  hosts:
    foobar: {relaunch_id: machine-1, should_fail: true}
    other: {relaunch_id: machine-2, should_fail: true}
    steady: {relaunch_id: machine-3}
"""

# foobar is now foo; a new machine took the name "other"; machine-2 is gone.
RENAME_AFTER = """
all:
  vars: {ansible_connection: local}
  hosts:
    foo: {relaunch_id: machine-1, should_fail: true}
    other: {relaunch_id: machine-9, should_fail: true}
    steady: {relaunch_id: machine-3}
"""


@pytest.mark.parametrize("way", ["groups", "lookup", "role"])
def test_relaunch_after_a_rename_targets_the_new_name_and_not_another_machine(tmp_path: Path, way: str) -> None:
    project = Workdir(tmp_path, RENAME_BEFORE)
    first = project.run()
    assert first.with_status("failed") == {"foobar", "other"}
    write_files(tmp_path, {"inventory.yml": RENAME_AFTER})
    # (Limit files hold the names as the run knew them; they cannot follow a rename.)
    again = project.relaunch(way)
    output = again.stdout + again.stderr
    assert ran(again, {"foo", "foobar", "other", "steady"}) == {"foo"}, output
    # The warning says why "other" is left out.
    assert "not selecting 'other'" in flat(output) and "a different machine" in flat(output), output


STALE_BEFORE = """
all:
  vars:
    ansible_connection: local
  hosts:
    sp: {relaunch_id: id-sp, should_fail: true}
    web03: {relaunch_id: srv-3, should_fail: true}
    steady: {relaunch_id: id-steady}
"""
# sp is gone and a group has its name; web03 (srv-3) is now web05, and a new machine (srv-99) took its name.
STALE_AFTER = """
all:
  vars:
    ansible_connection: local
  hosts:
    web05: {relaunch_id: srv-3}
    web03: {relaunch_id: srv-99}
    steady: {relaunch_id: id-steady}
  children:
    sp:
      hosts:
        sp1: {relaunch_id: id-sp1}
        sp2: {relaunch_id: id-sp2}
        sp3: {relaunch_id: id-sp3}
"""


def test_a_limit_file_never_selects_a_group_or_another_machine_after_the_inventory_changed(tmp_path: Path) -> None:
    project = Workdir(tmp_path, STALE_BEFORE)
    first = project.run()
    assert first.with_status("failed") == {"sp", "web03"}
    assert set(first.limit_file("failed").read_text().split()) == {"sp", "web03"}
    write_files(tmp_path, {"inventory.yml": STALE_AFTER})
    everyone = {"sp", "sp1", "sp2", "sp3", "web03", "web05", "steady"}
    refused = project.relaunch("limit_file")
    assert_clean_error(refused, "failed.limit would now select 4 hosts", "'sp1'", "'web03'", "relaunch.status.groups")
    # So does the run's own limit file of the rollout's pending hosts, the one its summary names,
    run_id = first.manifest()["run_id"]
    pending = f".relaunch/site/{run_id}.pending.limit"
    assert re.search(re.escape(f"--limit @{pending}"), first.stdout)
    assert set((tmp_path / pending).read_text().split()) == {"sp", "web03"}
    assert_clean_error(project.run("--limit", f"@{pending}"), f"{pending} would now select 4 hosts", "'sp1'", "'web03'")
    # and the run's own failed hosts.
    own = f".relaunch/site/{run_id}.failed.limit"
    assert_clean_error(project.run("--limit", f"@{own}"), f"{own} would now select 4 hosts", "'sp1'", "'web03'")
    # So is the summary's form for several statuses: their limit files joined by commas.
    assert first.limit_file("ok").exists()
    joined = project.run("--limit", "@.relaunch/site/failed.limit,@.relaunch/site/ok.limit")
    assert_clean_error(
        joined, "ok.limit would now select", "not its failed and ok hosts", "'sp1'", "relaunch.status.groups"
    )
    # The ways that follow identities select the renamed machine only (their runs record elsewhere, leaving the
    # first run latest).
    for way in ("groups", "lookup"):
        again = project.relaunch(way, env={"RELAUNCH_MANIFEST_DIR": str(tmp_path / "later")})
        assert ran(again, everyone) == {"web05"}, again.stdout + again.stderr


RENAMED_AFTER_FAILING = """
all:
  vars: {ansible_connection: local}
  hosts:
    app01: {relaunch_id: machine-1}
    app02-new: {relaunch_id: machine-2}
    app05: {relaunch_id: machine-5, should_fail: true}
"""


def test_a_limit_file_warns_of_a_host_renamed_since_its_run(tmp_path: Path) -> None:
    """app02 and app05 failed, then app02 was renamed app02-new: failed.limit cannot select it, and the run says so.

    (Were app02 the only host of the file, ansible-playbook would stop before the playbook starts: no hosts.)
    """
    project = Workdir(tmp_path, RENAMED_AFTER_FAILING.replace("app02-new: {", "app02: {should_fail: true, "))
    first = project.run()
    assert first.with_status("failed") == {"app02", "app05"}
    first_run = f".relaunch/site/{first.manifest()['run_id']}.json"
    write_files(tmp_path, {"inventory.yml": RENAMED_AFTER_FAILING})
    again = project.relaunch("limit_file")
    output = flat(again.stdout + again.stderr)
    assert "Traceback" not in output and ran(again, {"app01", "app02", "app02-new", "app05"}) == {"app05"}, output
    assert (
        "relaunch.status.manifest: --limit @.relaunch/site/failed.limit: app02 is now app02-new "
        "(renamed since the run, same identity); the limit file cannot select it, so it stays pending in the "
        "rollout; relaunch with the relaunch.status.groups inventory (-i relaunch.yml --limit relaunch_failed) "
        "or the relaunch.status.limit lookup"
    ) in output, output
    # As the warning says: the groups follow the rename (here from the first run's own manifest).
    write_files(tmp_path, {"first.relaunch.yml": f"plugin: relaunch.status.groups\nmanifest: {first_run}\n"})
    follow = project.run("--limit", "relaunch_failed", inventory=(project.inventory, "first.relaunch.yml"))
    assert ran(follow, {"app01", "app02", "app02-new", "app05"}) == {"app02-new", "app05"}, follow.stdout


def test_renames_in_the_module_result(tmp_path: Path) -> None:
    project = Workdir(tmp_path, RENAME_BEFORE)
    project.run()
    write_files(tmp_path, {"inventory.yml": RENAME_AFTER, "info.yml": INFO_PLAYBOOK})
    info = module_result(project, statuses="failed")
    assert info["hosts"] == ["foo"]
    assert info["renamed"] == {"foobar": "foo"}
    assert [(item["name"], item["identity"]) for item in info["unresolved"]] == [("other", "machine-2")]
    assert "machine-9" in info["unresolved"][0]["reason"]
    assert info["retry_counts"]["failed"] == 2 and info["retry_counts"]["all"] == 3


INFO_PLAYBOOK = """
- name: Report
  hosts: all
  gather_facts: false
  tasks:
    - name: Read the manifest
      relaunch.status.relaunch_info:
        manifest: "{{ manifest | default(omit) }}"
        hosts: "{{ statuses | default('failed') }}"
        allow_empty: "{{ allow_empty | default(false) }}"
      register: info
      run_once: true
    - name: Save the result on the controller
      ansible.builtin.copy:
        content: "{{ info | to_json }}"
        dest: "{{ marker_dir }}/../info.json"
        mode: "0600"
      check_mode: false
      run_once: true
      delegate_to: localhost
"""


def module_result(project: Workdir, *args: str, **options) -> dict:
    """The result of relaunch_info in info.yml; options become extra vars (manifest defaults to .relaunch/site)."""
    options.setdefault("manifest", ".relaunch/site")
    run = project.run("-e", json.dumps(options), *args, playbook="info.yml")
    assert run.rc == 0, run.stdout + run.stderr
    return json.loads((run.markers.parent / "info.json").read_text())


# --- all = the original limit -----------------------------------------------------------------


def test_all_of_a_limited_run_is_its_limit(project: Workdir) -> None:
    first = project.run("--limit", "ok1,fail1")
    assert first.manifest()["invocation"]["limit"] == "ok1,fail1"
    write_files(project.path, {"info.yml": INFO_PLAYBOOK})
    info = module_result(project, statuses="all")
    assert (info["original_limit"], info["limit"], info["limited"]) == ("ok1,fail1", "ok1,fail1", True)
    for way in ("lookup", "role"):
        again = project.relaunch(way, "all")
        assert ran(again, ALL_HOSTS) == {"ok1", "fail1"}, again.stdout + again.stderr


# The implicit localhost is in no group: "--limit all" skips this play ("no hosts matched"), no --limit runs it.
LOCALHOST_PLAYBOOK = play("On the controller", "localhost", THE_WORK, select_role=True) + ROLE_SITE


def test_all_of_a_run_without_limit_is_no_limit(project: Workdir) -> None:
    write_files(project.path, {"local.yml": LOCALHOST_PLAYBOOK, "info.yml": INFO_PLAYBOOK})
    everything = ALL_HOSTS | {"localhost"}
    first = project.run("-e", "should_fail=false", playbook="local.yml")
    assert ran(first, everything) == everything - {"down"}, first.stdout + first.stderr
    info = module_result(project, statuses="all", manifest=".relaunch/local")
    # Not "all", which would skip the localhost play: no limit, and a field that says so.
    assert (info["original_limit"], info["limit"], info["limited"]) == ("", "", False)
    # The role keeps every host, the implicit localhost included.
    again = project.run("-e", "should_fail=false", "-e", "relaunch_hosts=all", playbook="local.yml")
    assert ran(again, everything) == everything - {"down"}, again.stdout + again.stderr
    # No host pattern means "no limit": the lookup refuses in one line rather than return "all".
    write_files(project.path, {"local_retry.yml": PLAYBOOKS["retry.yml"]})
    refused = project.run("-e", "statuses=all", "-e", "manifest=.relaunch/local", playbook="local_retry.yml")
    assert_clean_error(refused, "status all:", "had no --limit", "relaunch without --limit")


def test_all_after_a_limit_file_relaunch_is_what_that_relaunch_selected(failed_project: Workdir) -> None:
    project = failed_project
    # The relaunch from failed.limit fixes fail1 and fail2; the end of the run rewrites failed.limit to hold only
    # "down".
    again = project.relaunch("limit_file", "failed", "-e", "should_fail=false")
    assert again.with_status("failed") == {"down"}
    assert again.limit_file("failed").read_text() == "down\n"
    invocation = again.manifest()["invocation"]
    assert invocation["limit_given"] == "@.relaunch/site/failed.limit"
    assert sorted(invocation["limit"].split(",")) == ["down", "fail1", "fail2"]
    info = module_result(project, statuses="all")
    assert info["hosts"] == ["down", "fail1", "fail2"] and info["limited"]
    # "Relaunch all" selects what the limit file selected when that relaunch started, not what it holds now.
    rerun = project.relaunch("lookup", "all")
    assert ran(rerun, ALL_HOSTS) == {"fail1", "fail2"}, rerun.stdout + rerun.stderr
    assert unreachable(rerun) == {"down"}


@pytest.mark.newest_only
def test_the_example_never_prints_a_limit_of_every_host(project: Workdir) -> None:
    """docs/examples/relaunch_info.yml with 0 selected hosts must not print "--limit ''" (every host)."""
    project.run("-e", "should_fail=false", "--limit", "ok1,ok2")
    example = Path(__file__).parents[2] / "docs" / "examples" / "relaunch_info.yml"
    shutil.copy(example, project.path / "example.yml")
    run = ansible_playbook(
        project.path, "-i", project.inventory, "-e", "relaunch_manifest=.relaunch/site", playbook="example.yml"
    )
    output = run.stdout + run.stderr
    assert run.rc == 0, output
    assert "nothing to relaunch" in output and "ansible-playbook site.yml" not in output, output


# --- passwords ----------------------------------------------------------------------------------


def test_become_password_prompt_with_a_status_limit(project: Workdir) -> None:
    pexpect = pytest.importorskip("pexpect")
    first = project.run()
    assert first.rc == 4

    def prompted_run(*args: str) -> tuple[int, str, Path]:
        project.runs += 1
        markers = project.path / "markers" / str(project.runs)
        markers.mkdir(parents=True)
        command = [
            str(ANSIBLE_BIN / "ansible-playbook"),
            "-i",
            project.inventory,
            "-e",
            f"marker_dir={markers}",
            *args,
            "site.yml",
        ]
        child = pexpect.spawn(
            command[0], command[1:], cwd=str(project.path), env=ansible_env(project.path), encoding="utf-8", timeout=120
        )
        child.expect("BECOME password:")
        child.sendline("not-a-real-password")
        child.expect(pexpect.EOF)
        child.close()
        return child.exitstatus, child.before, markers

    rc, output, markers = prompted_run("-K", "--limit", "@.relaunch/site/failed.limit")
    done = {path.name for path in markers.iterdir()}
    assert {name for name in ALL_HOSTS if marker(name) in done} == {"fail1", "fail2"}, output
    assert rc == 4, output  # down is unreachable again
    manifest = json.loads((project.path / ".relaunch/site/latest.json").read_text())
    assert manifest["passwords_needed_to_start"] == ["become_password"]
    assert "not-a-real-password" not in (project.path / ".relaunch/site/latest.json").read_text()
    # The printed relaunch command asks for the same password again.
    summary = output[output.index("RELAUNCH SUMMARY") :]
    assert "-K" in summary and re.search(r"--limit @\.relaunch/site/" + RUN_PENDING_FILE, summary)
    write_files(project.path, {"info.yml": INFO_PLAYBOOK})
    assert module_result(project)["passwords_needed_to_start"] == ["become_password"]


# --- provisioned hosts ----------------------------------------------------------------------------

PROVISION = """
- name: Provision
  hosts: "{{ provisioner | default('builder') }}"
  gather_facts: false
  tasks:
    - name: Create the machine
      ansible.builtin.add_host:
        name: vm-1
        groups: fresh
        ansible_connection: local
        should_fail: true
    - name: The work of the provisioner
      ansible.builtin.import_tasks: tasks.yml
- name: Configure
  hosts: fresh
  gather_facts: false
  tasks:
    - name: The work
      ansible.builtin.import_tasks: tasks.yml
"""

PROVISION_BY_LOOKUP = PROVISION.replace(
    "hosts: \"{{ provisioner | default('builder') }}\"",
    "hosts: \"{{ lookup('relaunch.status.limit', 'failed', manifest='.relaunch/site') }}\"",
)

PROVISION_INVENTORY = """
all:
  vars: {ansible_connection: local}
  hosts:
    builder: {}
    bystander: {should_fail: true}
"""


def provision_project(tmp_path: Path, with_role: bool) -> Workdir:
    project = Workdir(tmp_path, PROVISION_INVENTORY)
    text = PROVISION
    if with_role:
        text = text.replace(
            "  gather_facts: false\n  tasks:",
            "  gather_facts: false\n  roles:\n    - role: relaunch.status.select\n  tasks:",
        )
    write_files(tmp_path, {"site.yml": text})
    return project


@pytest.mark.parametrize("way", WAYS)
def test_provisioned_hosts_are_recreated_by_their_provisioner(tmp_path: Path, way: str) -> None:
    """A group holds existing hosts only: the groups way re-runs the provisioner and warns how to add the new host."""
    project = provision_project(tmp_path, with_role=way == "role")
    first = project.run("-e", "relaunch_hosts=failed")
    assert first.retry() == {"vm-1"} == first.with_status("failed")
    if way == "role":
        again = project.run("-e", "relaunch_hosts=failed")
    elif way == "lookup":
        write_files(tmp_path, {"retry.yml": PROVISION_BY_LOOKUP})
        again = project.run(playbook="retry.yml")
    else:
        again = project.relaunch(way)
    output = again.stdout + again.stderr
    if way == "groups":
        assert "--limit 'relaunch_failed,~^vm\\x2d1\\Z'" in flat(output), output
        assert "provisioned vm-1, which does not exist until add_host creates it again; add it to the limit" in flat(
            output
        ), output
        assert ran(again, {"builder", "bystander", "vm-1"}) == {"builder"}, output
        # As the warning says: the group and the re-created host.
        project = provision_project(tmp_path / "again", with_role=False)
        project.run()
        again = project.run(
            "--limit", "relaunch_failed,~^vm\\x2d1\\Z", inventory=(project.inventory, "groups.relaunch.yml")
        )
    # builder re-creates vm-1, which then does its work; the bystander never runs.
    assert ran(again, {"builder", "bystander", "vm-1"}) == {"builder", "vm-1"}, again.stdout + again.stderr


def test_hosts_provisioned_by_the_implicit_localhost(tmp_path: Path) -> None:
    project = provision_project(tmp_path, with_role=False)
    first = project.run("-e", "provisioner=localhost")
    assert first.with_status("failed") == {"vm-1"}
    # No limit can select the implicit localhost alone: no limit file is written, the summary
    # points to the role, and the lookup and the groups say why.
    assert not first.limit_file("failed").exists()
    assert "relaunch.status.select role" in " ".join(first.stdout.split())
    write_files(tmp_path, {"retry.yml": PROVISION_BY_LOOKUP})
    refused = project.run(playbook="retry.yml")
    assert_clean_error(refused, "implicit localhost", "relaunch.status.select")
    # The groups say so too, and make no group.
    groups = project.run("--limit", "relaunch_failed", inventory=(project.inventory, "groups.relaunch.yml"))
    assert_clean_error(groups, "implicit localhost")

    # The role selects inside the play, so it relaunches them.
    role_project = provision_project(tmp_path / "role", with_role=True)
    role_first = role_project.run("-e", "provisioner=localhost")
    assert role_first.with_status("failed") == {"vm-1"}
    again = role_project.run("-e", "provisioner=localhost", "-e", "relaunch_hosts=failed")
    assert ran(again, {"localhost", "builder", "bystander", "vm-1"}) == {"localhost", "vm-1"}, again.stdout


# --- tricky names ----------------------------------------------------------------------------------

TRICKY_FAILING = ["a,b", "sp ace", "br[1]", "!bang", "&amp", "~tilde", "@at", "ünï", "web", "c:d", "glob*", "q?"]
TRICKY_OK = ["webhost", "a", "b", "br", "br1", "bang", "amp", "tilde", "at", "sp", "ace", "c", "d", "globber", "qq"]

INVENTORY_SCRIPT = """#!{python}
import json, sys
failing = {failing!r}
ok = {ok!r}
# Host vars of a host named like a group land on the group in a script inventory: give "web" none.
hosts = {{name: ({{"relaunch_id": "id-" + name}} if name != "web" else {{}}) for name in failing + ok}}
inventory = {{
    "_meta": {{"hostvars": {{name: data for name, data in hosts.items() if data}}}},
    "all": {{"children": ["ungrouped", "web"], "vars": {{"ansible_connection": "local", "fail_names": failing}}}},
    "ungrouped": {{"hosts": [name for name in hosts if name != "webhost"]}},
    "web": {{"hosts": ["webhost"]}},
}}
print(json.dumps(inventory) if "--list" in sys.argv else "{{}}")
"""


@pytest.mark.parametrize("way", WAYS)
def test_tricky_names_are_selected_exactly(tmp_path: Path, way: str) -> None:
    project = Workdir(tmp_path, "", "inventory.py")
    script = tmp_path / "inventory.py"
    script.write_text(INVENTORY_SCRIPT.format(python=sys.executable, failing=TRICKY_FAILING, ok=TRICKY_OK))
    script.chmod(0o755)
    first = project.run()
    assert ran(first, TRICKY_FAILING + TRICKY_OK) == set(TRICKY_FAILING + TRICKY_OK), first.stdout + first.stderr
    assert first.with_status("failed") == set(TRICKY_FAILING) == first.retry()
    again = project.relaunch(way)
    assert ran(again, TRICKY_FAILING + TRICKY_OK) == set(TRICKY_FAILING), again.stdout + again.stderr


# --- refusals: 0 hosts, unknown status, bad manifests -------------------------------------------------


@pytest.mark.parametrize("way", WAYS)
def test_zero_hosts_is_refused_and_nothing_runs(project: Workdir, way: str) -> None:
    first = project.run("-e", "should_fail=false", "--limit", "ok1,ok2")
    assert first.rc == 0 and "0 failed hosts" in first.limit_file("failed").read_text()
    refused = project.relaunch(way)
    # The limit file selects no host and says why, the groups way fails in ansible-core (no group); the others name
    # the counts.
    fragments = {
        "limit_file": ("0 failed hosts in run", "no hosts to target"),
        "groups": ("relaunch_failed",),
        "lookup": ("status failed selects 0 hosts", "failed=0"),
    }
    fragments["role"] = fragments["lookup"]
    assert_clean_error(refused, *fragments[way])


@pytest.mark.parametrize("way", ["lookup", "role", "groups"])
def test_unknown_status_lists_the_valid_ones(failed_project: Workdir, way: str) -> None:
    project = failed_project
    if way == "groups":
        write_files(
            project.path,
            {
                "bad.relaunch.yml": (
                    "plugin: relaunch.status.groups\nmanifest: .relaunch/site\nstatuses: [failed, broken]\n"
                )
            },
        )
        refused = project.run("--limit", "relaunch_failed", inventory=(project.inventory, "bad.relaunch.yml"))
    else:
        refused = project.relaunch(way, "broken")
    assert_clean_error(refused, "unknown status 'broken'", "not_run")


BAD_MANIFESTS = {
    "truncated": '{"schema_version": 1, "run_id": "x", "hosts": [',
    "not_json": "this is not json\n",
    "foreign": '{"name": "something else"}',
    "newer": '{"schema_version": 99}',
    "empty": "",
}


@pytest.mark.parametrize(
    ("way", "kind"),
    [("lookup", kind) for kind in sorted(BAD_MANIFESTS)]
    + [("role", "truncated"), ("groups", "foreign"), ("role", "newer")],
)
def test_bad_manifest_is_one_line_and_nothing_runs(project: Workdir, way: str, kind: str) -> None:
    write_files(project.path, {".relaunch/site/latest.json": BAD_MANIFESTS[kind]})
    refused = project.relaunch(way)
    expected = "newer than this collection" if kind == "newer" else "latest.json"
    assert_clean_error(refused, expected)


def test_missing_manifest_is_an_error_for_the_lookup(project: Workdir) -> None:
    refused = project.relaunch("lookup")
    assert_clean_error(refused, "does not exist")


# --- several manifests --------------------------------------------------------------------------------


@pytest.mark.newest_only
def test_several_manifests_merge(project: Workdir) -> None:
    # Two controllers, each with its own manifest directory and slice of the hosts.
    east = project.run("--limit", "ok1,fail1", env={"RELAUNCH_MANIFEST_DIR": str(project.path / "east")})
    west = project.run("--limit", "fail2,down", env={"RELAUNCH_MANIFEST_DIR": str(project.path / "west")})
    assert east.rc == 2 and west.rc == 4
    write_files(project.path, {"info.yml": INFO_PLAYBOOK})
    info = module_result(project, manifest=["east/site", "west/site"])
    assert info["hosts"] == ["down", "fail1", "fail2"]
    assert info["retry_counts"]["all"] == 4 and info["retry_counts"]["failed"] == 3
    assert len(info["manifests"]) == 2
    again = project.run("-e", json.dumps({"statuses": "failed", "manifest": ["east", "west"]}), playbook="retry.yml")
    assert ran(again, ALL_HOSTS) == {"fail1", "fail2"}, again.stdout + again.stderr
    assert unreachable(again) == {"down"}


# --- one failure group ---------------------------------------------------------------------------------------

# Two failures: the fail task on fail1, foobar and "sp ace,x"; down is unreachable at the marker task.
FAILURES_BEFORE = f"""
all:
  vars:
    ansible_connection: local
  hosts:
    ok1: {{relaunch_id: id-ok1}}
    fail1: {{relaunch_id: id-fail1, should_fail: true}}
    foobar: {{relaunch_id: machine-1, should_fail: true}}
    "sp ace,x": {{relaunch_id: id-comma, should_fail: true}}
    down: {{relaunch_id: id-down, {UNREACHABLE}}}
"""
FAILURES_AFTER = FAILURES_BEFORE.replace("foobar:", "foo:")  # the same machine, renamed
FAILURE_HOSTS = {"ok1", "fail1", "foobar", "foo", "sp ace,x", "down"}

GROUP_PLAYBOOKS = {
    "group.yml": play(
        "Relaunch one failure group",
        "\"{{ lookup('relaunch.status.limit', group=group, manifest=manifest) }}\"",
        THE_WORK,
    ),
    "role.yml": ROLE_SITE,
    "group_info.yml": """
        - name: Report
          hosts: localhost
          gather_facts: false
          tasks:
            - name: Read the manifest
              relaunch.status.relaunch_info:
                manifest: .relaunch/site
                group: "{{ group }}"
              register: info
            - name: Save the result
              ansible.builtin.copy:
                content: "{{ info | to_json }}"
                dest: "{{ marker_dir }}/../info.json"
                mode: "0600"
        """,
}


def failure_group(run: Run, task: str) -> str:
    """The id of the rollout's failure group at ``task``."""
    (found,) = [group["id"] for group in run.manifest()["failure_groups"] if group["task"] == task]
    return found


def test_one_failure_group_is_relaunched_exactly_by_every_way(tmp_path: Path) -> None:
    project = Workdir(tmp_path, FAILURES_BEFORE)
    write_files(tmp_path, GROUP_PLAYBOOKS)
    first = project.run()
    assert first.with_status("failed") == {"fail1", "foobar", "sp ace,x", "down"}, first.stdout
    failing = failure_group(first, "Fail where the inventory says so")
    gone = failure_group(first, "Leave a marker for this host")
    # The summary gives each group's id and the command through its limit file.
    summary = first.stdout[first.stdout.index("RELAUNCH SUMMARY") :]
    assert f"group {failing}: " in summary and f"--limit @.relaunch/site/failure-{failing}.limit" in summary, summary
    assert f"group {gone}: " in summary
    limit_file = first.run_dir / f"failure-{failing}.limit"
    assert set(limit_file.read_text().splitlines()) == {"fail1", "foobar", "~^sp\\x20ace\\x2cx\\Z"}

    # The limit file, before anything changed: exactly the group, not the unreachable host.
    again = project.run("--limit", f"@.relaunch/site/failure-{failing}.limit", "--list-hosts")
    listed = {line.strip() for line in again.stdout.splitlines()}
    assert again.rc == 0 and listed & FAILURE_HOSTS == {"fail1", "foobar", "sp ace,x"}, again.stdout + again.stderr

    # foobar is renamed foo: the lookup, relaunch_info and the inventory group follow it; nothing else runs.
    write_files(tmp_path, {"inventory.yml": FAILURES_AFTER})
    # The limit file holds the old name: checked against latest.json, it says so and runs the others only.
    by_file = project.run("--limit", f"@.relaunch/site/failure-{failing}.limit")
    output = flat(by_file.stdout + by_file.stderr)
    assert ran(by_file, FAILURE_HOSTS) == {"fail1", "sp ace,x"}, output
    assert "foobar is now foo (renamed since the run, same identity)" in output, output
    group_vars = ("-e", f"group={failing}", "-e", "manifest=.relaunch/site")
    by_lookup = project.run(*group_vars, playbook="group.yml")
    assert ran(by_lookup, FAILURE_HOSTS) == {"fail1", "foo", "sp ace,x"}, by_lookup.stdout + by_lookup.stderr
    assert not unreachable(by_lookup)

    write_files(tmp_path, {"groups.relaunch.yml": "plugin: relaunch.status.groups\nmanifest: .relaunch/site\n"})
    by_group = project.run("--limit", f"relaunch_failure_{gone}", inventory=(project.inventory, "groups.relaunch.yml"))
    assert ran(by_group, FAILURE_HOSTS) == set() and unreachable(by_group) == {"down"}, by_group.stdout

    by_role = project.run(
        "-e", f"relaunch_group={failing}", "-e", "relaunch_manifest=.relaunch/site", playbook="role.yml"
    )
    assert ran(by_role, FAILURE_HOSTS) == {"fail1", "foo", "sp ace,x"}, by_role.stdout + by_role.stderr
    assert f"3 hosts of failure group {failing} run" in by_role.stdout, by_role.stdout

    info_run = project.run("-e", f"group={failing}", playbook="group_info.yml")
    assert info_run.rc == 0, info_run.stdout + info_run.stderr
    info = json.loads((info_run.markers.parent / "info.json").read_text())
    assert info["group"] == failing and info["statuses"] == []
    assert info["hosts"] == ["fail1", "foo", "sp ace,x"] and info["renamed"] == {"foobar": "foo"}

    # The lookup relaunch fixed nothing (the hosts still fail): the group and its file are still there, the same.
    assert failure_group(by_lookup, "Fail where the inventory says so") == failing
    fixed = project.run(
        "-e",
        "should_fail=false",
        "--limit",
        f"relaunch_failure_{failing}",
        inventory=(project.inventory, "groups.relaunch.yml"),
    )
    assert ran(fixed, FAILURE_HOSTS) == {"fail1", "foo", "sp ace,x"}, fixed.stdout + fixed.stderr
    # Fixed: the group is gone, and so is its file; the unreachable host's group stays.
    assert not limit_file.exists() and (first.run_dir / f"failure-{gone}.limit").exists()
    assert [group["id"] for group in fixed.manifest()["failure_groups"]] == [gone]


@pytest.mark.parametrize("way", ["lookup", "relaunch_info", "role", "groups"])
def test_an_unknown_failure_group_is_one_error_line_and_nothing_runs(failed_project: Workdir, way: str) -> None:
    project = failed_project
    write_files(project.path, GROUP_PLAYBOOKS)
    if way == "role":
        refused = project.run(
            "-e", "relaunch_group=0badc0de", "-e", "relaunch_manifest=.relaunch/site", playbook="role.yml"
        )
    elif way == "lookup":
        refused = project.run("-e", "group=0badc0de", "-e", "manifest=.relaunch/site", playbook="group.yml")
    elif way == "relaunch_info":
        refused = project.run("-e", "group=0badc0de", playbook="group_info.yml")
    else:  # no such group: ansible-core refuses the limit
        refused = project.run(
            "--limit", "relaunch_failure_0badc0de", inventory=(project.inventory, "groups.relaunch.yml")
        )
        assert_clean_error(refused, "relaunch_failure_0badc0de")
        return
    assert_clean_error(refused, "failure group 0badc0de is not in", "its failure groups are", "ansible-relaunch report")


def test_the_role_refuses_a_failure_group_with_statuses(failed_project: Workdir) -> None:
    write_files(failed_project.path, GROUP_PLAYBOOKS)
    refused = failed_project.run("-e", "relaunch_group=0badc0de", "-e", "relaunch_hosts=failed", playbook="role.yml")
    assert_clean_error(refused, "relaunch_group is given with relaunch_hosts")
