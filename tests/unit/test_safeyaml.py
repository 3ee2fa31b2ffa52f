"""The one YAML reader: aliases, depth, huge numbers, NaN and duplicate keys are refused by line."""

from __future__ import annotations

import pytest

from fastpath.errors import InputError
from fastpath.safeyaml import load


@pytest.mark.parametrize("text, where, words", [
    ("a: &x [1, 2]\nb: *x\n", "line 2, column 4", "aliases are not allowed (*x)"),
    ("[" * 100_000 + "]" * 100_000, "line 1, column 65", "nested deeper than 64 levels"),
    ("x: " + "1" * 5000, "line 1, column 4", "an integer of 5000 digits"),
    ("x: 0x" + "f" * 40, "line 1, column 4", "too large"),
    ("x: .nan", "line 1, column 4", "'.nan' is not a finite number"),
    ("x: -.inf", "line 1, column 4", "is not a finite number"),
    ("x: 1.0e+400", "line 1, column 4", "is not a finite number"),
    ("sut: a\nx: 1\nsut: b\n", "line 3, column 1", "duplicate key 'sut' (first on line 1)"),
    ("{a: 1, a: 2}", "line 1, column 8", "duplicate key 'a' (first on line 1)"),
    ("a: [1\n", "line 2, column 1", "malformed YAML"),
])
def test_refused_with_its_line(text, where, words):
    with pytest.raises(InputError) as err:
        load(text, "f.yaml")
    assert err.value.source == "f.yaml" and err.value.path == where, err.value.message
    assert words in err.value.problem


def test_ordinary_documents_and_anchors_without_aliases():
    assert load("a: 1\nb: [1, 2.5, {c: d}]\nd: &n 3\ne: 123456789012345678901234567890\n", "f") == {
        "a": 1, "b": [1, 2.5, {"c": "d"}], "d": 3, "e": 123456789012345678901234567890}
    assert load("", "f") is None
    assert load("- x\n- {a: {b: {c: [1]}}}\n", "f") == ["x", {"a": {"b": {"c": [1]}}}]


def test_no_other_yaml_loader_reads_our_inputs():
    """Every file a person gives us goes through fastpath.safeyaml (the containers' own scripts aside)."""
    import re
    from pathlib import Path

    import fastpath

    loader = re.compile(r"\byaml\.(safe_)?load\(")
    root = Path(fastpath.__file__).parent
    found = [str(p.relative_to(root)) for p in root.rglob("*.py")
             if "benchmarks/containers" not in str(p) and p.name != "safeyaml.py"
             and loader.search(p.read_text())]
    assert found == []
