# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hypothesis profiles: a fast one for every test run, a long one for scripts/soak.

``HYPOTHESIS_PROFILE=soak`` selects the long runs (``HYPOTHESIS_SOAK_EXAMPLES``
examples per property, 1000 by default); they use a fixed seed (``derandomize``)
so that CI runs the same examples every time and a failure can be reproduced
with the same command. The fast profile draws new examples on every run.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_COMMON = {
    "deadline": None,  # tests never assert on timings
    "database": None,  # no .hypothesis directory in the working tree
    "print_blob": True,  # a failure prints the blob that replays it
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
}
settings.register_profile("fast", max_examples=150, **_COMMON)
settings.register_profile(
    "soak", max_examples=int(os.environ.get("HYPOTHESIS_SOAK_EXAMPLES", "1000")), derandomize=True, **_COMMON
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "fast"))
