# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The inventories, plays and tasks that several test modules write into their projects.

Plain text for tests.runner.write_files: no Ansible import, so that every supported ansible-core's
environment can import it (tests/ecosystem/versions.py).
"""

from __future__ import annotations

import textwrap

# Nothing listens on port 1 of the controller: ssh is refused at once and the host is unreachable.
UNREACHABLE_VARS = "ansible_connection: ssh, ansible_host: 127.0.0.1, ansible_port: 1"


def local_inventory(*hosts: str) -> str:
    """A YAML inventory of ``hosts`` (each ``name: {vars}``), run on the controller unless their vars say otherwise."""
    return "all:\n  vars:\n    ansible_connection: local\n  hosts:\n" + "".join(f"    {host}\n" for host in hosts)


def play(
    name: str,
    hosts: str,
    *tasks: str,
    serial: int | None = None,
    select_role: bool = False,
    gather_facts: bool = False,
) -> str:
    """One play, without facts unless ``gather_facts``: ``tasks`` are task lists at the left margin;
    ``select_role`` starts it with relaunch.status.select."""
    text = f"- name: {name}\n  hosts: {hosts}\n  gather_facts: {str(gather_facts).lower()}\n"
    if serial is not None:
        text += f"  serial: {serial}\n"
    if select_role:
        text += "  roles:\n    - role: relaunch.status.select\n"
    return text + "  tasks:\n" + textwrap.indent("".join(tasks), "    ")


# --- the Deploy project: web01 deploys, web02 is broken and fails, cache01 is unreachable ------------------

WEB01 = "web01: {relaunch_id: id-web01}"
WEB02_BROKEN = "web02: {relaunch_id: id-web02, broken: true}"
CACHE01_UNREACHABLE = f"cache01: {{{UNREACHABLE_VARS}}}"
DEPLOY_INVENTORY = local_inventory(WEB01, WEB02_BROKEN, CACHE01_UNREACHABLE)

# raw connects like any module, without starting a Python on the host (a module costs about 0.3 s a host).
REACH_EVERY_HOST = """\
- name: Reach every host
  ansible.builtin.raw: "true"
  changed_when: false
"""

FAIL_WHERE_BROKEN = """\
- name: Fail where the host is broken
  ansible.builtin.fail:
    msg: web server is broken
  when: broken | default(false)
"""

DEPLOY_SITE = play("Deploy", "all", REACH_EVERY_HOST, FAIL_WHERE_BROKEN)


# --- the relaunch projects of tests/e2e: the work is in tasks.yml ------------------------------------------

THE_WORK = """\
- name: The work
  ansible.builtin.import_tasks: tasks.yml
"""

# The role site: every host, the role ends those outside the statuses asked for (relaunch_hosts).
ROLE_SITE = play("Site", "all", THE_WORK, select_role=True)


# --- the reliability projects: three quick tasks, h2 fails the second --------------------------------------


def one_breaks_two(command: str) -> str:
    """Tasks one (runs the shell ``command`` with raw: no Python started per host), breaks (fails on h2) and two."""
    return f"""\
- name: one
  ansible.builtin.raw: {command}
- name: breaks
  ansible.builtin.fail:
    msg: broken on purpose
  when: inventory_hostname == 'h2'
- name: two
  ansible.builtin.debug:
    msg: two
"""


# --- the rollout projects of tests/e2e/test_rollout.py: app hosts, one raw task that deploys --------------


def app_inventory(*names: str) -> str:
    """A local inventory of ``names``, each with its own relaunch_id (``id-<name>``), which a rename keeps."""
    return local_inventory(*(f"{name}: {{relaunch_id: id-{name}}}" for name in names))


# One raw task: it counts a run of the host in $MARKER_DIR/<host> and fails on the hosts named in $BROKEN
# (comma-separated). raw does not run in --check mode: a dry run skips it, the failing command with it.
DEPLOY_APP = """\
- name: Deploy the application
  ansible.builtin.raw: >-
    echo x >> {{ (lookup('env', 'MARKER_DIR') ~ '/' ~ inventory_hostname) | quote }}
    && {{ 'false' if inventory_hostname in lookup('env', 'BROKEN').split(',') else 'true' }}
  changed_when: false
"""

# The same, but the hosts named in $WAIT_HOSTS first say so ($MARKER_DIR/<host>.waiting) and then wait for the
# file $GATE: a run that is still going while another one runs.
DEPLOY_APP_WAITING = """\
- name: Deploy the application, waiting where asked
  ansible.builtin.raw: >-
    echo x >> {{ (lookup('env', 'MARKER_DIR') ~ '/' ~ inventory_hostname) | quote }}
    {% if inventory_hostname in lookup('env', 'WAIT_HOSTS').split(',') %}
    && touch {{ (lookup('env', 'MARKER_DIR') ~ '/' ~ inventory_hostname ~ '.waiting') | quote }}
    && while [ ! -e {{ lookup('env', 'GATE') | quote }} ]; do sleep 0.1; done
    {% endif %}
    && {{ 'false' if inventory_hostname in lookup('env', 'BROKEN').split(',') else 'true' }}
  changed_when: false
"""

# A failing task whose name holds a vaulted variable.
REGISTER_WITH_API = """\
- name: "Register with {{ api_url }}"
  ansible.builtin.raw: "false"
  changed_when: false
  when: inventory_hostname in lookup('env', 'BROKEN').split(',')
"""

# The groups inventory of the rollout's pending hosts (current names, found by identity).
PENDING_GROUPS = "plugin: relaunch.status.groups\nstatuses: [pending]\n"


# A project run against an installed collection (the galaxy tarball, the pip wheel): the Deploy project with a third
# web server in place of the unreachable cache01, and a play that relaunches through the lookup.
INSTALLED_PROJECT = {
    "inventory.yml": local_inventory(WEB01, WEB02_BROKEN, "web03: {relaunch_id: id-web03}"),
    "site.yml": play("Deploy", "all", FAIL_WHERE_BROKEN),
    "relaunch.yml": """
        - name: Relaunch on the failed hosts of site.yml
          hosts: "{{ lookup('relaunch.status.limit', 'failed', manifest='.relaunch/site') }}"
          gather_facts: false
          tasks:
            - name: Say where it runs
              ansible.builtin.debug:
                msg: "relaunched on {{ inventory_hostname }}"
    """,
}
