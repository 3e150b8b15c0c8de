# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rollouts end to end: the workflows users chain, where no host may be lost on the way.

Each test is one workflow of the issue "Never lose a host across the workflows users run", run as a user runs it:
real ansible-playbook on local hosts, the commands the summaries print pasted as printed. Every run of a host
appends a line to ``$MARKER_DIR/<host>``, so which hosts did the work (and how often) is read from the disk.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import signal
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.fixtures import (
    DEPLOY_APP,
    DEPLOY_APP_WAITING,
    PENDING_GROUPS,
    REGISTER_WITH_API,
    app_inventory,
    local_inventory,
    play,
)
from tests.reliability.conftest import Live, wait_for
from tests.runner import ANSIBLE_BIN, Run, ansible_env, write_files

ROOT = Path(__file__).resolve().parents[2]


class Project:
    """A project directory whose runs each count, in a marker directory of their own, the hosts that deployed."""

    def __init__(self, path: Path, files: dict[str, str]) -> None:
        self.path = path
        self.runs = 0
        write_files(path, files)

    def markers(self) -> Path:
        self.runs += 1
        markers = self.path / "markers" / str(self.runs)
        markers.mkdir(parents=True)
        return markers

    def run(
        self,
        *args: str,
        playbook: str = "site.yml",
        inventory: tuple[str, ...] = ("inventory.yml",),
        broken: tuple[str, ...] = (),
        env: dict | None = None,
    ) -> Run:
        """``ansible-playbook -i <inventory> <args> <playbook>``, the hosts in ``broken`` failing."""
        sources = [word for source in inventory for word in ("-i", source)]
        return self.command([*sources, *args, playbook], playbook, broken, env)

    def paste(self, printed: list[str], broken: tuple[str, ...] = (), env: dict | None = None) -> Run:
        """Run a command as a summary printed it."""
        assert printed[0] == "ansible-playbook", printed
        playbook = next(word for word in printed if word.endswith(".yml") and not word.endswith("inventory.yml"))
        return self.command(printed[1:], playbook, broken, env)

    def command(self, words: list[str], playbook: str, broken: tuple[str, ...], env: dict | None) -> Run:
        markers = self.markers()
        extra = {"MARKER_DIR": str(markers), "BROKEN": ",".join(broken), **(env or {})}
        completed = subprocess.run(
            [str(ANSIBLE_BIN / "ansible-playbook"), *words],
            cwd=self.path,
            env=ansible_env(self.path, extra),
            capture_output=True,
            text=True,
            timeout=300,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        run = Run(self.path, playbook, completed)
        run.markers = markers
        return run


def ran(run: Run) -> set[str]:
    """The hosts that deployed in ``run``."""
    return deployed(run.markers)


def deployed(markers: Path) -> set[str]:
    return {path.name for path in markers.iterdir() if not path.name.endswith(".waiting")}


def output(run: Run) -> str:
    return run.stdout + run.stderr


def summary(stdout: str) -> str:
    assert "RELAUNCH SUMMARY" in stdout, stdout
    return stdout[stdout.index("RELAUNCH SUMMARY") :]


def header(stdout: str) -> str:
    return summary(stdout).splitlines()[0]


def printed_command(stdout: str) -> list[str]:
    """The one relaunch command of a run's summary, as words (its trailing comment left out)."""
    commands = [line.strip() for line in summary(stdout).splitlines() if line.strip().startswith("ansible-playbook ")]
    assert len(commands) == 1, stdout
    return shlex.split(commands[0], comments=True)


def limit_names(path: Path) -> set[str]:
    """The host names a limit file holds (plain names: the hosts of these tests need no pattern)."""
    return {line for line in path.read_text().splitlines() if line and not line.startswith(("#", "~"))}


def with_status(manifest: dict, status: str) -> set[str]:
    return {host["name"] for host in manifest["hosts"] if status in host["statuses"]}


def flat(text: str) -> str:
    """Output with line wrapping undone (ansible-core before 2.19 wraps warnings at the terminal width)."""
    return " ".join(text.split())


# --- 1. the hosts outside a relaunch stay to do -------------------------------------------------------------

APPS = ("app01", "app02", "app03", "app04", "app05", "app06", "app07")


# With facts too: ansible-core gathers them on every host of the play before the role can end any.
@pytest.mark.parametrize("gather_facts", [False, True], ids=["no-facts", "facts"])
def test_hosts_a_relaunch_left_out_stay_pending_until_deployed(tmp_path: Path, gather_facts: bool) -> None:
    project = Project(
        tmp_path,
        {
            "inventory.yml": app_inventory(*APPS),
            "site.yml": play("Deploy", "all", DEPLOY_APP, serial=2, select_role=True, gather_facts=gather_facts),
        },
    )
    first = project.run(broken=("app01", "app02"))
    assert first.rc == 2, output(first)
    # The whole first batch failed: ansible-core stops the play, the 5 others never ran.
    assert first.with_status("failed") == {"app01", "app02"} == first.retry()
    assert first.with_status("not_run") == set(APPS[2:])
    assert ran(first) == {"app01", "app02"}

    # Fixed; relaunched on the failed hosts, as a loop "until nothing failed" does.
    fixed = project.run("-e", "relaunch_hosts=failed", "-e", "relaunch_allow_empty=true")
    assert fixed.rc == 0, output(fixed)
    assert ran(fixed) == {"app01", "app02"}
    # The 5 hosts the role left out were not deployed: they are still to do, and nothing is failed any more.
    assert fixed.with_status("pending") == set(APPS[2:]), fixed.manifest()
    assert fixed.with_status("not_run") == set(APPS[2:])
    assert not fixed.with_status("failed")
    assert limit_names(fixed.limit_file("pending")) == set(APPS[2:])

    # The relaunch's summary says what is left and its command deploys exactly that.
    rest = project.paste(printed_command(fixed.stdout))
    assert rest.rc == 0, output(rest)
    assert ran(rest) == set(APPS[2:])
    assert deployed(first.markers) | ran(fixed) | ran(rest) == set(APPS)
    assert not rest.with_status("pending")

    # Nothing is left: a relaunch on pending runs no host.
    done = project.run("-e", "relaunch_hosts=pending", "-e", "relaunch_allow_empty=true")
    assert done.rc == 0, output(done)
    assert ran(done) == set()


# --- 2. a --check run is a dry run -------------------------------------------------------------------------


def test_a_check_run_keeps_the_rollout_and_its_failure(tmp_path: Path) -> None:
    project = Project(
        tmp_path,
        {"inventory.yml": app_inventory("app04", "app05", "app06"), "site.yml": play("Deploy", "all", DEPLOY_APP)},
    )
    first = project.run(broken=("app05",))
    assert first.rc == 2, output(first)
    assert first.with_status("failed") == {"app05"}
    kept = {name: (first.run_dir / name).read_bytes() for name in ("latest.json", "failed.limit")}

    # The failing command does not run in check mode: the dry run succeeds on every host.
    dry = project.run("--check")
    assert dry.rc == 0, output(dry)
    assert ran(dry) == set()
    assert {name: (first.run_dir / name).read_bytes() for name in kept} == kept
    dry_manifest = dry.run_manifest()
    assert dry_manifest["check_mode"] is True
    assert dry_manifest.get("rollout", "missing") is None
    # Its summary says it was a dry run, names its own manifest and offers no relaunch.
    assert "dry run" in header(dry.stdout), dry.stdout
    assert f"{dry_manifest['run_id']}.json" in header(dry.stdout)
    assert "ansible-playbook" not in summary(dry.stdout)

    again = project.run("--limit", "@.relaunch/site/failed.limit")
    assert again.rc == 0, output(again)
    assert ran(again) == {"app05"}


# --- 3. a rename and a limit file ---------------------------------------------------------------------------


def test_a_renamed_host_stays_pending_after_a_relaunch_from_a_limit_file(tmp_path: Path) -> None:
    project = Project(
        tmp_path,
        {
            "inventory.yml": app_inventory("app01", "app02", "app03"),
            "site.yml": play("Deploy", "all", DEPLOY_APP),
            "pending.relaunch.yml": PENDING_GROUPS,
        },
    )
    first = project.run(broken=("app02", "app03"))
    assert first.with_status("failed") == {"app02", "app03"}, output(first)
    # The same machine (relaunch_id id-app02) under a new name.
    renamed = local_inventory(
        "app01: {relaunch_id: id-app01}", "app02-new: {relaunch_id: id-app02}", "app03: {relaunch_id: id-app03}"
    )
    write_files(tmp_path, {"inventory.yml": renamed})

    again = project.run("--limit", "@.relaunch/site/failed.limit", broken=("app02-new",))
    text = output(again)
    assert "Traceback" not in text, text
    assert ran(again) == {"app03"}, text
    # A warning names the rename, old name and new.
    assert re.search(r"\bapp02\b(?!-).{0,300}\bapp02-new\b|\bapp02-new\b.{0,300}\bapp02\b(?!-)", flat(text)), text
    # app02-new never ran: its failure is still to do, under its identity.
    pending = {host["identity"] for host in again.manifest()["hosts"] if "pending" in host["statuses"]}
    assert pending == {"id-app02"}, again.manifest()

    # The groups, which follow renames, select it under its new name.
    last = project.run("--limit", "relaunch_pending", inventory=("inventory.yml", "pending.relaunch.yml"))
    assert last.rc == 0, output(last)
    assert ran(last) == {"app02-new"}
    assert not last.with_status("pending")


# --- 4. the select role selects nothing unless asked --------------------------------------------------------


def test_the_select_role_leaves_a_plain_run_on_every_host(tmp_path: Path) -> None:
    hosts = ("app01", "app02", "app03")
    project = Project(
        tmp_path,
        {"inventory.yml": app_inventory(*hosts), "site.yml": play("Deploy", "all", DEPLOY_APP, select_role=True)},
    )
    clean = project.run()
    assert clean.rc == 0 and ran(clean) == set(hosts), output(clean)
    # After a clean run, a plain run deploys again on every host.
    plain = project.run()
    assert plain.rc == 0, output(plain)
    assert ran(plain) == set(hosts)

    failed = project.run(broken=("app02",))
    assert failed.rc == 2 and failed.with_status("failed") == {"app02"}, output(failed)
    # After a failed run too: a plain run is not a relaunch.
    plain = project.run()
    assert plain.rc == 0, output(plain)
    assert ran(plain) == set(hosts)

    # Asked for, it selects as before; "none" and "" turn it off.
    project.run(broken=("app02",))
    selected = project.run("-e", "relaunch_hosts=failed")
    assert selected.rc == 0 and ran(selected) == {"app02"}, output(selected)
    for off in ("relaunch_hosts=none", "relaunch_hosts="):
        project.run(broken=("app02",))
        every = project.run("-e", off)
        assert every.rc == 0, output(every)
        assert ran(every) == set(hosts), off

    specs = yaml.safe_load((ROOT / "roles/select/meta/argument_specs.yml").read_text())
    option = specs["argument_specs"]["main"]["options"]["relaunch_hosts"]
    assert option.get("default") in (None, "", "none"), option
    assert "none" in " ".join(option["description"]), option


# --- 5. overlapping runs: an interrupted run prints its own files and hosts ---------------------------------


def test_an_interrupted_run_prints_only_its_own_files_and_hosts(tmp_path: Path) -> None:
    project = Project(
        tmp_path,
        {
            "inventory.yml": app_inventory("a1", "a2", "b1", "b2"),
            "site.yml": play("Deploy", "all", DEPLOY_APP_WAITING),
        },
    )
    markers_a, markers_b = project.markers(), project.markers()

    def start(name: str, markers: Path, hosts: tuple[str, str]) -> Live:
        failing, waiting = hosts
        env = {"MARKER_DIR": str(markers), "BROKEN": failing, "WAIT_HOSTS": waiting, "GATE": str(tmp_path / name)}
        live = Live(tmp_path, "-i", "inventory.yml", "--limit", ",".join(hosts), env=env, name=name)
        wait_for((markers / f"{waiting}.waiting").exists, live=live)
        wait_for(lambda: journalled_failure(failing), live=live)  # its failed host's result is recorded
        return live

    def journalled_failure(host: str) -> bool:
        for journal in (tmp_path / ".relaunch" / "site").glob("*.journal"):
            for line in journal.read_text(errors="replace").splitlines():
                event = json.loads(line) if line.endswith("}") else {}
                if event.get("e") == "result" and event.get("host") == host and event.get("outcome") == "failed":
                    return True
        return False

    # Two runs of the playbook on other hosts, each with a failed host and one still at work.
    run_b = start("b", markers_b, ("b1", "b2"))
    run_a = start("a", markers_a, ("a1", "a2"))
    # Ctrl-C in A's terminal; B goes on and finishes after A.
    assert run_a.signal(signal.SIGINT, group=True)
    run_a.wait()
    (tmp_path / "b").touch()
    assert run_b.wait() == 2, run_b.stdout + run_b.stderr
    assert "Traceback" not in run_a.stderr, run_a.stderr

    run_dir = tmp_path / ".relaunch" / "site"
    run_ids = {
        json.loads(path.read_text())["invocation"]["limit_given"]: path.stem
        for path in run_dir.glob("*.json")
        if path.name != "latest.json"
    }
    a_id = run_ids["a1,a2"]
    assert f"{a_id}.json" in header(run_a.stdout), run_a.stdout
    printed = printed_command(run_a.stdout)
    limit = printed[printed.index("--limit") + 1]
    files = [Path(part.removeprefix("@")) for part in limit.split(",")]
    assert files and all(path.name.startswith(a_id + ".") for path in files), limit

    again = project.paste(printed)
    assert again.rc == 0, output(again)
    assert "a1" in ran(again) and ran(again) <= {"a1", "a2"}, output(again)


# --- 6. two playbooks of one name in a shared manifest directory --------------------------------------------


def test_two_playbooks_of_one_name_each_relaunch_their_own_hosts(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    project = Project(
        repo,
        {
            "inventory.yml": app_inventory("root1", "root2", "team1", "team2"),
            "site.yml": play("Root", "root1,root2", DEPLOY_APP, select_role=True),
            "teamb/site.yml": play("Team B", "team1,team2", DEPLOY_APP),
        },
    )
    env = {"RELAUNCH_MANIFEST_DIR": str(repo / "relaunch")}
    teamb = project.run(playbook="teamb/site.yml", broken=("team2",), env=env)
    assert teamb.rc == 2 and ran(teamb) == {"team1", "team2"}, output(teamb)
    root = project.run(broken=("root2",), env=env)
    assert root.rc == 2 and ran(root) == {"root1", "root2"}, output(root)

    # Team B relaunches with failed.limit, beside the manifest its summary named.
    teamb_dir = Path(header(teamb.stdout).split("RELAUNCH SUMMARY: ", 1)[1].split()[0]).parent
    again = project.run("--limit", f"@{teamb_dir}/failed.limit", playbook="teamb/site.yml", env=env)
    assert again.rc == 0, output(again)
    assert ran(again) == {"team2"}

    # Team B deploys again; the role of the root playbook still relaunches the root playbook's failed host.
    assert project.run(playbook="teamb/site.yml", env=env).rc == 0
    relaunch = project.run("-e", "relaunch_hosts=failed", env=env)
    assert relaunch.rc == 0, output(relaunch)
    assert ran(relaunch) == {"root2"}


# --- 7. a vaulted value in a task name ----------------------------------------------------------------------

API_URL = "https://registry.internal-vault-test.example/v1?token=s3cr3t-T0ken-42"
SECRET_PARTS = ("s3cr3t-T0ken-42", "registry.internal-vault-test", "token=")


def test_a_vaulted_value_in_a_task_name_stays_out_of_the_manifest(tmp_path: Path) -> None:
    project = Project(tmp_path, {"inventory.yml": app_inventory("app01", "app02"), "vault-pass": "vault-test-pw\n"})
    vault = [str(ANSIBLE_BIN / "ansible-vault"), "encrypt_string", "--vault-password-file", "vault-pass"]
    encrypted = subprocess.run(
        [*vault, "--name", "api_url", API_URL],
        cwd=tmp_path,
        env=ansible_env(tmp_path),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    site = play("Register", "all", REGISTER_WITH_API).replace("  tasks:\n", "  vars_files: [api.yml]\n  tasks:\n", 1)
    (tmp_path / "api.yml").write_text(encrypted)
    (tmp_path / "site.yml").write_text(site)

    run = project.run("--vault-password-file", "vault-pass", broken=("app01",))
    assert run.rc == 2, output(run)
    assert run.with_status("failed") == {"app01"}
    failure = next(host["first_failure"] for host in run.manifest()["hosts"] if host["name"] == "app01")
    assert failure["task"].startswith("Register with"), failure
    written = {path.name: path.read_text() for path in run.run_dir.iterdir() if path.is_file()}
    for part in SECRET_PARTS:
        leaked = [name for name, text in written.items() if part in text]
        assert not leaked, (part, leaked)
        assert part not in summary(run.stdout), run.stdout


# --- the CI recipe of docs/relaunch.md ---------------------------------------------------------------------


def recipe_blocks() -> dict[str, str]:
    """The code blocks of docs/relaunch.md's "Retry until done, in CI", by language."""
    text = (ROOT / "docs" / "relaunch.md").read_text()
    section = text.split("\n## Retry until done, in CI\n", 1)[1].split("\n## ", 1)[0]
    return {match[1]: match[2] for match in re.finditer(r"```(\w+)\n(.*?)```", section, re.DOTALL)}


def test_the_ci_recipe_retries_until_nothing_is_pending(tmp_path: Path) -> None:
    blocks = recipe_blocks()
    groups_file = blocks["yaml"].splitlines()[0].lstrip("# ").strip()
    cache = tmp_path / "cache"
    checkout = tmp_path / "checkout"
    counts = []
    # Pipelines that start from a fresh checkout at the same path, sharing only the cached manifest directory;
    # the flaky host fails in the first pipeline and recovers in the second.
    for number, broken in ((1, "flaky"), (2, ""), (3, "")):
        shutil.rmtree(checkout, ignore_errors=True)
        write_files(
            checkout,
            {
                "inventory.yml": app_inventory("web01", "web02", "flaky"),
                "site.yml": play("Deploy", "all", DEPLOY_APP),
                groups_file: blocks["yaml"],
                "ci.sh": blocks["sh"],
            },
        )
        markers = checkout / "markers"
        markers.mkdir()
        env = {"RELAUNCH_MANIFEST_DIR": str(cache), "MARKER_DIR": str(markers), "BROKEN": broken}
        pipeline = subprocess.run(
            ["sh", "ci.sh"],
            cwd=checkout,
            env=ansible_env(checkout, env),
            capture_output=True,
            text=True,
            timeout=600,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        text = pipeline.stdout + pipeline.stderr
        assert "Traceback" not in text, text
        assert (pipeline.returncode == 0) == (number > 1), (number, text)
        counts.append({path.name: len(path.read_text().split()) for path in markers.iterdir()})
    # Pipeline 1: every host, then 2 more attempts on the flaky one; pipeline 2: the flaky host only, once;
    # pipeline 3: nothing is left to do.
    assert counts == [{"web01": 1, "web02": 1, "flaky": 3}, {"flaky": 1}, {}]
