# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one error type of relaunch.status: a problem the user caused and can fix."""

from __future__ import annotations

import re
import reprlib

# Every character str.splitlines() breaks a line at, not only CR and LF.
_LINE_BREAKS = re.compile("[\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


def brief(value: object, limit: int = 80) -> str:
    """``repr(value)`` cut to ``limit`` characters, for values quoted in an error message.

    reprlib stops at a few levels of nesting, so a hostile value cannot exhaust the stack.
    """
    shortener = reprlib.Repr()
    shortener.maxstring = shortener.maxother = limit
    text = shortener.repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def counted(count: int, noun: str) -> str:
    """``count`` and ``noun`` in the right number: "1 host", "2 hosts", "0 hosts"."""
    return f"{count} {noun if count == 1 else noun + 's'}"


class RelaunchError(Exception):
    """A user-fixable problem.

    The message is one line that names the file or option at fault and what to
    do about it; plugins show it as it is, never with a traceback.
    """

    def __init__(self, message: str) -> None:
        super().__init__(_LINE_BREAKS.sub(" ", str(message)))
