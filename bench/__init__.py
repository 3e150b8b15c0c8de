# Copyright (c) relaunch.status contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmarks of relaunch.status: callback overhead, recorder core, relaunch selection at scale.

Run with ``bench/run`` (sets everything up); results go to ``bench/results/``.
"""
