"""`fastpath sut`: look at a SUT over SSH."""

from __future__ import annotations

import click


@click.group()
def sut() -> None:
    """Inspect a SUT over SSH."""
