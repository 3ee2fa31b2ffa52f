"""`fastpath preference set|get`: settings kept in the user's config directory.

The file holds the scheduler token, so it is written with mode 0600 (and its
directory 0700), atomically: a crash never leaves half a file.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import click

from fastpath.cli.output import ExitStatus, fail

WORD = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")


def path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "fastpath" / "preferences.json"


def load() -> dict[str, dict[str, str]]:
    try:
        return json.loads(path().read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        fail(f"cannot read preferences {path()}: {exc}", ExitStatus.USAGE)


def get(category: str, name: str) -> str | None:
    return load().get(category, {}).get(name)


def save(prefs: dict) -> None:
    target = path()
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    import tempfile  # only to write: reading preferences is on every command's path

    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".preferences-")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(prefs, f, indent=2, sort_keys=True)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        os.unlink(tmp)
        raise


def _check(category: str, name: str) -> None:
    for label, word in (("category", category), ("name", name)):
        if not WORD.match(word):
            fail(f"--{label} {word!r}: expected letters, digits, '_' or '-'", ExitStatus.USAGE)


@click.group()
def preference() -> None:
    """Save and read preferences (for example the scheduler's URL and your token)."""


@preference.command("set")
@click.option("--category", required=True, help="Preference category, e.g. sched.")
@click.option("--name", required=True, help="Preference name, e.g. url or token.")
@click.argument("value")
def set_(category: str, name: str, value: str) -> None:
    """Save VALUE as the preference CATEGORY.NAME."""
    _check(category, name)
    if (category, name) == ("sched", "url") and not re.match(r"^https?://[^/\s]+", value):
        fail(f"sched.url {value!r}: expected a URL like http://127.0.0.1:5000", ExitStatus.USAGE)
    prefs = load()
    prefs.setdefault(category, {})[name] = value
    save(prefs)


@preference.command("get")
@click.option("--category", required=True, help="Preference category, e.g. sched.")
@click.option("--name", required=True, help="Preference name, e.g. url or token.")
def get_(category: str, name: str) -> None:
    """Print the saved preference CATEGORY.NAME."""
    _check(category, name)
    value = get(category, name)
    if value is None:
        fail(f"no preference {category}.{name} is set "
             f"(fastpath preference set --category {category} --name {name} VALUE)", ExitStatus.NOT_FOUND)
    click.echo(value)
