"""pytest configuration: the shared fixtures of harness.py for every e2e test."""
from harness import procs  # noqa: F401  (fixture)
