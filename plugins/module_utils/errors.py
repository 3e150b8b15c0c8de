# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one error type of relaunch.status: a problem the user caused and can fix."""

from __future__ import annotations


class RelaunchError(Exception):
    """A user-fixable problem.

    The message is one line that names the file or option at fault and what to
    do about it; plugins show it as it is, never with a traceback.
    """

    def __init__(self, message: str) -> None:
        super().__init__(str(message).replace("\r", " ").replace("\n", " "))
