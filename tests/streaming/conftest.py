"""Fixtures of the Icecast fan-out tests: a real icecast2 (tests/support/icecast.py)."""

from support.icecast import icecast_server  # noqa: F401  (fixture)
