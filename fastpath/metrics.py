"""The Prometheus registry a process exposes, in multiprocess mode when there is a shared directory.

prometheus_client picks where metric values live when it is first imported:
in memory, or, when `PROMETHEUS_MULTIPROC_DIR` is set, in files of that
directory that any process may read and sum. `fastpath.sched.server` sets the
variable before the API workers and the controller start, so that one scrape
of any API worker shows every worker's and the controller's metrics.
"""

from __future__ import annotations

import os

from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector

ENV = "PROMETHEUS_MULTIPROC_DIR"


def shared_dir() -> str | None:
    return os.environ.get(ENV) or None


def process_registry() -> CollectorRegistry:
    """Every process's metrics from the shared directory, or this process's own."""
    if shared_dir() is None:
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    return registry


class Forward:
    """A collector that yields what another registry collects (to join it with others)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    def collect(self):
        return self.registry.collect()
