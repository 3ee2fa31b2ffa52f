"""The project's container image, built once per session and shared by the container and deploy tests."""

from __future__ import annotations

import pytest

from fastpath.benchmarks.images import ensure_base
from tests.container.podman import Podman


@pytest.fixture(scope="session")
def podman(tmp_path_factory) -> Podman:
    return Podman(tmp_path_factory.mktemp("podman"))


@pytest.fixture(scope="session")
def scheduler_image(podman: Podman) -> str:
    """The repository's Dockerfile built on the debootstrap base (cached; the build reuses its layers)."""
    return podman.build_project(ensure_base())
