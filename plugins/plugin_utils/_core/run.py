# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The life of a recorded run: its run directory, journal and recorder, from the claim to the published manifest.

:class:`Runs` opens one :class:`PlaybookRun` per playbook file and finishes the one still open when the process
exits or is terminated (SIGTERM), so that a run stopped by Ctrl-C or ``kill`` leaves an interrupted manifest.
"""

from __future__ import annotations

import atexit
import os
import signal
from collections.abc import Callable, Iterable
from collections.abc import Set as AbstractSet

from . import store
from .errors import RelaunchError
from .recorder import Recorder, Snapshot

WRITABLE_DIRECTORY_HINT = "set RELAUNCH_MANIFEST_DIR to a writable directory"


def describe(exc: Exception, directory: str) -> str:
    """What went wrong with a manifest directory, as the one line a user is told."""
    if isinstance(exc, RelaunchError):
        return str(exc)
    return f"{directory}: {exc.strerror or exc}; {WRITABLE_DIRECTORY_HINT}"


def limit_texts(
    manifest: dict | Snapshot, group_names: list[str] | tuple = (), inventory_names: AbstractSet[str] | None = None
) -> dict[str, str]:
    """The limit file texts of a run's manifest, which the store writes: the selection engine makes them, and is
    loaded only then (at the end of a run, or at its start when a dead run is recovered)."""
    from .selection import limit_file_texts  # loaded late, as the store's modules are (store/__init__.py)

    return limit_file_texts(manifest, group_names, inventory_names)


class PlaybookRun:
    """One playbook file being recorded: its run directory, its journal and the recorder its events feed."""

    def __init__(self, directory: str, playbook: str, run_id: str, journal: store.journal.Journal) -> None:
        self.directory = directory
        self.playbook = playbook
        self.run_id = run_id
        self.journal = journal
        self.recorder = Recorder()
        self.journal_error: str | None = None  # why the journal stopped, told once at the end
        self.not_written: str | None = None  # why the manifest could not be published, once finish() failed

    def emit(self, event: dict) -> None:
        """Journal an event, then apply it; a journal that cannot be written is given up, the recording goes on."""
        if self.journal_error is None:
            try:
                self.journal.append(event)
            except OSError as exc:
                # Told at the end, when it is known whether the manifest itself could be written.
                self.journal_error = exc.strerror or str(exc)
                self.journal.close(remove=False)
        self.recorder.apply(event)

    def finish(
        self, complete: bool, keep: int, groups: list[str], inventory_hosts: Iterable[str] | None
    ) -> tuple[Snapshot | None, str | None]:
        """Publish the run's manifest and limit files; returns the snapshot (None when nothing could be written)
        and a warning for the user, if any."""
        snapshot = self.recorder.snapshot(complete=complete, finished=store.layout.utc_now())
        names = None if inventory_hosts is None else frozenset(inventory_hosts)
        try:
            # The one place a run publishes.
            store.publishing.publish(
                self.directory, snapshot, keep, lambda manifest: limit_texts(manifest, groups, names), names
            )
        except (RelaunchError, OSError) as exc:
            self.journal.close(remove=False)
            self.not_written = describe(exc, self.directory)
            return None, f"manifest not written: {self.not_written}"
        self.journal.close(remove=True)
        if self.journal_error:
            return snapshot, (
                f"journal {self.journal.path} could not be written ({self.journal_error}); the manifest was written "
                "at the end, but a crash would have lost it"
            )
        return snapshot, None


class Runs:
    """Opens the runs of this process, and has the open one finished when the process exits or is terminated.

    ``on_interrupt(summary)`` finishes the open run as interrupted; ``summary`` is False from a signal handler,
    which must not print.
    """

    def __init__(self, on_interrupt: Callable[[bool], None]) -> None:
        self._pid = os.getpid()
        self._on_interrupt = on_interrupt
        self._previous_sigterm = None
        atexit.register(self._at_exit)

    def open(self, manifest_dir: str | None, playbook: str, keep: int) -> PlaybookRun:
        """Claim the playbook's run directory, recover the runs that died there, and start a journal.

        Raises RelaunchError, with one line that says what to do, when the directory cannot be written.
        """
        root = store.layout.manifest_root(manifest_dir, playbook)
        directory = store.layout.run_directory(root, playbook)
        try:
            directory = store.layout.claim_run_directory(root, playbook)  # the manifest root too, 0700
            store.recovery.recover(directory, keep, limit_texts)
            run_id = store.layout.new_run_id()
            journal = store.journal.Journal(directory, run_id)
        except (RelaunchError, OSError) as exc:
            raise RelaunchError(describe(exc, directory)) from None
        self._install_sigterm_handler()
        return PlaybookRun(directory, playbook, run_id, journal)

    def in_this_process(self) -> bool:
        """False in a forked worker, which must never finish the controller's run."""
        return os.getpid() == self._pid

    def _at_exit(self) -> None:
        if self.in_this_process():
            self._on_interrupt(True)

    def _install_sigterm_handler(self) -> None:
        # ansible-core's own handler forwards SIGTERM to workers and then dies
        # without running atexit; write the interrupted manifest first.
        if self._previous_sigterm is None:
            self._previous_sigterm = signal.getsignal(signal.SIGTERM)
            signal.signal(signal.SIGTERM, self._on_sigterm)

    def _on_sigterm(self, signum, frame) -> None:
        if self.in_this_process():
            self._on_interrupt(False)  # no printing from a signal handler
        previous = self._previous_sigterm
        if callable(previous):
            previous(signum, frame)
        else:
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
