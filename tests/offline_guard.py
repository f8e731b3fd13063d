"""A guard that records (and refuses) every attempt to open a network connection."""
from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator


class NetworkAttempted(OSError):
    pass


@contextlib.contextmanager
def no_network(monkeypatch) -> Iterator[list]:
    """Patch ``socket.socket.connect``/``connect_ex``: internet sockets are refused and each
    attempt is recorded in the yielded list (local UNIX sockets are allowed)."""
    attempts: list = []
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def guarded(real):
        def connect(self, address):
            if self.family in (socket.AF_INET, socket.AF_INET6):
                attempts.append(address)
                raise NetworkAttempted(f"network connection attempted: {address}")
            return real(self, address)
        return connect

    monkeypatch.setattr(socket.socket, "connect", guarded(real_connect))
    monkeypatch.setattr(socket.socket, "connect_ex", guarded(real_connect_ex))
    yield attempts
