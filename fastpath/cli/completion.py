"""`fastpath completion bash|zsh|fish`: the shell script that completes verbs and options."""

from __future__ import annotations

import click

SHELLS = ("bash", "zsh", "fish")
INSTALL = {
    "bash": 'eval "$(fastpath completion bash)"  # in ~/.bashrc',
    "zsh": 'eval "$(fastpath completion zsh)"   # in ~/.zshrc',
    "fish": "fastpath completion fish > ~/.config/fish/completions/fastpath.fish",
}


@click.command("completion")
@click.argument("shell", type=click.Choice(SHELLS))
def completion(shell: str) -> None:
    """Print the completion script of SHELL for the fastpath command.

    \b
    Examples:
      eval "$(fastpath completion bash)"     # in ~/.bashrc
      eval "$(fastpath completion zsh)"      # in ~/.zshrc
      fastpath completion fish > ~/.config/fish/completions/fastpath.fish
    """
    from click.shell_completion import get_completion_class

    from fastpath.cli import main

    cls = get_completion_class(shell)
    if cls is None:  # click.Choice lets only the shells click knows through
        raise click.BadParameter(f"no completion for {shell}")
    click.echo(cls(main, {}, "fastpath", "_FASTPATH_COMPLETE").source())
