"""A lessee's key in a SUT's authorized_keys, over SSH: added, and removed again.

One shell script per step. Only lines that end with a lease tag
(`TAG`, see `fastpath.core.sshkeys`) are ever dropped; every other line is copied
through unchanged, and the file is rewritten in place (`cat >`), so its
owner and mode stay what they were.
"""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastpath.sut.remote import Remote

DEFAULT = "~/.ssh/authorized_keys"
TAG = "fastpath-lease-"  # ends each line the scheduler writes, followed by the lease id

# Copy every line, but drop those tagged for a lease other than KEEP (empty: drop every tagged line).
_FILTER = ("awk -v keep=\"$keep\" '{ if (match($0, / " + TAG + "[0-9]+$/)) "
           "{ if (substr($0, RSTART + " + str(len(TAG) + 1) + ") == keep) print } else print }'")


def _path(path: str | None) -> str:
    """The file, quoted for the shell, with a leading ~/ meaning the login's $HOME."""
    path = path or DEFAULT
    if path.startswith("~/"):
        return '"$HOME"/' + shlex.quote(path[2:])
    return shlex.quote(path)


def install(remote: Remote, line: str, path: str | None = None) -> None:
    """Add `line` (a tagged key), dropping stale tagged lines; create the file if needed."""
    remote.run(install_script(line, path), timeout=30)


def install_script(line: str, path: str | None = None) -> str:
    """The script of `install`, to run on its own or after another command."""
    return f"""set -e
f={_path(path)}; keep=""
d=$(dirname "$f")
if [ ! -d "$d" ]; then mkdir -p "$d"; chmod 700 "$d"; fi
if [ ! -e "$f" ]; then : > "$f"; chmod 600 "$f"; fi
t=$(mktemp "$d/.fastpath-keys.XXXXXX")
{_FILTER} "$f" > "$t"
printf '%s\\n' {shlex.quote(line)} >> "$t"
cat "$t" > "$f"; rm -f "$t"
"""


def remove(remote: Remote, keep: int | None, path: str | None = None) -> None:
    """Drop every tagged line except that of lease `keep` (None: all of them)."""
    script = f"""set -e
f={_path(path)}; keep={'' if keep is None else int(keep)}
[ -e "$f" ] || exit 0
grep -q ' {TAG}[0-9]*$' "$f" || exit 0
t=$(mktemp "$(dirname "$f")/.fastpath-keys.XXXXXX")
{_FILTER} "$f" > "$t"
cat "$t" > "$f"; rm -f "$t"
"""
    remote.run(script, timeout=30)
