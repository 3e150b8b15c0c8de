# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``ansible-relaunch report``: which hosts keep failing, and why, read from a playbook's run directory.

:func:`build` reads the rollout state (latest.json) and the kept run manifests once, newest first, and gives a
:class:`Report`; :func:`text`, :func:`markdown`, :func:`junit` and :func:`html` render it. Manifests of schema 1
and 2 are read alike: the keys schema 2 added are read with ``.get``.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable
from xml.etree import ElementTree

from . import history
from .command import CommandLine, relaunch_command
from .errors import counted
from .failures import FailureGroup, failures_of, group_failures, natural_key
from .recorder import gc_paused

# One letter per outcome of a host in a run: the grid of the HTML page is a string of these per host.
FAILED = "f"
UNREACHABLE = "u"
CHANGED = "c"
OK = "o"
SKIPPED = "s"
NOT_RUN = "n"
ABSENT = "-"
OUTCOMES = {
    FAILED: "failed",
    UNREACHABLE: "unreachable",
    CHANGED: "changed",
    OK: "ok",
    SKIPPED: "skipped",
    NOT_RUN: "not_run",
    ABSENT: "absent",
}
# The history's outcome of each letter: changed, ok and skipped are all a run the host did not fail.
HISTORY_OUTCOMES = {
    FAILED: history.FAILED,
    UNREACHABLE: history.UNREACHABLE,
    CHANGED: history.OK,
    OK: history.OK,
    SKIPPED: history.OK,
    NOT_RUN: history.NOT_RUN,
    ABSENT: history.ABSENT,
}
PENDING_FROM = ("failed", "not_run")  # a host of the rollout is pending when it has one of these statuses
GROUPS_INVENTORY = "relaunch.yml"  # the groups inventory of docs/relaunch.md: `plugin: relaunch.status.groups`
TEMPLATES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates")
NAMES_SHOWN = 10


@dataclasses.dataclass
class Run:
    """One kept run, as the grid shows it."""

    run_id: str
    finished: str | None
    complete: bool


@dataclasses.dataclass
class HostRow:
    """One host across the kept runs (oldest first): one outcome letter per run, and its failure messages."""

    name: str
    outcomes: str
    messages: dict[int, str] = dataclasses.field(default_factory=dict)  # run index: first failure message


@dataclasses.dataclass
class Report:
    """Everything the report shows: the rollout, the failure groups, flaky and chronic hosts, the grid."""

    playbook: str
    directory: str
    runs: list[Run]
    hosts: list[HostRow]
    rollout: dict  # started_by, runs, run_ids, done, pending (host names)
    groups: list[FailureGroup]
    flaky: list[str]
    chronic: list[str]
    commands: dict[str, str]  # pending, flaky, chronic: the command that relaunches those hosts
    latest_hosts: list[dict]  # the rollout state's host entries, for the JUnit document
    # A failure group's id -> the command that relaunches exactly its hosts (through failure-<id>.limit).
    group_commands: dict[str, str] = dataclasses.field(default_factory=dict)


def cell_outcome(entry: dict, run_id: object) -> str:
    """The outcome letter of a run manifest's host entry in the run ``run_id``."""
    if "run_id" in entry and entry.get("run_id") != run_id:
        return NOT_RUN  # schema 2: the host did not run in this run
    statuses = entry.get("statuses") or ()
    if "failed" in statuses:
        return UNREACHABLE if (entry.get("first_failure") or {}).get("unreachable") else FAILED
    if "not_run" in statuses:
        return NOT_RUN
    if "changed" in statuses:
        return CHANGED
    if "skipped" in statuses and not ("ok" in statuses or "rescued" in statuses or "ignored" in statuses):
        return SKIPPED
    return OK


class _Grid:
    """Collects the outcome of each host in each kept run as the manifests go by, newest first."""

    def __init__(self) -> None:
        self.runs: list[Run] = []  # newest first
        # Each host is keyed as the history keys it: by its identity (a str), else by ("name", its name).
        self.letters: dict[object, list[str]] = {}  # each host's outcome letters, newest run first
        self.messages: dict[object, dict[int, str]] = {}  # of the hosts that failed: run index, failure message
        self.names: dict[object, str] = {}  # each host's newest name
        self.playbook: str | None = None

    def add(self, manifest: dict) -> None:
        """Record a run that counts in the history (:func:`history.counts_in_history`), older than those before."""
        index = len(self.runs)
        run_id = manifest.get("run_id")
        self.playbook = self.playbook or manifest.get("playbook")
        self.runs.append(Run(str(run_id), manifest.get("finished"), manifest.get("complete") is not False))
        all_letters, names = self.letters, self.names  # local names: this loop runs once per host and run
        for entry in manifest.get("hosts") or ():
            identity = entry.get("identity")
            key = identity if isinstance(identity, str) else ("name", entry["name"])
            letters = all_letters.get(key)
            if letters is None:
                letters = all_letters[key] = [ABSENT] * index
                names[key] = entry["name"]
            elif len(letters) != index:
                if len(letters) > index:
                    continue  # two entries of one identity in one run: the first has the say
                letters.extend([ABSENT] * (index - len(letters)))
            letter = cell_outcome(entry, run_id)
            letters.append(letter)
            if letter in (FAILED, UNREACHABLE):
                message = (entry.get("first_failure") or {}).get("message")
                if message:
                    self.messages.setdefault(key, {})[index] = message

    def rows(self) -> list[HostRow]:
        """Every host, by natural name order, its outcomes oldest first."""
        count = len(self.runs)
        names, all_messages = self.names, self.messages
        rows = []
        for key, letters in self.letters.items():
            outcomes = ABSENT * (count - len(letters)) + "".join(reversed(letters))
            found = all_messages.get(key)
            # Oldest run first, as the letters.
            messages = {count - 1 - index: message for index, message in reversed(found.items())} if found else {}
            rows.append(HostRow(names[key], outcomes, messages))
        rows.sort(key=lambda row: natural_key(row.name))
        return rows


def build(
    directory: str,
    latest: dict | None,
    newest_manifests: Iterable[dict],
    thresholds: history.Thresholds | None = None,
) -> Report:
    """The report of the run directory ``directory``: ``latest`` is its rollout state (latest.json, None when
    it has none), ``newest_manifests`` its kept run manifests newest first, each read once."""
    grid = _Grid()
    # Decoding a run manifest of 20,000 hosts makes about 100,000 lists and dicts, and each one counts towards the
    # collector's next pass over every object alive: at 20 runs it took a third of the report's time. The manifests
    # hold no cycles, so each is freed as soon as it is read.
    with gc_paused():
        for manifest in newest_manifests:
            if history.counts_in_history(manifest):
                grid.add(manifest)
    rows = grid.rows()
    flaky, chronic = _flaky_and_chronic(rows, thresholds or history.Thresholds())
    runs = list(reversed(grid.runs))
    latest = latest or {}
    hosts = list(latest.get("hosts") or ())
    pending = [host["name"] for host in hosts if any(status in host.get("statuses", ()) for status in PENDING_FROM)]
    rollout = dict(latest.get("rollout") or {})
    run_ids = sorted({str(host["run_id"]) for host in hosts if host.get("run_id")})
    if not run_ids and latest.get("run_id"):
        run_ids = [str(latest["run_id"])]  # schema 1: latest.json is one run
    rollout.setdefault("started_by", latest.get("run_id"))
    rollout.setdefault("runs", len(run_ids) or (1 if latest else 0))
    rollout.update(
        run_ids=run_ids,
        done=len(hosts) - len(pending),
        pending=sorted(pending, key=natural_key),
    )
    groups = _failure_groups(latest, hosts)
    playbook = str(latest.get("playbook") or grid.playbook or "")
    return Report(
        playbook=playbook,
        directory=directory,
        runs=runs,
        hosts=rows,
        rollout=rollout,
        groups=groups,
        flaky=flaky,
        chronic=chronic,
        commands=_commands(directory, latest),
        latest_hosts=hosts,
        group_commands=_group_commands(directory, latest, groups),
    )


def _flaky_and_chronic(rows: list[HostRow], thresholds: history.Thresholds) -> tuple[list[str], list[str]]:
    """The names of the flaky hosts and of the chronic hosts of the grid's rows, in the rows' order.

    The grid holds each host's outcome in every kept run, keyed as the history keys hosts (by identity, else by
    name), so the hosts are judged from it rather than from a second pass over every manifest.
    """
    flaky: list[str] = []
    chronic: list[str] = []
    window = thresholds.window
    for row in rows:
        recent = row.outcomes[-window:]
        if FAILED not in recent and UNREACHABLE not in recent:
            continue  # most hosts: flaky and chronic both need a failure among the runs they look at
        outcomes = [HISTORY_OUTCOMES[letter] for letter in row.outcomes]
        is_flaky, is_chronic = history.flaky_and_chronic(outcomes, thresholds)
        if is_flaky:
            flaky.append(row.name)
        if is_chronic:
            chronic.append(row.name)
    return flaky, chronic


def _failure_groups(latest: dict, hosts: list[dict]) -> list[FailureGroup]:
    """The rollout's failure groups, largest first: schema 2 records them, schema 1 has them computed."""
    recorded = latest.get("failure_groups")
    if isinstance(recorded, list):
        groups = [FailureGroup.from_dict(group) for group in recorded if isinstance(group, dict)]
    else:
        groups = group_failures(failures_of(hosts))
    return sorted(groups, key=lambda group: -len(group.hosts))


def _command_line(latest: dict) -> tuple[str, CommandLine]:
    """The playbook and the options of the rollout's first run, for the commands that relaunch its hosts."""
    invocation = latest.get("invocation") or {}
    return str(latest.get("playbook") or "site.yml"), CommandLine(
        inventory=tuple(str(source) for source in invocation.get("inventory") or ()),
        tags=tuple(str(tag) for tag in invocation.get("tags") or ()),
        skip_tags=tuple(str(tag) for tag in invocation.get("skip_tags") or ()),
    )


def _group_commands(directory: str, latest: dict, groups: list[FailureGroup]) -> dict[str, str]:
    """The command that relaunches each failure group that has a limit file (the largest ones)."""
    playbook, line = _command_line(latest)
    commands = {}
    for group in groups:
        path = os.path.join(directory, f"failure-{group.key}.limit")
        if os.path.isfile(path):
            commands[group.key] = relaunch_command(playbook, [path], line)
    return commands


def _commands(directory: str, latest: dict) -> dict[str, str]:
    """The commands that relaunch the pending, flaky and chronic hosts, as the collection supports them."""
    playbook, line = _command_line(latest)
    # Schema 2 writes pending.limit (failed or not run); schema 1 only failed.limit and not_run.limit.
    pending_file = os.path.join(directory, "pending.limit")
    if not os.path.isfile(pending_file):
        pending_file = os.path.join(directory, "failed.limit")
    commands = {"pending": relaunch_command(playbook, [pending_file], line)}
    grouped = CommandLine(inventory=(*line.inventory, GROUPS_INVENTORY), tags=line.tags, skip_tags=line.skip_tags)
    for group in ("flaky", "chronic"):
        limitless = relaunch_command(playbook, [], grouped).rsplit(" --limit ", 1)[0]
        commands[group] = f"{limitless} --limit relaunch_{group}"
    return commands


def _names(hosts: list[str], shown: int = NAMES_SHOWN) -> str:
    more = len(hosts) - shown
    return ", ".join(hosts[:shown]) + (f" and {more} more" if more > 0 else "")


def _cause(group: FailureGroup) -> str:
    where = f"TASK [{group.task}]" if group.task else "no task"
    kind = "unreachable" if group.unreachable else "failed"
    return f"{counted(len(group.hosts), 'host')} {kind} at {where}: {group.message or group.example or ''}".rstrip()


def text(report: Report) -> str:
    """The report for a terminal."""
    rollout = report.rollout
    lines = [
        f"RELAUNCH REPORT: {report.playbook or report.directory} ({counted(len(report.runs), 'kept run')})",
        f"  rollout: done={rollout['done']}  pending={len(rollout['pending'])}"
        f"  ({counted(rollout['runs'], 'run')}, started by {rollout['started_by']})",
    ]
    if rollout["pending"]:
        lines += [f"    pending: {_names(rollout['pending'])}", f"    relaunch: {report.commands['pending']}"]
    lines.append(f"  failure groups: {len(report.groups)}")
    for group in report.groups:
        lines += [f"    {_cause(group)}", f"      {_names(group.hosts)}"]
        command = report.group_commands.get(group.key)
        lines.append(f"      group {group.key}" + (f": {command}" if command else ""))
    for kind in ("flaky", "chronic"):
        names = getattr(report, kind)
        lines.append(f"  {kind}: {len(names)}")
        if names:
            lines += [f"    {_names(names)}", f"    relaunch: {report.commands[kind]}"]
    return "\n".join(lines) + "\n"


def _cell(value: str) -> str:
    return value.replace("|", "\\|").replace("\n", " ")


def markdown(report: Report) -> str:
    """A compact summary for ``$GITHUB_STEP_SUMMARY``."""
    rollout = report.rollout
    lines = [
        f"## Relaunch report: `{report.playbook or report.directory}`",
        "",
        "| done | pending | runs in the rollout | kept runs | flaky | chronic |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| {rollout['done']} | {len(rollout['pending'])} | {rollout['runs']} | {len(report.runs)} "
        f"| {len(report.flaky)} | {len(report.chronic)} |",
    ]
    if report.groups:
        lines += ["", "| hosts | group | task | cause |", "| ---: | --- | --- | --- |"]
        for group in report.groups:
            cause = ("unreachable: " if group.unreachable else "") + (group.message or group.example or "")
            lines.append(f"| {len(group.hosts)} | `{group.key}` | {_cell(group.task or '')} | {_cell(cause)} |")
        commands = [
            f"{report.group_commands[group.key]}  # group {group.key}"
            for group in report.groups
            if group.key in report.group_commands
        ][:5]
        if commands:
            lines += ["", "**Relaunch one failure group**:", "", "```sh", *commands, "```"]
    for title, names, command in (
        ("Pending", rollout["pending"], report.commands["pending"]),
        ("Flaky", report.flaky, report.commands["flaky"]),
        ("Chronic", report.chronic, report.commands["chronic"]),
    ):
        if names:
            lines += ["", f"**{title}**: {_names(names)}", "", "```sh", command, "```"]
    return "\n".join(lines) + "\n"


def junit(report: Report) -> bytes:
    """A JUnit XML document: one test case per host of the rollout, unreachable counted as a failure."""
    suite_name = report.playbook or report.directory
    suite = ElementTree.Element("testsuite", name=suite_name)
    failures = skipped = 0
    for host in sorted(report.latest_hosts, key=lambda host: natural_key(host["name"])):
        case = ElementTree.SubElement(suite, "testcase", name=host["name"], classname=suite_name)
        statuses = host.get("statuses") or ()
        first = host.get("first_failure") or {}
        if "failed" in statuses:
            failures += 1
            kind = "unreachable" if first.get("unreachable") else "failed"
            message = str(first.get("message") or kind)
            failure = ElementTree.SubElement(case, "failure", message=message, type=kind)
            failure.text = f"{kind} at TASK [{first.get('task') or ''}]: {message}"
        elif "not_run" in statuses:
            skipped += 1
            ElementTree.SubElement(case, "skipped", message="not run")
    suite.set("tests", str(len(report.latest_hosts)))
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    suite.set("skipped", str(skipped))
    suites = ElementTree.Element("testsuites", name="relaunch.status", tests=suite.get("tests", "0"))
    suites.set("failures", str(failures))
    suites.append(suite)
    return ElementTree.tostring(suites, encoding="utf-8", xml_declaration=True)


def page_data(report: Report) -> dict:
    """The grid as compact JSON for the page's script: one string of outcome letters per host, and each
    failure message once."""
    messages: dict[str, int] = {}
    hosts = []
    for row in report.hosts:
        failures = {str(index): messages.setdefault(message, len(messages)) for index, message in row.messages.items()}
        hosts.append([row.name, row.outcomes, failures] if failures else [row.name, row.outcomes])
    return {
        "runs": [[run.run_id, run.finished or "", run.complete] for run in report.runs],
        "hosts": hosts,
        "messages": list(messages),
        "outcomes": OUTCOMES,
    }


def html(report: Report) -> str:
    """One self-contained page (inline CSS and script, nothing from the network), from the shipped template."""
    import jinja2  # a dependency of ansible-core; only the page needs it

    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined
    )
    template = environment.get_template("report.html.j2")
    return template.render(report=report, data=page_data(report), cause=_cause, names=_names)
