"""Open SSH connections kept per SUT, because each new one costs a handshake."""

from __future__ import annotations

import threading
from collections.abc import Callable

from fastpath.sut.remote import Remote, Target


class Connections:
    """A thread-safe cache of one live connection per SUT name."""

    def __init__(self, connect: Callable[[Target], Remote] = Remote.connect) -> None:
        self._connect = connect
        self._open: dict[str, Remote] = {}
        self._lock = threading.Lock()

    def get(self, target: Target) -> Remote:
        with self._lock:
            remote = self._open.pop(target.name, None)
        if remote is not None and remote.target == target and remote.alive():
            with self._lock:
                self._open.setdefault(target.name, remote)
            return remote
        if remote is not None:
            remote.close()
        remote = self._connect(target)
        with self._lock:
            old = self._open.pop(target.name, None)
            self._open[target.name] = remote
        if old is not None:
            old.close()
        return remote

    def open(self, target: Target) -> Remote:
        """A new connection, not cached: what a person logging in now would get."""
        return self._connect(target)

    def drop(self, name: str) -> None:
        with self._lock:
            remote = self._open.pop(name, None)
        if remote is not None:
            remote.close()

    def close(self) -> None:
        with self._lock:
            remotes, self._open = list(self._open.values()), {}
        for remote in remotes:
            remote.close()
