"""The `fastpath` command.

Groups are imported only when used, and the modules behind them import their
heavy dependencies (falcon, peewee, paramiko) inside the commands that need
them, so that a listing against a server starts in a few tens of ms.
"""

from __future__ import annotations

import importlib

import click

# name -> ("module:attribute", summary) of each top-level group; the summaries
# let `fastpath --help` answer without importing any group.
GROUPS = {
    "sched": ("fastpath.cli.sched:sched", "Run the scheduler, and submit and manage plans and leases."),
    "preference": ("fastpath.cli.preference:preference", "Save and read preferences (URL, token)."),
    "sut": ("fastpath.cli.sut:sut", "Inspect a SUT over SSH."),
    "result": ("fastpath.cli.result:result", "List, analyse and merge resultstores."),
    "completion": ("fastpath.cli.completion:completion",
                   "Print the shell completion script (bash, zsh, fish)."),
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def __init__(self, *args, lazy: dict[str, tuple[str, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.lazy])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.lazy:
            module, attr = self.lazy[name][0].split(":")
            return getattr(importlib.import_module(module), attr)
        return super().get_command(ctx, name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, summary) for name, (_, summary) in sorted(self.lazy.items())]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, lazy=GROUPS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="fastpath-scheduler")
def main() -> None:
    """Fastpath: schedule benchmark plans and SUT leases over pools of identical SUTs."""
