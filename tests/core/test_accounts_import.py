"""Importing the accounts module costs no password hash: every station process imports it (the
bulletin service writes audit rows), and one argon2 hash holds ~64 MB for a moment — on a 4 GB PC
running serve, a CLI render and the console, that is memory for nothing."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import argon2
calls = []
real = argon2.PasswordHasher.hash
argon2.PasswordHasher.hash = lambda self, *a, **k: calls.append(1) or real(self, *a, **k)
import broadcaster.station.facade  # the station, its bulletin service and the accounts module
print(len(calls))
from broadcaster import accounts
accounts._dummy_hash()
print(len(calls))
"""


def test_importing_the_station_hashes_no_password():
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, check=True)
    at_import, after_first_use = out.stdout.split()
    assert at_import == "0", "a password hash was computed at import"
    assert after_first_use == "1"  # the probe sees hashes: the dummy one is made when first needed
