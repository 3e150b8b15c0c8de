# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``ansible-relaunch run``: run a playbook, then rerun it on the hosts still to do, a bounded number of times,
and end with one verdict. A thin front end: the decisions are in ``_core/attempts.py``, the inventory and the
selection in ``_rollout.py``; each attempt is a real ``ansible-playbook`` process.

``ansible-relaunch report``: which hosts keep failing, and why, as text, HTML, JUnit XML or Markdown; the report
itself is built and rendered in ``_core/report.py``.

Usage: ``ansible-relaunch run [--attempts N] [--delay S] [--backoff F] [--retry STATUSES] [--resume]
[--json FILE] -- ANSIBLE-PLAYBOOK ARGS...``; ``ansible-relaunch report [--manifest-dir DIR | PATH] [PLAYBOOK]
[--html FILE] [--junit FILE] [--markdown]`` (docs/command.md, docs/report.md).
"""

from __future__ import annotations

import argparse
import getpass
import importlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

from ansible_collections.relaunch.status.plugins.plugin_utils._core import attempts, history, store
from ansible_collections.relaunch.status.plugins.plugin_utils._core.errors import RelaunchError, counted

COLLECTION = "ansible_collections.relaunch.status"
PROG = "ansible-relaunch"
INTERRUPTED = 130  # the shell's code for Ctrl-C, whatever ansible-playbook returned (its own is 99)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="Run a playbook and retry the hosts left to do.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser(
        "run",
        help="run ansible-playbook, then retry the hosts still to do",
        description="Run ansible-playbook with ARGS, then rerun it on the hosts still to do, up to --attempts runs.",
    )
    run.add_argument("--attempts", type=int, default=3, help="ansible-playbook runs at most (default 3)")
    run.add_argument("--delay", type=float, default=0.0, help="seconds to wait before the second attempt")
    run.add_argument("--backoff", type=float, default=1.0, help="factor the delay grows by after each attempt")
    run.add_argument(
        "--retry",
        default=",".join(attempts.PENDING_STATUSES),
        help="statuses to retry, separated by commas (default failed,unreachable,not_run)",
    )
    run.add_argument("--resume", action="store_true", help="skip the full first run: continue the current rollout")
    run.add_argument("--json", metavar="FILE", help="write the summary as a JSON document")
    run.add_argument("args", nargs=argparse.REMAINDER, help="-- then ansible-playbook's own arguments")
    add_report_parser(commands)
    return parser


def add_report_parser(commands) -> None:
    report = commands.add_parser(
        "report",
        help="which hosts keep failing, and why: text, HTML, JUnit XML or Markdown",
        description="Report a playbook's rollout, failure groups, flaky and chronic hosts from its kept runs.",
    )
    report.add_argument(
        "locations",
        nargs="*",
        metavar="PATH | PLAYBOOK",
        help="a manifest file or directory, and/or the playbook (default: the manifest directory of the playbook)",
    )
    report.add_argument("--manifest-dir", metavar="DIR", help="the manifest directory (default: as the callback's)")
    report.add_argument("--html", metavar="FILE", help="write a self-contained HTML page")
    report.add_argument("--junit", metavar="FILE", help="write JUnit XML: one test case per host")
    report.add_argument("--markdown", action="store_true", help="print Markdown (for $GITHUB_STEP_SUMMARY)")
    report.add_argument("--flaky-runs", type=int, default=history.FLAKY_RUNS, help="runs flaky looks at (10)")
    report.add_argument("--flaky-flips", type=int, default=history.FLAKY_FLIPS, help="flips that make flaky (3)")
    report.add_argument("--chronic-runs", type=int, default=history.CHRONIC_RUNS, help="failures in a row (3)")


def main(argv: list[str] | None = None) -> int:
    """The ``ansible-relaunch`` command; returns its exit code."""
    parser = build_parser()
    options = parser.parse_args(argv)
    # The collection was imported here as a plain package (an entry point, python -m). ansible-core loads plugins
    # through its own collection loader, which must import the collection itself: install it, forget the plain
    # import, and run this module again as that loader imports it.
    from ansible.plugins.loader import init_plugin_loader

    init_plugin_loader()
    for name in [name for name in sys.modules if name == COLLECTION or name.startswith(COLLECTION + ".")]:
        del sys.modules[name]
    return importlib.import_module(f"{COLLECTION}.plugins.plugin_utils._cli").run_command(parser, options)


def run_command(parser: argparse.ArgumentParser, options: argparse.Namespace) -> int:
    """The command, once this module is imported through ansible-core's collection loader."""
    if options.command == "report":
        return report_command(parser, options)
    args = list(options.args)
    if args[:1] == ["--"]:
        args = args[1:]
    if not args:
        parser.error("give ansible-playbook's arguments after --, e.g. -- -i inventory site.yml")
    if options.attempts < 1 or options.delay < 0 or options.backoff < 1:
        parser.error("--attempts must be 1 or more, --delay 0 or more and --backoff 1 or more")
    try:
        statuses = attempts.parse_retry(options.retry)
        return Loop(options, args, statuses).run()
    except RelaunchError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"\n{PROG}: interrupted", file=sys.stderr)
        return INTERRUPTED


def report_command(parser: argparse.ArgumentParser, options: argparse.Namespace) -> int:
    """``ansible-relaunch report``: the report on stdout (text, or Markdown), and the files asked for."""
    from ansible_collections.relaunch.status.plugins.plugin_utils._core import report

    try:
        thresholds = history.Thresholds(options.flaky_runs, options.flaky_flips, options.chronic_runs)
        directory = report_directory(parser, options)
        latest_path = store.reading.latest_manifest(directory)
        latest = store.reading.load(latest_path) if latest_path else None
        found = report.build(directory, latest, store.runs.newest_run_manifests(directory), thresholds)
        if latest is None and not found.runs:
            raise RelaunchError(
                f"no manifest in {directory}; run the playbook with the relaunch.status.manifest callback enabled first"
            )
        for path, content in ((options.html, report.html(found)), (options.junit, report.junit(found))):
            if path:
                _write(path, content)
                print(f"{PROG}: wrote {path}", file=sys.stderr)
        print(report.markdown(found) if options.markdown else report.text(found), end="", flush=True)
    except RelaunchError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    return 0


def report_directory(parser: argparse.ArgumentParser, options: argparse.Namespace) -> str:
    """The run directory to report on: that of the manifest PATH names, or the playbook's, found as the callback
    finds it (--manifest-dir, else RELAUNCH_MANIFEST_DIR or ansible.cfg, else ``.relaunch`` beside it)."""
    paths = [item for item in options.locations if os.path.isdir(item) or item.endswith((".json", ".journal"))]
    playbooks = [item for item in options.locations if item not in paths]
    if len(paths) > 1 or len(playbooks) > 1 or (paths and options.manifest_dir):
        parser.error("give at most one manifest PATH (or --manifest-dir DIR) and one PLAYBOOK")
    playbook = playbooks[0] if playbooks else None
    if playbook and not os.path.isfile(playbook):
        raise RelaunchError(f"playbook {playbook} does not exist; give an existing playbook or a manifest directory")
    if paths:
        return os.path.dirname(store.reading.locate(paths[0], playbook))
    from ansible_collections.relaunch.status.plugins.plugin_utils import _selector

    configured = options.manifest_dir or _selector.configured("manifest_dir")
    if playbook:
        root = store.layout.manifest_root(configured, playbook)
        return store.layout.run_directory(root, os.path.abspath(playbook))
    root = os.path.abspath(os.path.expanduser(str(configured))) if configured else os.path.abspath(".relaunch")
    return os.path.dirname(store.reading.locate(root))


def _write(path: str, content: str | bytes) -> None:
    try:
        with open(path, "wb") as handle:
            handle.write(content.encode("utf-8") if isinstance(content, str) else content)
    except OSError as exc:
        raise RelaunchError(f"cannot write {path}: {exc.strerror}; give a file in a directory you can write") from exc


class Loop:
    """The attempts of one ``ansible-relaunch run``."""

    def __init__(self, options: argparse.Namespace, args: list[str], statuses: list[str]) -> None:
        from ansible_collections.relaunch.status.plugins.plugin_utils._rollout import Playbook

        self.options = options
        self.args = args
        try:
            self.playbook = Playbook(args)
        except SystemExit as exc:  # ansible-core's own parser printed what is wrong
            raise RelaunchError(f"ansible-playbook refused its arguments: {' '.join(args)}") from exc
        self.rollout = attempts.Rollout(
            self.playbook.path, self.playbook.run_directory, statuses, resumed=options.resume
        )
        self.passwords = self._ask_passwords()
        self.playbook.use_vault_passwords(self.passwords)
        self.env = self._environment()
        self.base_args = attempts.without_prompts(args) if self.passwords else list(args)
        self.executable = _ansible_playbook()

    def _ask_passwords(self) -> dict[str, str]:
        """Each password ansible-playbook would prompt for, asked once here for every attempt."""
        answers: dict[str, str] = {}
        for name in self.playbook.passwords():
            answer = getpass.getpass(attempts.prompt_text(name))
            if name == "become_password" and not answer and "ssh_password" in answers:
                answer = answers["ssh_password"]  # as ansible-playbook: an empty become password is the SSH one
            answers[name] = answer
        return answers

    def _environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env["ANSIBLE_CALLBACKS_ENABLED"] = attempts.callbacks_enabled(self.playbook.callbacks())
        if self.passwords:
            # The passwords come through pipes: prompts turned on in ansible.cfg must not ask again.
            env.update(dict.fromkeys(attempts.PROMPT_SETTINGS, "False"))
            vault_ids = self.playbook.vault_identity_list()
            if attempts.without_prompt_vault_ids(vault_ids) != vault_ids:
                env["ANSIBLE_VAULT_IDENTITY_LIST"] = ",".join(attempts.without_prompt_vault_ids(vault_ids))
        return env

    def continue_command(self) -> str:
        options = self.options
        words = []
        for flag, value, default in (
            ("--attempts", options.attempts, 3),
            ("--delay", options.delay, 0.0),
            ("--backoff", options.backoff, 1.0),
            ("--retry", ",".join(self.rollout.statuses), ",".join(attempts.PENDING_STATUSES)),
            ("--json", options.json, None),
        ):
            if value != default:
                words += [flag, f"{value:g}" if isinstance(value, float) else str(value)]
        return attempts.continue_command(self.args, words)

    def run(self) -> int:
        signal.signal(signal.SIGTERM, _interrupt)  # a CI job cancelled between two attempts
        scope = None
        if not self.options.resume:
            first = self._attempt(1, self.base_args, None)
            if first.interrupted or first.manifest is None:
                return self._finish()
            scope = os.path.join(self.playbook.run_directory, first.run_id + store.layout.MANIFEST)
        elif not os.path.isfile(os.path.join(self.playbook.run_directory, store.layout.LATEST)):
            raise RelaunchError(
                f"--resume: no rollout to continue in {self.playbook.run_directory}; run without --resume first"
            )
        if self.playbook.check_mode:
            # A dry run changes no rollout: a second one would run the same hosts again.
            print(f"{PROG}: a --check run is a dry run; it changes nothing to retry, so it is made once", flush=True)
            return self._finish()
        limit = None if scope else attempts.option_value(self.args, ("-l", "--limit"))
        waits = attempts.delays(self.options.delay, self.options.backoff)
        for number in range(len(self.rollout.attempts) + 1, self.options.attempts + 1):
            if self.playbook.nothing_left(self.rollout.statuses):
                break  # the rollout's counts say so: no inventory to build
            names, patterns = self.playbook.next_hosts(self.rollout.statuses, scope, limit)
            if not names:
                break
            if self.rollout.attempts:
                wait = next(waits)
                if wait:
                    print(f"{PROG}: {counted(len(names), 'host')} to retry; attempt {number} in {wait:g} s", flush=True)
                    try:
                        time.sleep(wait)
                    except KeyboardInterrupt:
                        return self._finish(interrupted=True)
            attempt = self._limited_attempt(number, names, patterns)
            if attempt.interrupted or attempt.manifest is None:
                break
        return self._finish()

    def _limited_attempt(self, number: int, names: list[str], patterns: list[str]) -> attempts.Attempt:
        handle, path = tempfile.mkstemp(prefix="relaunch-", suffix=".limit", text=True)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as limit_file:
                limit_file.write("".join(pattern + "\n" for pattern in patterns))
            return self._attempt(number, [*self.base_args, "--limit", "@" + path], names)
        finally:
            os.unlink(path)

    def _attempt(self, number: int, args: list[str], targeted: list[str] | None) -> attempts.Attempt:
        """Run ansible-playbook once; its run manifest is the newest one that appeared while it ran."""
        before = set(attempts.run_manifests(self.playbook.run_directory))
        shown = "" if targeted is None else f" on {counted(len(targeted), 'host')}: {', '.join(targeted[:10])}"
        print(f"{PROG}: attempt {number} of {self.options.attempts}{shown}", flush=True)
        with PasswordPipes(self.passwords) as pipes:
            command = [self.executable, *args, *pipes.options]
            attempt = attempts.Attempt(number, command, targeted=targeted)
            self.rollout.attempts.append(attempt)
            with subprocess.Popen(command, env=self.env) as process:
                pipes.feed()
                self._wait(process, attempt)
        new = attempts.new_run_manifests(self.playbook.run_directory, before)
        if new:
            attempt.run_id = new[-1][: -len(store.layout.MANIFEST)]
            attempt.manifest = store.reading.load(os.path.join(self.playbook.run_directory, new[-1]))
        elif not attempt.interrupted:
            print(f"{PROG}: attempt {number} wrote no manifest (exit code {attempt.rc}); stopping", file=sys.stderr)
        return attempt

    @staticmethod
    def _wait(process: subprocess.Popen, attempt: attempts.Attempt) -> None:
        previous = signal.signal(signal.SIGTERM, _forwarding(process))
        try:
            attempt.rc = process.wait()
        except KeyboardInterrupt:
            # Ctrl-C reached ansible-playbook too (the same process group): let it record the interrupted run.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            attempt.rc = process.wait()
            attempt.interrupted = True
        finally:
            signal.signal(signal.SIGTERM, previous)

    def _finish(self, interrupted: bool = False) -> int:
        self.rollout.interrupted = interrupted or any(attempt.interrupted for attempt in self.rollout.attempts)
        command = self.continue_command()
        print("\n".join(attempts.summary_lines(self.rollout, command)), flush=True)
        code = self.rollout.exit_code()
        if code == INTERRUPTED:
            print(f"{PROG}: interrupted; continue with: {command}", flush=True)
        if self.options.json:
            document = attempts.document(self.rollout, command)
            with open(self.options.json, "w", encoding="utf-8") as handle:
                json.dump(document, handle, indent=2)
                handle.write("\n")
        return code


def _ansible_playbook() -> str:
    """The ansible-playbook to run: the one on PATH, else the one beside this Python (a venv not activated)."""
    found = shutil.which("ansible-playbook")
    beside = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    if found is None and os.access(beside, os.X_OK):
        found = beside
    if found is None:
        raise RelaunchError(
            f"ansible-playbook is neither on PATH nor beside {sys.executable}; put ansible-core's bin directory on PATH"
        )
    return found


def _interrupt(_signum, _frame) -> None:
    raise KeyboardInterrupt


def _forwarding(process: subprocess.Popen):
    """A SIGTERM handler that passes the signal on to the running attempt (a CI system that cancels a job may
    signal the command alone), then stops the loop as Ctrl-C does."""

    def handler(signum, _frame) -> None:
        process.send_signal(signum)
        raise KeyboardInterrupt

    return handler


class PasswordPipes:
    """Named pipes (in a private directory) that hand each password to one ansible-playbook run.

    ansible-playbook reads its password files once, at the start; a pipe holds the password in memory only,
    never on disk. (An inherited ``/dev/fd/N`` does not do: ansible-core resolves the path to a name it cannot
    open.)
    """

    def __init__(self, passwords: dict[str, str]) -> None:
        self.passwords = passwords
        self.directory: str | None = None
        self.options: list[str] = []
        self.paths: list[str] = []
        self.threads: list[threading.Thread] = []

    def __enter__(self) -> PasswordPipes:
        if self.passwords:
            self.directory = tempfile.mkdtemp(prefix="relaunch-")  # 0700: only this user can open the pipes
            for index, name in enumerate(self.passwords):
                path = os.path.join(self.directory, str(index))
                os.mkfifo(path, 0o600)
                self.paths.append(path)
                self.options += attempts.password_option(name, path)
        return self

    def feed(self) -> None:
        """Write each password as ansible-playbook opens its pipe (in threads: an open blocks until then)."""
        for path, password in zip(self.paths, self.passwords.values()):
            thread = threading.Thread(target=_write_pipe, args=(path, password), daemon=True)
            thread.start()
            self.threads.append(thread)

    def __exit__(self, *exc_info) -> None:
        for path, thread in zip(self.paths, self.threads):
            if thread.is_alive():  # never read (the run stopped before): open the other end to release the writer
                fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
                thread.join(5)
                os.close(fd)
        if self.directory:
            shutil.rmtree(self.directory, ignore_errors=True)


def _write_pipe(path: str, password: str) -> None:
    try:
        with open(path, "wb") as pipe:
            pipe.write(password.encode("utf-8") + b"\n")
    except OSError:
        pass  # the reader went away: the run reports its own error


if __name__ == "__main__":
    sys.exit(main())
