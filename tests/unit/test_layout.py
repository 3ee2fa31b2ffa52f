"""The folders show the architecture (DESIGN §2, §11): no import runs from a lower wing up.

`core` decides and imports no other wing; `store` holds the database and imports
only `core`; `api` and `control` are two faces over the store that never import
each other; `sched` wires them into processes. Read from the import lines, lazy
imports inside functions included.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
PACKAGE = ROOT / "fastpath"
WINGS = ("core", "store", "api", "control", "sched")
# which other wings each may import (shared leaf packages such as errors, plan, sut are open to all)
ALLOWED = {
    "core": set(),
    "store": {"core"},
    "api": {"core", "store"},
    "control": {"core", "store"},
    "sched": {"core", "store", "api", "control"},
}
# leaves that must stay below every wing
LEAVES = ("errors", "plan", "sut", "results", "benchmarks")


def imports(path: Path) -> set[str]:
    """The fastpath packages a module imports: 'core', 'store', ... ."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "fastpath" and len(parts) > 1:
                found.add(parts[1])
    return found


def modules(wing: str) -> list[Path]:
    return sorted((PACKAGE / wing).rglob("*.py"))


@pytest.mark.parametrize("wing", WINGS)
def test_no_import_runs_up(wing):
    wrong = {}
    for path in modules(wing):
        bad = (imports(path) & set(WINGS)) - ALLOWED[wing] - {wing}
        if bad:
            wrong[str(path.relative_to(ROOT))] = sorted(bad)
    assert not wrong, f"{wing} may import only {sorted(ALLOWED[wing]) or 'no other wing'}: {wrong}"


@pytest.mark.parametrize("leaf", LEAVES)
def test_leaves_import_no_wing(leaf):
    wrong = {str(p.relative_to(ROOT)): sorted(imports(p) & set(WINGS))
             for p in sorted((PACKAGE / leaf).rglob("*.py")) if imports(p) & set(WINGS)}
    assert not wrong, f"fastpath.{leaf} is shared below the wings and may import none of them: {wrong}"


def test_core_does_no_io():
    """The pure core never touches the database, SSH, files, processes or the clock."""
    banned = re.compile(r"^\s*(import|from) (peewee|playhouse|paramiko|subprocess|socket|falcon|time)\b",
                        re.M)
    wrong = [str(p.relative_to(ROOT)) for p in modules("core") if banned.search(p.read_text())]
    assert not wrong, wrong


def test_the_rules_catch_a_wrong_import(tmp_path):
    """The checker itself: an upward import is seen, even inside a function."""
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from fastpath.control import controller\n")
    assert imports(module) == {"control"}


def test_the_newcomers_map_names_real_paths():
    """docs/development.md's "Where a feature goes" names only paths that exist."""
    text = (ROOT / "docs" / "development.md").read_text()
    section = text.split("## Where a feature goes", 1)[1].split("\n## ", 1)[0]
    paths = re.findall(r"`((?:fastpath|tests|docs)/[\w/.]+?)`", section)
    assert len(paths) > 20
    missing = [p for p in paths if "NNNN" not in p and not (ROOT / p).exists()]
    assert not missing, f"the map names paths that do not exist: {missing}"
