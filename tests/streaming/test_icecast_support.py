"""The tests' Icecast (tests/support/icecast.py): a free port taken before icecast2 binds it.

IcecastServer picks a free port, and icecast2 binds it a moment later: another process (another
test's server, a client's ephemeral port) may take it in between. The port chooser is made to
return a port a socket of this test holds (listening, like another server) first: start() must move
to the next port the chooser gives and succeed, or say clearly why when every port is taken.
"""

from __future__ import annotations

import socket

import pytest
from support import icecast
from support.icecast import ICECAST, IcecastServer

pytestmark = pytest.mark.skipif(not ICECAST, reason="icecast2 is not installed (Debian package icecast2)")


def _held() -> socket.socket:
    """A port another server listens on."""
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    return holder


def test_a_port_taken_before_icecast_binds_it_moves_the_server_to_a_free_one(monkeypatch):
    holder = _held()
    taken = holder.getsockname()[1]
    ports = iter([taken, icecast.free_port()])
    monkeypatch.setattr(icecast, "free_port", lambda: next(ports))
    server = IcecastServer()
    try:
        assert server.port == taken
        server.start()
        assert server.port != taken
        assert f":{server.port}/" in server.source_url("/dai.mp3") and f":{server.port}/" in server.listen_url()
        assert f"<port>{server.port}</port>" in server.config_path.read_text()
        assert server.admin("stats").startswith(b"<?xml")  # our own server answers, with our admin password
    finally:
        server.cleanup()
        holder.close()


def test_when_every_port_is_taken_start_says_why(monkeypatch):
    holders = [_held() for _ in range(6)]
    ports = iter([h.getsockname()[1] for h in holders])
    monkeypatch.setattr(icecast, "free_port", lambda: next(ports))
    server = IcecastServer()
    try:
        with pytest.raises(RuntimeError) as raised:
            server.start()
        message = str(raised.value)
        assert "could not bind" in message and str(holders[0].getsockname()[1]) in message, message
        assert "Could not create listener socket" in message, message  # icecast2's own reason
    finally:
        server.cleanup()
        for holder in holders:
            holder.close()


def test_a_restart_keeps_its_port_and_fails_clearly_when_it_was_taken_meanwhile():
    server = IcecastServer().start()
    port = server.port
    holder = None
    try:
        server.kill()
        holder = socket.socket()
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # past our own closed connections
        holder.bind(("127.0.0.1", port))  # another process took it while the server was down
        holder.listen()
        with pytest.raises(RuntimeError) as raised:
            server.start()
        assert server.port == port  # the test's source and listen URLs name this port
        assert f"could not bind port {port}" in str(raised.value), raised.value
        holder.close()
        holder = None
        server.start()
        assert server.port == port and server.admin("stats").startswith(b"<?xml")
    finally:
        if holder is not None:
            holder.close()
        server.cleanup()
