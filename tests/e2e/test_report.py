# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``ansible-relaunch report`` end to end: four real ansible-playbook runs on a local inventory, then the report.

ok1 always succeeds; flaky fails every other run (it toggles ``flip``); chronic always fails; gone is always
unreachable. The command runs as the tests run it from this checkout (``python -m ..._cli report``).
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from xml.etree import ElementTree

from tests.conftest import COLLECTIONS
from tests.fixtures import UNREACHABLE_VARS
from tests.runner import ANSIBLE_BIN, ansible_env, ansible_playbook, write_files

CLI = "ansible_collections.relaunch.status.plugins.plugin_utils._cli"
HOSTS = ["chronic", "flaky", "gone", "ok1"]
SITE = """
- name: Site
  hosts: all
  gather_facts: false
  tasks:
    - name: Work
      ansible.builtin.raw: "{{ work | default('true') }}"
      changed_when: false
"""
INVENTORY = f"""
all:
  vars:
    ansible_connection: local
  hosts:
    ok1: {{}}
    flaky: {{work: "if test -e flip; then rm flip; else touch flip; exit 1; fi"}}
    chronic: {{work: "echo disk full >&2; exit 3"}}
    gone: {{{UNREACHABLE_VARS}}}
"""
RUNS = 4


def four_runs(workdir: Path) -> list[str]:
    """Run site.yml four times; returns the run ids, oldest first."""
    write_files(workdir, {"site.yml": SITE, "inventory.yml": INVENTORY})
    for _number in range(RUNS):
        done = ansible_playbook(workdir, "-i", "inventory.yml")
        assert done.rc == 4, done.stdout + done.stderr
    run_dir = workdir / ".relaunch" / "site"
    return sorted(path.stem for path in run_dir.glob("*.json") if path.name != "latest.json")


def report(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    env = ansible_env(workdir, {"PYTHONPATH": str(COLLECTIONS)})
    return subprocess.run(
        [str(ANSIBLE_BIN / "python"), "-m", CLI, "report", *args],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def test_report_writes_text_html_junit_and_markdown(tmp_path):
    run_ids = four_runs(tmp_path)
    assert len(run_ids) == RUNS
    done = report(tmp_path, "site.yml", "--html", "report.html", "--junit", "report.xml")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    text = done.stdout
    assert text.startswith(f"RELAUNCH REPORT: {tmp_path / 'site.yml'} (4 kept runs)")
    assert "done=2  pending=2" in text  # flaky passed in the newest run
    assert "--limit @.relaunch/site/" in text
    flaky = re.search(r"  flaky: 1\n    flaky\n    relaunch: (.*)\n", text)
    chronic = re.search(r"  chronic: 2\n    chronic, gone\n    relaunch: (.*)\n", text)
    assert flaky and chronic, text
    assert flaky.group(1) == "ansible-playbook -i inventory.yml -i relaunch.yml site.yml --limit relaunch_flaky"
    assert "1 host unreachable at TASK [Work]" in text and "1 host failed at TASK [Work]" in text

    page = (tmp_path / "report.html").read_text()
    data = json.loads(re.search(r'<script id="report-data" type="application/json">(.*?)</script>', page, re.S)[1])
    assert [run[0] for run in data["runs"]] == run_ids
    assert {host[0]: host[1] for host in data["hosts"]} == {
        "chronic": "ffff",
        "flaky": "fofo",
        "gone": "uuuu",
        "ok1": "oooo",
    }

    suite = ElementTree.parse(tmp_path / "report.xml").getroot().find("testsuite")
    cases = {case.get("name"): case for case in suite.findall("testcase")}
    assert sorted(cases) == ["chronic", "flaky", "gone", "ok1"]  # flaky passed in the newest run
    assert suite.get("name") == str(tmp_path / "site.yml") and suite.get("failures") == "2"
    assert cases["gone"].find("failure").get("type") == "unreachable" and cases["gone"].find("failure").get("message")
    assert cases["chronic"].find("failure") is not None and cases["ok1"].find("failure") is None

    markdown = report(tmp_path, "--markdown", ".relaunch/site")
    assert markdown.returncode == 0, markdown.stderr
    assert markdown.stdout.startswith("## Relaunch report:") and "**Chronic**: chronic, gone" in markdown.stdout
    assert "| 2 | 2 | 1 | 4 | 1 | 2 |" in markdown.stdout


def test_the_command_it_prints_relaunches_the_chronic_hosts(tmp_path):
    four_runs(tmp_path)
    text = report(tmp_path).stdout  # no argument: the .relaunch of the current directory
    command = re.search(r"  chronic: 2\n.*\n    relaunch: (.*)\n", text)[1]
    (tmp_path / "relaunch.yml").write_text("plugin: relaunch.status.groups\nmanifest: .relaunch/site\n")
    listed = subprocess.run(
        [str(ANSIBLE_BIN / word) if word == "ansible-playbook" else word for word in command.split()]
        + ["--list-hosts"],
        cwd=tmp_path,
        env=ansible_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert sorted(re.findall(r"^\s{6}(\S+)$", listed.stdout, re.M)) == ["chronic", "gone"]


def test_a_user_error_is_one_line(tmp_path):
    write_files(tmp_path, {"site.yml": SITE})
    for args in (["site.yml"], ["missing.yml"], ["nowhere/"], ["site.yml", "--html", str(tmp_path / "no" / "x")]):
        done = report(tmp_path, *args)
        assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1 and done.stderr.startswith("ansible-relaunch: error:")
