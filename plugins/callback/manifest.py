# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: manifest
type: aggregate
short_description: Record how every host of a run ended, for an exact relaunch
description:
  - Writes one status manifest per playbook file of an C(ansible-playbook) run to
    C(<manifest_dir>/<playbook stem>/<run id>.json), and keeps C(latest.json) beside it as a copy of the
    newest finished or interrupted run.
  - Each host is recorded by its inventory name and identity with its statuses (C(all), C(failed),
    C(unreachable), C(changed), C(ok), C(skipped), C(rescued), C(ignored), C(not_run)), its counters,
    and its first failure.
  - C(failed) holds exactly the hosts of ansible-core's own C(.retry) file, read from ansible-core's
    failed and unreachable host sets when each playbook ends. Should those sets ever be out of reach, it warns
    once that C(failed), C(unreachable) and C(rescued) are then derived from task results, so approximate.
  - Beside C(latest.json) it writes one limit file per status (C(failed.limit), ...), to relaunch
    with C(--limit @<file>); the file of a status with 0 hosts selects no host, and ansible-playbook stops
    with a warning that says so. When a run starts with such a file as its C(--limit) and the file would now select
    a host that the manifest beside it does not select for that status by identity (the inventory changed), the
    run stops before anything runs, with one error line naming the file.
  - C(invocation.limit) records what the C(--limit) selected, each C(@file) part as the patterns the file held
    when the run started; C(invocation.limit_given) keeps it as given.
  - A run in which no host ran a task other than the relaunch selection (a refused relaunch, an error before
    any host ran) keeps its C(<run id>.json) but leaves C(latest.json) and the limit files as they were.
  - When C(<manifest_dir>/<playbook stem>) belongs to another playbook of the same file name (a shared
    C(manifest_dir)), the run directory is C(<manifest_dir>/<playbook stem>-<hash of the playbook path>).
  - Events are appended to a journal while the run goes on; a run stopped by Ctrl-C or SIGTERM writes an
    interrupted manifest (C(complete=false)), and the journal of a run killed outright is recovered by the
    next run (readers replay it in memory).
  - At the end of each playbook, and after Ctrl-C, it prints the counts, the failed hosts grouped by failure, and
    the command that relaunches on the failed hosts of that run (through C(<run id>.failed.limit), so runs that
    overlap each print their own), or on the failed and C(not_run) hosts when some never finished (which finishes
    the job); never with a JSON stdout callback.
  - The hosts of plays that never started (Ctrl-C, or a play that stopped the playbook) are C(not_run), unless
    the play's C(hosts) is a template.
  - A stored failure message never holds the run's known secrets (vault-encrypted values, password variables,
    the passwords the run was given); a C(no_log) task's message is not stored at all.
  - Writes nothing for C(--syntax-check) and C(--list-*) runs. A manifest directory that cannot be written
    gives one warning and never fails the playbook.
version_added: 1.0.0
author: relaunch.status contributors (@relaunch-status)
requirements:
  - Enable it with C(callbacks_enabled = relaunch.status.manifest) in C(ansible.cfg)
    or C(ANSIBLE_CALLBACKS_ENABLED=relaunch.status.manifest).
extends_documentation_fragment:
  - relaunch.status.manifest
options:
  keep:
    description: How many run manifests to keep per playbook; older ones are removed, the newest never.
    type: int
    default: 20
    env:
      - name: RELAUNCH_KEEP
    ini:
      - section: relaunch_status
        key: keep
  summary:
    description:
      - Print the relaunch summary at the end of each playbook.
      - It is never printed when the stdout callback writes JSON.
    type: bool
    default: true
    env:
      - name: RELAUNCH_SUMMARY
    ini:
      - section: relaunch_status
        key: summary
"""

EXAMPLES = r"""
# ansible.cfg
# [defaults]
# callbacks_enabled = relaunch.status.manifest
#
# [relaunch_status]
# manifest_dir = /var/lib/ansible/relaunch
# identity_vars = relaunch_id, serial_number

# Run, then relaunch on the hosts that failed:
#   ansible-playbook -i inventory site.yml
#   ansible-playbook -i inventory site.yml --limit @.relaunch/site/failed.limit
"""

import atexit
import os
import shlex
import signal
from typing import TYPE_CHECKING

from ansible import constants as C
from ansible import context
from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.callback import CallbackBase
from ansible.release import __version__ as ansible_version

from ansible_collections.relaunch.status.plugins.plugin_utils import _compat as compat
from ansible_collections.relaunch.status.plugins.plugin_utils._core import store
from ansible_collections.relaunch.status.plugins.plugin_utils._core.errors import RelaunchError
from ansible_collections.relaunch.status.plugins.plugin_utils._core.recorder import (
    COUNTERS,
    Recorder,
    Snapshot,
    failure_message,
)
from ansible_collections.relaunch.status.plugins.plugin_utils._inventory import IdentityResolver, source_directories

if TYPE_CHECKING:
    from ansible_collections.relaunch.status.plugins.plugin_utils._secrets import KnownSecrets

# AggregateStats attribute for each manifest counter.
_STATS_ATTRIBUTES = {"unreachable": "dark"}
# The action whose results carry "add_host" (the host it creates), by every name it runs under.
_ADD_HOST_ACTIONS = frozenset(("add_host", "ansible.builtin.add_host", "ansible.legacy.add_host"))
# The relaunch selection itself: its results are no work of the run (the recorder's tasks_ran).
_SELECTION_ACTION = "relaunch.status.relaunch_info"
_SELECT_ROLE = (
    os.path.realpath(os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, "roles", "select")) + os.sep
)


def _is_selection(task) -> bool:
    """Whether a task is part of the relaunch selection: the relaunch_info action, or a task of the
    select role (with the validation of its arguments that ansible-core adds to it)."""
    if (task.resolved_action or task.action) == _SELECTION_ACTION:
        return True
    context = task.args.get("validate_args_context") if isinstance(task.args, dict) else None
    path = str(context.get("path") or "") if isinstance(context, dict) else (task.get_path() or "").rsplit(":", 1)[0]
    return bool(path) and (os.path.realpath(path) + os.sep).startswith(_SELECT_ROLE)


class _PlaybookRun:
    """One playbook file being recorded: its recorder, journal and bookkeeping."""

    def __init__(
        self, directory: str, playbook: str, recorder: Recorder, journal: store.journal.Journal, cli_args
    ) -> None:
        self.directory = directory
        self.playbook = playbook
        self.cli_args = cli_args  # the command line of the run, for the relaunch command
        self.recorder = recorder
        self.journal = journal
        self.seen_hosts: set[str] = set()
        self.play_uuid: str | None = None
        self.play_name = ""
        self.rescued_seen: dict[str, int] = {}
        self.groups: list[str] = []
        self.resolver: IdentityResolver | None = None
        self.journal_error: str | None = None  # why the journal stopped, told once at the end
        self.play = None  # the play running now
        self.loader = None  # the playbook's DataLoader, for the known secrets
        self.passwords: dict | None = None  # the TaskQueueManager's, for the known secrets
        self.secrets: KnownSecrets | None = None  # made at the first failure
        self.plays: list = []  # the playbook's plays, in order
        self.started_plays: set[str] = set()  # uuids of the plays that started

    def emit(self, event: dict) -> None:
        self.journal.append(event)
        self.recorder.apply(event)

    def known_secrets(self) -> KnownSecrets:
        # Only failures need them: loaded at the first one, as ansible-core compiles each module loaded on every run.
        if self.secrets is None:
            from ansible_collections.relaunch.status.plugins.plugin_utils._secrets import KnownSecrets

            self.secrets = KnownSecrets(self.loader, self.passwords)
        return self.secrets


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "relaunch.status.manifest"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display=None, options=None) -> None:
        super().__init__(display=display, options=options)
        self._run: _PlaybookRun | None = None
        self._tqm = None  # the TaskQueueManager calling back: ansible-core's own failed and unreachable sets
        self._tqm_searched = False
        self._pid = os.getpid()
        self._warned = False
        self._previous_sigterm = None
        self._adds_hosts: dict[str, bool] = {}
        self._selection_tasks: dict[str, bool] = {}
        # Host names of the inventory before any task ran: add_host on one of them creates nothing.
        self._inventory_hosts: set[str] | None = None
        atexit.register(self._finish_interrupted)

    # --- set-up ----------------------------------------------------------------------------

    def _warn_once(self, message: str) -> None:
        if not self._warned:
            self._warned = True
            self._display.warning(f"relaunch.status.manifest: {message}")

    def _install_sigterm_handler(self) -> None:
        # ansible-core's own handler forwards SIGTERM to workers and then dies
        # without running atexit; write the interrupted manifest first.
        if self._previous_sigterm is None:
            self._previous_sigterm = signal.getsignal(signal.SIGTERM)
            signal.signal(signal.SIGTERM, self._on_sigterm)

    def _on_sigterm(self, signum, frame) -> None:
        if os.getpid() == self._pid:
            self._finish_interrupted(summary=False)  # no printing from a signal handler
        previous = self._previous_sigterm
        if callable(previous):
            previous(signum, frame)
        else:
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)

    def v2_playbook_on_start(self, playbook) -> None:
        args = context.CLIARGS
        if args.get("syntax") or args.get("listhosts") or args.get("listtasks") or args.get("listtags"):
            return
        if not self._tqm_searched:
            self._tqm_searched = True
            self._tqm = compat.find_task_queue_manager()
            if self._tqm is None:
                self._display.warning(f"relaunch.status.manifest: {compat.APPROXIMATE_WITHOUT_TQM}")
        self._finish_interrupted()  # a previous playbook that never reached its stats
        playbook_path = os.path.abspath(to_text(compat.playbook_file(playbook)))
        given_limit = to_text(args.get("subset") or "")
        # Only a limit that names a file needs the selection engine, loaded then and not with the callback:
        # ansible-core compiles a collection's modules from source on every run, so a module loaded and not
        # used is time lost (see docs/performance.md).
        names_a_file = "@" in given_limit
        if names_a_file:
            from ansible_collections.relaunch.status.plugins.plugin_utils._selector import (
                selected_limit,
                stale_limit_file,
            )
        inventory = compat.tqm_inventory(self._tqm) if self._tqm is not None and names_a_file else None
        if inventory is not None:
            # A limit file means the hosts of its manifest; once the inventory changed, its names may mean others.
            stale = stale_limit_file(
                given_limit,
                inventory,
                playbook.get_loader(),
                self.get_option("identity_vars"),
                os.path.dirname(playbook_path),
            )
            if stale:
                self._display.error(f"relaunch.status.manifest: {stale}", wrap_text=False)
                raise SystemExit(1)  # passes the callback dispatcher's "except Exception": nothing runs
        root = store.layout.manifest_root(self.get_option("manifest_dir"), playbook_path)
        directory = store.layout.run_directory(root, playbook_path)
        try:
            directory = store.layout.claim_run_directory(root, playbook_path)  # the manifest root too, 0700
            store.recovery.recover(directory, self.get_option("keep"), _limit_texts)
            run_id = store.layout.new_run_id()
            journal = store.journal.Journal(directory, run_id)
        except (RelaunchError, OSError) as exc:
            self._warn_once(f"no manifest will be written: {_describe(exc, directory)}")
            return
        self._install_sigterm_handler()
        run = self._run = _PlaybookRun(directory, playbook_path, Recorder(), journal, args)
        run.plays = list(playbook.get_plays())
        run.loader = playbook.get_loader()
        run.passwords = self._tqm.passwords if self._tqm is not None else None
        if self._tqm is not None:
            run.rescued_seen = dict(compat.tqm_rescued(self._tqm))
        run.resolver = IdentityResolver(
            playbook.get_loader(),
            self.get_option("identity_vars"),
            source_directories(args.get("inventory"), os.path.dirname(playbook_path)),
        )
        # What the limit selected, not a path to a limit file that the end of this run rewrites.
        limit = selected_limit(given_limit) if names_a_file else given_limit
        if limit is None:
            limit = given_limit
            self._display.warning(
                f"relaunch.status.manifest: --limit {given_limit}: a limit file holds a line with a comma or cannot be read; "
                "the manifest records the limit as given"
            )
        self._emit(
            {
                "e": "start",
                "run_id": run_id,
                "playbook": playbook_path,
                "started": store.layout.utc_now(),
                "check_mode": bool(args.get("check")),
                "ansible_version": ansible_version,
                "invocation": {
                    "limit": limit,
                    "limit_given": given_limit,
                    "inventory": [to_text(source) for source in args.get("inventory") or ()],
                    "tags": [to_text(tag) for tag in args.get("tags") or ()],
                    "skip_tags": [to_text(tag) for tag in args.get("skip_tags") or ()],
                },
                "passwords_needed_to_start": passwords_needed_to_start(args),
            }
        )

    def _emit(self, event: dict) -> None:
        run = self._run
        if run is None:
            return
        try:
            run.emit(event)
        except OSError as exc:
            # Told once at the end, when it is known whether the manifest itself could be written.
            run.journal_error = exc.strerror or str(exc)
            run.journal.close(remove=False)
            run.recorder.apply(event)

    def _verdict(self) -> None:
        if self._tqm is not None:
            self._emit({"e": "verdict", "failed": sorted(compat.tqm_failed_hosts(self._tqm))})

    def _see_hosts(self, hosts) -> None:
        run = self._run
        for host in hosts:
            if host.name not in run.seen_hosts:
                run.seen_hosts.add(host.name)
                identity, variable = run.resolver.resolve(host)
                self._emit({"e": "host", "name": host.name, "identity": identity, "identity_var": variable})

    # --- events ----------------------------------------------------------------------------

    def v2_playbook_on_play_start(self, play) -> None:
        run = self._run
        if run is None:
            return
        inventory = compat.play_inventory(play)
        if self._inventory_hosts is None:
            self._inventory_hosts = set(inventory.hosts)
        batch = inventory.get_hosts(play.hosts, order=play.order)
        event = {"e": "play", "name": to_text(play.get_name()), "batch": [host.name for host in batch]}
        self._see_hosts(batch)
        if compat.object_id(play) != run.play_uuid:
            run.play_uuid = compat.object_id(play)
            run.started_plays.add(run.play_uuid)
            batch_names = set(event["batch"])
            pending = [
                host
                for host in inventory.get_hosts(play.hosts, ignore_restrictions=True, order=play.order)
                if host.name not in batch_names
            ]
            self._see_hosts(pending)
            event["pending"] = [host.name for host in pending]
        run.play_name = event["name"]
        run.play = play
        run.groups = list(inventory.groups)
        self._verdict()
        self._emit(event)

    def _record_unstarted_plays(self) -> None:
        """Record the hosts of the plays that never started (Ctrl-C, an aborted play) as not_run.

        They are resolved when the playbook stops, from the inventory as it is then (add_host
        and group_by included), under the run's --limit, as ansible-core would have resolved
        them. A play whose ``hosts:`` is a template is left out: resolving it would run
        templates and lookups the run never got to.
        """
        run = self._run
        if run is None:
            return
        started = [index for index, play in enumerate(run.plays) if compat.object_id(play) in run.started_plays]
        unstarted = run.plays[started[-1] + 1 :] if started else run.plays
        run.plays = []  # once per playbook
        hosts = {}
        for play in unstarted:
            patterns = [play.hosts] if isinstance(play.hosts, str) else list(play.hosts or ())
            if any("{{" in pattern or "{%" in pattern for pattern in map(to_text, patterns)):
                continue
            inventory = compat.play_inventory(play)
            if inventory is None:
                continue
            try:
                hosts.update(
                    (host.name, host)
                    for host in inventory.get_hosts(patterns, ignore_restrictions=True, order=play.order)
                )
            except AnsibleError:
                continue  # ansible-core would have stopped on this play's pattern too
        if hosts:
            self._see_hosts(hosts.values())
            self._emit({"e": "unstarted", "hosts": list(hosts)})

    def _result(self, result, host, task, outcome: str, ignored: bool = False) -> None:
        run = self._run
        if host.name not in run.seen_hosts:
            self._see_hosts([host])
        event = {"e": "result", "host": host.name, "outcome": outcome}
        task_id = compat.object_id(task)
        selection = self._selection_tasks.get(task_id)
        if selection is None:
            selection = self._selection_tasks[task_id] = _is_selection(task)
        if selection:
            event["selection"] = True
        if outcome in ("failed", "unreachable"):
            data = compat.result_data(result)
            rescued = False
            if self._tqm is not None and outcome == "failed" and not ignored:
                # ansible-core counts a rescued failure before it calls back.
                count = compat.tqm_rescued(self._tqm).get(host.name, 0)
                rescued = count > run.rescued_seen.get(host.name, 0)
                run.rescued_seen[host.name] = count
            no_log = bool(task.no_log) or bool(data.get("censored"))
            secrets = () if no_log else run.known_secrets().for_failure(run.play, host)
            event.update(
                {
                    "ignored": ignored,
                    "rescued": rescued,
                    "play": run.play_name,
                    "task": to_text(task.get_name()),
                    "action": to_text(task.action),
                    "msg": failure_message(data, no_log, secrets),
                }
            )
        self._emit(event)

    def v2_runner_on_ok(self, result) -> None:
        if self._run is None:
            return
        host, task = compat.result_host_task(result)
        # Task.action is a costly field lookup; read it once per task.
        task_id = compat.object_id(task)
        adds_hosts = self._adds_hosts.get(task_id)
        if adds_hosts is None:
            adds_hosts = self._adds_hosts[task_id] = task.action in _ADD_HOST_ACTIONS
        if adds_hosts:
            data = compat.result_data(result)
            for item in [data] + [item for item in data.get("results", ()) if isinstance(item, dict)]:
                added = item.get("add_host")
                if isinstance(added, dict) and added.get("host_name"):
                    self._provision(host.name, added)
        self._result(result, host, task, "changed" if result.is_changed() else "ok")

    def _provision(self, provisioner: str, added: dict) -> None:
        if to_text(added["host_name"]) in (self._inventory_hosts or ()):
            return  # an inventory host put in a group (or given vars) by add_host: not provisioned
        host_vars = added.get("host_vars") or {}
        identity = variable = None
        for name in self.get_option("identity_vars"):
            if host_vars.get(name) is not None:
                identity, variable = to_text(host_vars[name]), name
                break
        self._emit(
            {
                "e": "provision",
                "host": to_text(added["host_name"]),
                "by": provisioner,
                "identity": identity,
                "identity_var": variable,
            }
        )

    def v2_runner_on_failed(self, result, ignore_errors=False) -> None:
        if self._run is not None:
            self._result(result, *compat.result_host_task(result), "failed", ignored=bool(ignore_errors))

    def v2_runner_on_unreachable(self, result) -> None:
        if self._run is not None:
            host, task = compat.result_host_task(result)
            self._result(result, host, task, "unreachable", ignored=bool(task.ignore_unreachable))

    def v2_runner_on_skipped(self, result) -> None:
        if self._run is not None:
            self._result(result, *compat.result_host_task(result), "skipped")

    def v2_playbook_on_stats(self, stats) -> None:
        run = self._run
        if run is None:
            return
        self._record_unstarted_plays()
        self._verdict()
        counters = {}
        for name in stats.processed:
            counters[name] = {key: getattr(stats, _STATS_ATTRIBUTES.get(key, key)).get(name, 0) for key in COUNTERS}
        self._emit({"e": "stats", "hosts": counters})
        self._show_summary(run, self._finish(complete=True))

    # --- the end ---------------------------------------------------------------------------

    def _finish(self, complete: bool) -> Snapshot | None:
        run, self._run = self._run, None
        if run is None:
            return None
        snapshot = run.recorder.snapshot(complete=complete, finished=store.layout.utc_now())
        try:
            store.publishing.publish(
                run.directory,
                snapshot,
                self.get_option("keep"),
                lambda manifest: _limit_texts(manifest, run.groups, self._inventory_hosts),
            )
        except (RelaunchError, OSError) as exc:
            run.journal.close(remove=False)
            self._warn_once(f"manifest not written: {_describe(exc, run.directory)}")
            return None
        run.journal.close(remove=True)
        if run.journal_error:
            self._warn_once(
                f"journal {run.journal.path} could not be written ({run.journal_error}); the manifest was written at the end, but a crash would have lost it"
            )
        return snapshot

    def _finish_interrupted(self, summary: bool = True) -> None:
        run = self._run
        if run is not None and os.getpid() == self._pid:
            self._record_unstarted_plays()
            snapshot = self._finish(complete=False)
            if summary:
                self._show_summary(run, snapshot)

    def _show_summary(self, run: _PlaybookRun, snapshot: Snapshot | None) -> None:
        if snapshot is None or not self._summary_wanted():
            return
        counts = snapshot.head["retry_counts"]
        if counts.get("not_run"):
            # Relaunching on the failed and the not_run hosts finishes the job: latest.json's files of both.
            files = [
                os.path.join(run.directory, status + store.layout.LIMIT)
                for status in ("failed", "not_run")
                if counts.get(status)
            ]
        else:
            files = [
                store.layout.run_limit_file(run.directory, snapshot.head["run_id"])
            ]  # this run's failed hosts alone
        command = (
            relaunch_command(run.playbook, files, run.cli_args) if all(os.path.isfile(path) for path in files) else None
        )
        from ansible_collections.relaunch.status.plugins.plugin_utils._core.summary import (
            relaunch_summary,
        )  # at the end only

        self._display.display(relaunch_summary(snapshot.head, snapshot.hosts("failed"), run.directory, command))

    def _summary_wanted(self) -> bool:
        stdout_callback = str(C.DEFAULT_STDOUT_CALLBACK or "")
        return bool(self.get_option("summary")) and "json" not in stdout_callback


def _limit_texts(manifest, group_names=(), inventory_names=None) -> dict[str, str]:
    """The limit file texts the store writes for a run: the selection engine is loaded only when they are made."""
    from ansible_collections.relaunch.status.plugins.plugin_utils._core.selection import limit_file_texts

    return limit_file_texts(manifest, group_names, inventory_names)


def _describe(exc: Exception, directory: str) -> str:
    if isinstance(exc, RelaunchError):
        return str(exc)
    return f"{directory}: {exc.strerror or exc}; set RELAUNCH_MANIFEST_DIR to a writable directory"


def passwords_needed_to_start(args) -> list[str]:
    """The passwords a run prompted for, named as AWX names them.

    Vault prompts follow ansible-core's own rule (CLI.setup_vault_secrets): the
    configured vault identity list, then each --vault-id, split on its first
    ``@`` into label and source, then --ask-vault-pass; a source ``prompt`` or
    ``prompt_ask_vault_pass`` prompts, for the label or the default identity.
    """
    needed = []
    if args.get("ask_pass"):
        needed.append("ssh_password")
    if args.get("become_ask_pass"):
        needed.append("become_password")
    vault_ids = [
        to_text(vault_id) for vault_id in [*(C.DEFAULT_VAULT_IDENTITY_LIST or ()), *(args.get("vault_ids") or ())]
    ]
    if args.get("ask_vault_pass"):
        vault_ids.append(f"{C.DEFAULT_VAULT_IDENTITY}@prompt_ask_vault_pass")
    for vault_id in vault_ids:
        label, _sep, source = vault_id.partition("@") if "@" in vault_id else ("", "", vault_id)
        if source in ("prompt", "prompt_ask_vault_pass"):
            label = label or C.DEFAULT_VAULT_IDENTITY
            name = "vault_password" if label == C.DEFAULT_VAULT_IDENTITY else f"vault_password.{label}"
            if name not in needed:
                needed.append(name)
    return needed


def _path_word(path) -> str:
    """A path of the command line as the relaunch command shows it: relative when it exists."""
    path = to_text(path)
    return os.path.relpath(path) if os.path.exists(path) else path


def relaunch_command(playbook: str, limit_files: list[str], args) -> str:
    """The command that reruns ``playbook`` on the hosts of ``limit_files``, with the options of ``args``
    (the run's command line, as ``context.CLIARGS`` holds it) but without extra vars' values.

    Several limit files give one --limit of them joined by commas, which
    ansible-core reads as the union of the files' patterns.
    """
    words = ["ansible-playbook"]
    for source in args.get("inventory") or ():
        words += ["-i", _path_word(source)]
    words.append(os.path.relpath(playbook))
    for option, key in (("--tags", "tags"), ("--skip-tags", "skip_tags")):
        values = [to_text(value) for value in args.get(key) or () if value != "all" or key != "tags"]
        if values:
            words += [option, ",".join(values)]
    for flag, key in (
        ("--check", "check"),
        ("-k", "ask_pass"),
        ("-K", "become_ask_pass"),
        ("--ask-vault-pass", "ask_vault_pass"),
    ):
        if args.get(key):
            words.append(flag)
    for vault_id in args.get("vault_ids") or ():
        words += ["--vault-id", to_text(vault_id)]
    # Password files are paths, not secrets: the relaunch needs them as much as the prompts.
    for path in args.get("vault_password_files") or ():
        words += ["--vault-password-file", _path_word(path)]
    for option, key in (
        ("--connection-password-file", "connection_password_file"),
        ("--become-password-file", "become_password_file"),
    ):
        if args.get(key):
            words += [option, _path_word(args[key])]
    words += ["--limit", ",".join("@" + os.path.relpath(path) for path in limit_files)]
    command = " ".join(shlex.quote(word) for word in words)
    if args.get("extra_vars"):
        command += "  (plus your -e options)"
    return command
