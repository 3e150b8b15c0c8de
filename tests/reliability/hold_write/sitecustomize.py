# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fault injection for the crash tests: hold the final write open so a SIGKILL lands in it.

A write of the manifest store lasts milliseconds, too short for a test to hit by polling
on a busy machine. With this directory on PYTHONPATH and RELAUNCH_TEST_HOLD_WRITE set to a
piece of a temporary file's name, the ansible-playbook process stops for a while just before
renaming that file into place: the temporary file is on disk, the rename has not happened,
and the test kills the process there. Nothing else in the process changes.
"""

import os
import time

_HOLD = os.environ.get("RELAUNCH_TEST_HOLD_WRITE")

if _HOLD:
    _rename = os.rename

    def _held_rename(src, dst, *args, **kwargs):
        if _HOLD in os.path.basename(os.fsdecode(src)) and os.fsdecode(src).endswith(".tmp"):
            time.sleep(300)  # the test SIGKILLs the process long before this ends
        return _rename(src, dst, *args, **kwargs)

    os.rename = _held_rename
