"""A free TCP port on loopback for a server a test (or a bench) starts: serve, uvicorn, Icecast.

    from support.ports import free_port

The port is free when asked, not reserved: the server binds it a moment later (a process that took
it meanwhile makes that start fail, with the server's own error)."""

from __future__ import annotations

import socket


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
