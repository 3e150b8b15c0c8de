# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: manifest
type: aggregate
short_description: Record how every host of a run ended, for an exact relaunch
description:
  - Writes one status manifest per playbook file of an C(ansible-playbook) run to
    C(<manifest_dir>/<playbook stem>/<run id>.json), and keeps C(latest.json) beside it as the state of the
    rollout (a first run and every relaunch made from it), with each host's entry from the latest run that ran it.
    A C(--check) run is a dry run; it writes its own manifest and never changes C(latest.json).
  - Each host is recorded by its inventory name and identity with its statuses (C(all), C(failed),
    C(unreachable), C(changed), C(ok), C(skipped), C(rescued), C(ignored), C(not_run), and C(pending),
    everything still to do), its counters, and its first failure.
  - C(failed) holds exactly the hosts of ansible-core's own C(.retry) file, read from ansible-core's
    failed and unreachable host sets when each playbook ends. Should those sets ever be out of reach, it warns
    once that C(failed), C(unreachable) and C(rescued) are then derived from task results, so approximate.
  - Beside C(latest.json) it writes one limit file per status (C(failed.limit), ...), to relaunch
    with C(--limit @<file>); the file of a status with 0 hosts selects no host, and ansible-playbook stops
    with a warning that says so. When a run starts with such a file as its C(--limit) and the file would now select
    a host that the manifest beside it does not select for that status by identity (the inventory changed), the
    run stops before anything runs, with one error line naming the file. When a host the file names was renamed
    since (its identity is now another name's), it warns in one line naming both names, as the file cannot select
    it, so it stays pending; the C(relaunch.status.groups) inventory and the C(relaunch.status.limit) lookup follow it.
  - C(invocation.limit) records what the C(--limit) selected, each C(@file) part as the patterns the file held
    when the run started; C(invocation.limit_given) keeps it as given.
  - A run in which no host ran a task other than the relaunch selection (a refused relaunch, an error before
    any host ran) keeps its C(<run id>.json) but leaves C(latest.json) and the limit files as they were.
  - When C(<manifest_dir>/<playbook stem>) belongs to another playbook of the same file name (a shared
    C(manifest_dir)), the run directory is C(<manifest_dir>/<playbook stem>-<hash of the playbook path>).
  - Events are appended to a journal while the run goes on; a run stopped by Ctrl-C or SIGTERM writes an
    interrupted manifest (C(complete=false)), and the journal of a run killed outright is recovered by the
    next run (readers replay it in memory).
  - At the end of each playbook, and after Ctrl-C, it prints a summary that names only files of the run's own, so
    runs that overlap each print their own; never with a JSON stdout callback. Its first line names the run's
    C(<run id>.json), and C(latest.json) when the run was merged into it; then the counts, the failed hosts grouped
    by task and message (host names, addresses and numbers masked) in at most 10 lines, and the command that
    relaunches on what is left to do, through the run's own C(<run id>.pending.limit) when there is one, else
    C(<run id>.failed.limit) (or the C(failed) and C(not_run) files when some hosts never finished).
  - >-
    A C(--check) run says so in its summary, C((dry run: --check; the rollout and its limit files are unchanged)),
    and prints no relaunch command.
  - The hosts of plays that never started (Ctrl-C, or a play that stopped the playbook) are C(not_run), unless
    the play's C(hosts) is a template.
  - A stored failure message, task name or play name never holds the run's known secrets (vault-encrypted values,
    password variables, the passwords the run was given); a C(no_log) task's message is not stored at all.
  - >-
    Writes nothing for C(--syntax-check) and C(--list-*) runs. A manifest directory that cannot be written
    gives one warning at the start and one line in place of the summary,
    C(RELAUNCH SUMMARY: no manifest written: <why>), and never fails the playbook unless O(require_manifest) is set.
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
  require_manifest:
    description:
      - Stop the run before anything runs, with one error line and a non-zero exit, when its manifest directory
        cannot be written, instead of warning and running without a manifest (for CI, where a relaunch needs it).
      - A manifest that cannot be written at the end of the run (the disk filled up meanwhile) is still a warning.
    type: bool
    default: false
    version_added: 2.0.0
    env:
      - name: RELAUNCH_REQUIRE_MANIFEST
    ini:
      - section: relaunch_status
        key: require_manifest
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

import os

from ansible import constants as C
from ansible import context
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.callback import CallbackBase
from ansible.release import __version__ as ansible_version

from ansible_collections.relaunch.status.plugins.plugin_utils import _compat as compat
from ansible_collections.relaunch.status.plugins.plugin_utils._core import command, store
from ansible_collections.relaunch.status.plugins.plugin_utils._core.errors import RelaunchError
from ansible_collections.relaunch.status.plugins.plugin_utils._core.recorder import failure_message
from ansible_collections.relaunch.status.plugins.plugin_utils._core.run import PlaybookRun, Runs
from ansible_collections.relaunch.status.plugins.plugin_utils._inventory import IdentityResolver, source_directories
from ansible_collections.relaunch.status.plugins.plugin_utils._playbook import (
    Playbook,
    added_hosts,
    is_implicit_fact_gathering,
    is_selection,
    late,
    narrowed,
    provision_event,
    relaunch_files,
)

# The action whose results carry "add_host" (the host it creates), by every name it runs under.
_ADD_HOST_ACTIONS = frozenset(("add_host", "ansible.builtin.add_host", "ansible.legacy.add_host"))
# Runs that only check or list the playbook: nothing to record.
_LISTING_OPTIONS = ("syntax", "listhosts", "listtasks", "listtags")


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "relaunch.status.manifest"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display=None, options=None) -> None:
        super().__init__(display=display, options=options)
        self._run: PlaybookRun | None = None
        self._playbook: Playbook | None = None
        self._runs = Runs(self._finish_interrupted)
        self._tqm = None  # the TaskQueueManager calling back: ansible-core's own failed and unreachable sets
        self._tqm_searched = False
        self._warned: set[str] = set()  # each warning is given once, however many playbooks run
        self._adds_hosts: dict[str, bool] = {}
        self._selection_tasks: dict[str, str] = {}  # task id -> selection, facts or ''
        # Host names of the inventory before any task ran: add_host on one of them creates nothing.
        self._inventory_hosts: set[str] | None = None
        self._not_written: str | None = None  # why the playbook's manifest directory cannot be written

    # --- the start ---------------------------------------------------------------------------

    def _warn_once(self, message: str) -> None:
        if message not in self._warned:
            self._warned.add(message)
            self._display.warning(f"relaunch.status.manifest: {message}")

    def _stop_before_anything_runs(self, message: str) -> None:
        self._display.error(f"relaunch.status.manifest: {message}", wrap_text=False)
        # No ansible-native way stops a run from a callback: send_callback turns an exception into a warning
        # (AnsibleCallbackError from 2.19 on), and TaskQueueManager.terminate() makes every play end at once with
        # exit code 0. SystemExit passes "except Exception"; PlaybookExecutor.run's "finally" still cleans up
        # the TaskQueueManager and the loader's temporary files, and ansible-playbook exits 1.
        raise SystemExit(1)

    def v2_playbook_on_start(self, playbook) -> None:
        args = context.CLIARGS
        if any(args.get(option) for option in _LISTING_OPTIONS):
            return
        self._find_task_queue_manager()
        self._finish_interrupted()  # a previous playbook that never reached its stats
        self._not_written = None
        playbook_path = os.path.abspath(to_text(compat.playbook_file(playbook)))
        given_limit = to_text(args.get("subset") or "")
        self._refuse_a_stale_limit_file(given_limit, playbook, playbook_path)
        try:
            run = self._runs.open(self.get_option("manifest_dir"), playbook_path, self.get_option("keep"))
        except RelaunchError as exc:
            if self.get_option("require_manifest"):
                self._stop_before_anything_runs(f"require_manifest is set and no manifest can be written: {exc}")
            self._warn_once(f"no manifest will be written: {exc}")
            self._not_written = str(exc)  # said again where the summary would be
            return
        self._run = run
        self._playbook = Playbook(
            plays=list(playbook.get_plays()),
            resolver=IdentityResolver(
                playbook.get_loader(),
                self.get_option("identity_vars"),
                source_directories(args.get("inventory"), os.path.dirname(playbook_path)),
            ),
            loader=playbook.get_loader(),
            passwords=self._tqm.passwords if self._tqm is not None else None,
            rescued_seen=dict(compat.tqm_rescued(self._tqm)) if self._tqm is not None else {},
            command_line=command.CommandLine.from_args(args),
        )
        self._emit(self._start_event(run, given_limit))

    def _find_task_queue_manager(self) -> None:
        if not self._tqm_searched:
            self._tqm_searched = True
            self._tqm = compat.find_task_queue_manager()
            if self._tqm is None:
                self._display.warning(f"relaunch.status.manifest: {compat.APPROXIMATE_WITHOUT_TQM}")

    def _refuse_a_stale_limit_file(self, given_limit: str, playbook, playbook_path: str) -> None:
        """A limit file means the hosts of its manifest; once the inventory changed, its names may mean others, and
        a renamed host is no longer among them (a warning says so: it stays pending)."""
        inventory = compat.tqm_inventory(self._tqm) if self._tqm is not None and "@" in given_limit else None
        if inventory is None:
            return
        stale = late("_selector").stale_limit_file(
            given_limit,
            inventory,
            playbook.get_loader(),
            self.get_option("identity_vars"),
            os.path.dirname(playbook_path),
            warn=self._warn_once,
        )
        if stale:
            self._stop_before_anything_runs(stale)

    def _start_event(self, run: PlaybookRun, given_limit: str) -> dict:
        line = self._playbook.command_line
        # What the limit selected, not a path to a limit file that the end of this run rewrites.
        limit = late("_selector").selected_limit(given_limit) if "@" in given_limit else given_limit
        if limit is None:
            limit = given_limit
            self._display.warning(
                f"relaunch.status.manifest: --limit {given_limit}: a limit file holds a line with a comma or cannot "
                "be read; the manifest records the limit as given"
            )
        return {
            "e": "start",
            "run_id": run.run_id,
            "playbook": run.playbook,
            "started": store.layout.utc_now(),
            "check_mode": line.check,
            "ansible_version": ansible_version,
            "invocation": {
                "limit": limit,
                "limit_given": given_limit,
                "inventory": list(line.inventory),
                "tags": list(line.tags),
                "skip_tags": list(line.skip_tags),
            },
            "passwords_needed_to_start": command.passwords_needed_to_start(
                line, C.DEFAULT_VAULT_IDENTITY_LIST, C.DEFAULT_VAULT_IDENTITY
            ),
        }

    def _emit(self, event: dict) -> None:
        if self._run is not None:
            self._run.emit(event)

    def _verdict(self) -> None:
        if self._tqm is not None:
            self._emit({"e": "verdict", "failed": sorted(compat.tqm_failed_hosts(self._tqm))})

    def _see_hosts(self, hosts) -> None:
        playbook = self._playbook
        for host in hosts:
            if host.name not in playbook.seen_hosts:
                playbook.seen_hosts.add(host.name)
                identity, variable = playbook.resolver.resolve(host)
                self._emit({"e": "host", "name": host.name, "identity": identity, "identity_var": variable})

    # --- events ----------------------------------------------------------------------------

    def v2_playbook_on_play_start(self, play) -> None:
        playbook = self._playbook
        if self._run is None:
            return
        inventory = compat.play_inventory(play)
        if self._inventory_hosts is None:
            self._inventory_hosts = set(inventory.hosts)
        batch = inventory.get_hosts(play.hosts, order=play.order)
        # The play's name is kept for its failures, redacted there: a templated name may hold a secret.
        event = {"e": "play", "batch": [host.name for host in batch]}
        self._see_hosts(batch)
        if compat.object_id(play) != playbook.play_uuid:
            playbook.play_uuid = compat.object_id(play)
            playbook.started_plays.add(playbook.play_uuid)
            batch_names = set(event["batch"])
            pending = [
                host
                for host in inventory.get_hosts(play.hosts, ignore_restrictions=True, order=play.order)
                if host.name not in batch_names
            ]
            self._see_hosts(pending)
            event["pending"] = [host.name for host in pending]
        playbook.play_name = to_text(play.get_name())
        playbook.play = play
        playbook.groups = list(inventory.groups)
        self._verdict()
        self._emit(event)

    def _record_unstarted_plays(self) -> None:
        """Record the hosts of the plays that never started (Ctrl-C, an aborted play) as not_run."""
        if self._run is not None:
            hosts = self._playbook.unstarted_hosts()
            if hosts:
                self._see_hosts(hosts.values())
                self._emit({"e": "unstarted", "hosts": list(hosts)})

    def _result(self, result, host, task, outcome: str, ignored: bool = False) -> None:
        playbook = self._playbook
        if host.name not in playbook.seen_hosts:
            self._see_hosts([host])
        event = {"e": "result", "host": host.name, "outcome": outcome}
        task_id = compat.object_id(task)
        kind = self._selection_tasks.get(task_id)
        if kind is None:
            kind = self._selection_tasks[task_id] = (
                "selection" if is_selection(task) else "facts" if is_implicit_fact_gathering(task) else ""
            )
        # Facts gathered are no work of the run; a host that could not gather them failed, and that is an outcome.
        if kind == "selection" or (kind == "facts" and outcome not in ("failed", "unreachable")):
            event["selection"] = True
            # The relaunch_info task of the select role kept a subset of the hosts: the run was narrowed.
            if outcome == "ok" and narrowed(task, compat.result_data(result)):
                event["narrowed"] = True
        if outcome in ("failed", "unreachable"):
            event.update(self._failure(result, host, task, outcome, ignored))
        self._emit(event)

    def _failure(self, result, host, task, outcome: str, ignored: bool) -> dict:
        """The keys of a failed or unreachable result event: every text taken from the run is free of its secrets."""
        playbook = self._playbook
        data = compat.result_data(result)
        rescued = False
        if self._tqm is not None and outcome == "failed" and not ignored:
            # ansible-core counts a rescued failure before it calls back.
            count = compat.tqm_rescued(self._tqm).get(host.name, 0)
            rescued = count > playbook.rescued_seen.get(host.name, 0)
            playbook.rescued_seen[host.name] = count
        no_log = bool(task.no_log) or bool(data.get("censored"))
        # A no_log task's message is not kept at all, but its name is, templated like any other.
        secrets = playbook.known_secrets().for_failure(playbook.play, host)
        redact = late("_secrets").redact
        return {
            "ignored": ignored,
            "rescued": rescued,
            "play": redact(playbook.play_name, secrets),
            "task": redact(to_text(task.get_name()), secrets),
            "action": to_text(task.action),
            "msg": failure_message(data, no_log, secrets),
        }

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
            identity_vars = self.get_option("identity_vars")
            for added in added_hosts(compat.result_data(result)):
                event = provision_event(host.name, added, self._inventory_hosts or (), identity_vars)
                if event is not None:
                    self._emit(event)
        self._result(result, host, task, "changed" if result.is_changed() else "ok")

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
        if self._run is None:
            if self._not_written and self._summary_wanted():
                self._display.display(late("_core.summary").not_written_summary(self._not_written))
            return
        self._record_unstarted_plays()
        self._verdict()
        # summarize()'s keys are the recorder's COUNTERS on 2.16 to 2.21 (ansible/executor/stats.py).
        self._emit({"e": "stats", "hosts": {name: stats.summarize(name) for name in stats.processed}})
        self._finish(complete=True)

    # --- the end ---------------------------------------------------------------------------

    def _finish(self, complete: bool, summary: bool = True) -> None:
        run, playbook, self._run, self._playbook = self._run, self._playbook, None, None
        if run is None:
            return
        snapshot, warning = run.finish(complete, self.get_option("keep"), playbook.groups, self._inventory_hosts)
        if warning:
            self._warn_once(warning)
        if not summary or not self._summary_wanted():
            return
        if snapshot is None:
            self._display.display(late("_core.summary").not_written_summary(run.not_written))
        else:
            self._display.display(self._summary(run, playbook, snapshot))

    def _finish_interrupted(self, summary: bool = True) -> None:
        if self._run is not None and self._runs.in_this_process():
            self._record_unstarted_plays()
            self._finish(complete=False, summary=summary)

    def _summary(self, run: PlaybookRun, playbook: Playbook, snapshot) -> str:
        front = command.front_end(os.environ)
        files, rollout_pending = relaunch_files(run.directory, run.run_id, snapshot.head["retry_counts"])
        relaunch = None
        if not snapshot.head.get("check_mode") and all(os.path.isfile(path) for path in files):
            relaunch = command.relaunch_command(run.playbook, files, playbook.command_line, front)
        merged = not snapshot.head.get("check_mode") and snapshot.head.get("rollout") is not None

        def group_command(group_id: str) -> str | None:
            """The command that relaunches one failure group of the rollout, through its limit file."""
            path = store.layout.failure_limit_file(run.directory, group_id)
            if not merged or not os.path.isfile(path):
                return None
            return command.relaunch_command(run.playbook, [path], playbook.command_line, front)

        return late("_core.summary").relaunch_summary(
            snapshot.head,
            snapshot.hosts("failed"),
            run.directory,
            relaunch,
            front.absolute_paths,
            rollout_pending,
            group_command,
        )

    def _summary_wanted(self) -> bool:
        stdout_callback = str(C.DEFAULT_STDOUT_CALLBACK or "")
        return bool(self.get_option("summary")) and "json" not in stdout_callback
