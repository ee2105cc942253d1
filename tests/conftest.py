"""Shared fixtures. Nothing here reaches the network: connections to anything but
loopback and local sockets are refused, so a test can never depend on Google."""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"

_real_connect = socket.socket.connect


def _guarded_connect(self, address):  # pragma: no cover - exercised only by a mistake
    if self.family in (socket.AF_INET, socket.AF_INET6):
        host = address[0]
        try:
            local = ipaddress.ip_address(host).is_loopback
        except ValueError:
            local = host == "localhost"
        if not local:
            raise ConnectionRefusedError(f"tests may not reach the network ({host})")
    return _real_connect(self, address)


@pytest.fixture(autouse=True)
def _no_network(monkeypatch):
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)


@pytest.fixture
def data_dir(tmp_path, monkeypatch) -> Path:
    """A fresh data directory, also exported as BROADCASTER_DATA_DIR."""
    directory = tmp_path / "data"
    monkeypatch.setenv("BROADCASTER_DATA_DIR", str(directory))
    return directory


@pytest.fixture
def settings(data_dir):
    """Offline settings on the fresh data directory (espeak-ng only: no network in tests)."""
    from broadcaster.config import load_settings

    return load_settings(data_dir, engine_order=["espeak"])


@pytest.fixture
def station(settings):
    from broadcaster.station.facade import Station

    st = Station.open(settings)
    yield st
    st.close()
