import tests.conftest  # noqa: F401  (makes ansible_collections.relaunch.status importable, also for scripts/soak-crash)
