# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reaching the ansible-core object that is calling a plugin, where no API hands it over."""

from __future__ import annotations

import sys


def calling_object(pick):
    """The first non-None ``pick(obj)`` over the ``self`` of each calling frame, innermost first.

    Callbacks get no reference to the TaskQueueManager that calls them, and a
    play's ``hosts:`` is templated without ``hostvars``; the object that holds
    what is needed is a caller's ``self``. Returns None when no frame has it.
    """
    frame = sys._getframe(1)
    while frame is not None:
        found = pick(frame.f_locals.get("self"))
        if found is not None:
            return found
        frame = frame.f_back
    return None
