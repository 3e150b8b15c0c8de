# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run ansible-playbook in this process and count the CPU time spent inside one callback plugin.

``python -m bench.probe OUT.json CALLBACK_NAME ansible-playbook-args...``

A/B runs of a whole ansible-playbook measure what a user sees but are noisy on
a busy machine; this counts the callback's own share of one run directly: the
process time of every call into its ``v2_*`` methods, of loading it, and of
its end-of-run work.
"""

from __future__ import annotations

import atexit
import functools
import json
import sys
import time


def main() -> None:
    out, name, *args = sys.argv[1:]
    from ansible.executor.task_queue_manager import TaskQueueManager

    spent = {"load_callbacks_s": 0.0, "methods_s": 0.0, "calls": 0, "by_method": {}}
    clock = time.thread_time  # this thread only: the results thread runs meanwhile

    def timed(method):
        @functools.wraps(method)
        def wrapper(*a, **kw):
            start = clock()
            try:
                return method(*a, **kw)
            finally:
                took = clock() - start
                spent["methods_s"] += took
                spent["calls"] += 1
                spent["by_method"][method.__name__] = spent["by_method"].get(method.__name__, 0.0) + took

        return wrapper

    original = TaskQueueManager.load_callbacks

    def load_callbacks(self):
        start = clock()
        try:
            return original(self)
        finally:
            spent["load_callbacks_s"] += clock() - start
            for plugin in self._callback_plugins:
                if getattr(plugin, "_load_name", "") == name or getattr(plugin, "CALLBACK_NAME", "") == name:
                    for attr in list(plugin._implemented_callback_methods):
                        method = getattr(plugin, attr)
                        if not getattr(method, "_probed", False):  # load_callbacks may run more than once
                            method = timed(method)
                            method._probed = True
                            setattr(plugin, attr, method)

    TaskQueueManager.load_callbacks = load_callbacks
    begin = time.process_time()

    def report():
        spent["process_s"] = time.process_time() - begin
        with open(out, "w") as handle:
            json.dump(spent, handle)

    atexit.register(report)
    from ansible.cli.playbook import main as playbook_main

    sys.argv = ["ansible-playbook", *args]
    playbook_main()


if __name__ == "__main__":
    main()
