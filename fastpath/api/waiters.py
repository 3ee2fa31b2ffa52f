"""The API's waiting room: queued leases whose clients long-poll, as records, not threads.

A long-poll (`GET /leases/{id}?wait=N`) registers its lease here and awaits
a future. One task per process watches the change watcher
(`fastpath.store.changes`): on each change it asks the database, in one
query for all of them, which waiting leases left `queued`, and resolves
those futures. So a change costs one query, whatever the number of waiters,
and a waiter costs no thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from fastpath.store import changes
from fastpath.store.db import db
from fastpath.store.queries import leases

RunSync = Callable[..., Awaitable[Any]]


def _settled(ids: list[int]) -> set[int]:
    with db.connection_context():
        return leases.settled(ids)


class WaitingRoom:
    def __init__(self, run_sync: RunSync, watcher: Callable[[], changes.Watcher] = changes.watcher) -> None:
        self.run_sync, self._watcher = run_sync, watcher
        self.waiting: dict[int, set[asyncio.Future]] = {}
        self._task: asyncio.Task | None = None

    def __len__(self) -> int:
        return sum(len(x) for x in self.waiting.values())

    def generation(self) -> int:
        return self._watcher().generation

    async def wait(self, lease: int, seen: int, timeout: float, gone: asyncio.Future) -> None:
        """Return when `lease` leaves `queued`, the client is `gone`, or after `timeout`.

        `seen` is the generation read before the caller found the lease queued:
        a change since then is checked here, the later ones by the watch task.
        """
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self.waiting.setdefault(lease, set()).add(future)
        try:
            now = self.generation()
            if self._task is None or self._task.done():
                self._task = loop.create_task(self._watch(now))
            if now != seen and lease in await self.run_sync(_settled, [lease]):
                return
            await asyncio.wait({future, gone}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            futures = self.waiting.get(lease)
            if futures is not None:
                futures.discard(future)
                if not futures:
                    del self.waiting[lease]

    async def _watch(self, seen: int) -> None:
        watcher = self._watcher()
        while self.waiting:
            now = await watcher.changed(seen, 5.0)
            if now == seen:
                continue
            seen = now  # before the read: a change during it triggers another
            try:
                done = await self.run_sync(_settled, list(self.waiting))
            except Exception:  # the database is away: the waiters' deadlines still hold
                await asyncio.sleep(0.5)
                continue
            for lease in done:
                for future in self.waiting.pop(lease, ()):
                    if not future.done():
                        future.set_result(None)
