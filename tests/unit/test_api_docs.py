"""docs/api.md is exactly what the project's generator makes of the OpenAPI document."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"
COMMAND = [sys.executable, "-m", "fastpath.api.apidoc"]


def test_api_reference_is_generated_from_the_document():
    fresh = subprocess.run(COMMAND, capture_output=True, text=True, check=True).stdout
    assert DOC.read_text() == fresh, (
        "docs/api.md differs from the OpenAPI document; regenerate it with "
        "`python -m fastpath.api.apidoc > docs/api.md`")


def test_reference_names_every_operation():
    from fastpath.api.openapi import document

    text = DOC.read_text()
    for path, ops in document()["paths"].items():
        for method in ops:
            assert f"### {method.upper()} {path}\n" in text
