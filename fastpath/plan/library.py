"""The benchmark library shipped in `fastpath/benchmarks/`, for `include: suite/name.yaml`.

An include names a file of the library exactly; nothing outside the library
can be reached (no absolute paths, no `..`, no symlinks out of it).
"""

from __future__ import annotations

import re
from pathlib import Path

from fastpath import safeyaml
from fastpath.errors import InputError

LIBRARY = Path(__file__).resolve().parent.parent / "benchmarks"
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*/[A-Za-z0-9][A-Za-z0-9._+-]*\.yaml$")


def list_library() -> list[str]:
    return sorted(str(p.relative_to(LIBRARY)) for p in LIBRARY.glob("*/*.yaml"))


def load_include(name, *, source: str, path: str) -> dict:
    """The benchmark object of library file `name` (e.g. `speedometer/v2.1.yaml`)."""
    if not isinstance(name, str) or not NAME.match(name) or ".." in name:
        raise InputError(source, path, f"expected a library name like speedometer/v2.1.yaml, got "
                                       f"{name!r} (includes name files of the benchmark library only)")
    file = LIBRARY / name
    try:
        real = file.resolve(strict=True)
    except OSError:
        known = ", ".join(list_library()[:8])
        raise InputError(source, path, f"no benchmark {name!r} in the library; known: {known}") from None
    if LIBRARY not in real.parents or not real.is_file():
        raise InputError(source, path, f"{name!r} is not a file of the benchmark library")
    doc = safeyaml.load(real.read_text(), str(real))
    if not isinstance(doc, dict):
        raise InputError(source, path, f"library file {name!r} does not hold a benchmark")
    return doc
