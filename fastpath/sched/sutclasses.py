"""Load `--sutclasses` from the file the server's configuration names."""

from __future__ import annotations

import os
from pathlib import Path

from fastpath.core.sutclass import ClassSpec, parse
from fastpath.errors import InputError


def load(path: str | os.PathLike) -> list[ClassSpec]:
    """Read and validate a sutclasses file."""
    path = Path(path)
    try:
        text = path.read_bytes().decode()
    except OSError as exc:
        raise InputError(str(path), "", f"cannot read: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[:exc.start].count(b"\n") + 1
        raise InputError(str(path), f"line {line}", f"not UTF-8 text (byte {exc.object[exc.start]:#04x} "
                                                   f"at offset {exc.start})") from exc
    return parse(text, source=str(path), base=path.parent)
