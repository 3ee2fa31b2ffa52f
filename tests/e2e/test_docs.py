"""docs/user-guide.md works as written: every shell block, in order, against a real scheduler.

The scheduler is a real `fastpath sched run` (the guide's flags) over real SSH
test SUTs with simulated boots, in a directory laid out like the demo's
(`sutclasses.yaml`, `demo-plan.yaml` and its stand-in files, `results.db`).
Substituted, as DESIGN §12 allows: the URL and the token placeholders. A block
not meant to run carries `<!-- docs-test: skip (reason) -->`; a ```text block
right after a shell block is its output, whose columns and fields must match
the real output.

Set FASTPATH_DOCS_CAPTURE=FILE to write what each command printed, for
refreshing the guide's examples.
"""

from __future__ import annotations

import json
import os
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from fastpath.testbed.demo import plan as demo_plan

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "user-guide.md"
GUIDE_URL = "http://127.0.0.1:5000"
MARK = re.compile(r"^<!-- docs-test: (skip|wait|output not compared) \((.+)\) -->$")
RUN, SKIPPED = 31, 8  # shell blocks; a change of the guide must change these on purpose


@dataclass
class Block:
    kind: str  # shell, text, yaml
    text: str
    line: int
    end: int = 0  # index of the closing fence
    marks: list[tuple[str, str]] = field(default_factory=list)
    output: Block | None = None


def blocks(markdown: str) -> list[Block]:
    """The fenced blocks, each with the docs-test marks just before it; outputs joined to commands."""
    found, marks, lines, i = [], [], markdown.splitlines(), 0
    while i < len(lines):
        line = lines[i]
        if m := MARK.match(line.strip()):
            marks.append((m.group(1), m.group(2)))
        elif line.startswith("```") and len(line) > 3:
            end = lines.index("```", i + 1)
            found.append(Block(line[3:], "\n".join(lines[i + 1:end]), i + 1, end, marks))
            marks, i = [], end
        elif line.strip():
            marks = []  # a mark belongs to the block right after it
        i += 1
    for prev, block in zip(found, found[1:], strict=False):
        between = lines[prev.end + 1:block.line - 1]
        if prev.kind == "shell" and block.kind == "text" and all(
                not x.strip() or MARK.match(x.strip()) for x in between):
            prev.output = block
    return found


def commands(text: str) -> list[str]:
    return [c for c in text.replace("\\\n", " ").splitlines() if c.strip() and not c.startswith("#")]


def shape(text: str) -> list:
    """What must not drift: table headers, field names, JSON keys, the words of one-line messages."""
    text = text.strip()
    if text.startswith("{"):
        return ["json", sorted(json.loads(text))]
    rows = [line for line in text.splitlines() if line.startswith("|")]
    if rows:  # boxes drawn with + - |: the first column, and the header of wide tables
        cells = [[c.strip() for c in r.strip("|").split("|")] for r in rows]
        return ["box", sorted({c[0] for c in cells}), cells[0] if len(cells[0]) > 2 else None]
    out, in_table = [], False
    for line in text.splitlines():
        if not line.strip():
            in_table = False
        elif re.fullmatch(r"[A-Z][A-Z ]+", line.strip()):
            out.append(line.split())
            in_table = True  # its rows hold data, which differs from run to run
        elif in_table:
            continue
        elif m := re.match(r"^([A-Z][A-Za-z ]*):( |$)", line):
            out.append(m.group(1))
        else:
            line = re.sub(r"fpt_\S+", "TOKEN", line)
            out.append(re.sub(r"[\w.-]*\d[\w.-]*", "N", line))
    return out


def test_the_guide_runs_as_written(scheduler, tmp_path, wait_until):
    guide = blocks(GUIDE.read_text())
    _check_demo_plan(guide, tmp_path)
    s = scheduler(boot="power_cycle", resultstore="sqlite:///results.db")
    s.start()
    tokens = {"<token>": s.admin_token()}
    capture = []
    ran = skipped = 0
    for block in (b for b in guide if b.kind == "shell"):
        marks = dict(block.marks)
        if "skip" in marks:
            skipped += 1
            continue
        if "wait" in marks:
            wait_until(lambda: _plans_final(s), timeout=300, interval=0.5, what=marks["wait"])
        for command in commands(block.text):
            for placeholder, value in {GUIDE_URL: s.url, **tokens}.items():
                command = command.replace(placeholder, value)
            argv = shlex.split(command)
            assert argv[0] == "fastpath", f"line {block.line}: not a fastpath command: {command}"
            done = s.cli(*argv[1:], check=False, timeout=300)
            capture.append(f"$ {command}\n{done.stdout}{done.stderr}")
            assert done.returncode == 0, (f"docs/user-guide.md line {block.line}: {command}\n"
                                          f"exit {done.returncode}\n{done.stdout}{done.stderr}")
            if m := re.match(r"Created user '(\w+)' .*token: (\S+)$", done.stdout.strip()):
                tokens[f"<{m.group(1)}-token>"] = m.group(2)
        ran += 1
        if block.output is not None and "output not compared" not in dict(block.output.marks):
            assert shape(done.stdout) == shape(block.output.text), (
                f"docs/user-guide.md line {block.output.line}: the output shown differs in shape "
                f"from the real output of `{command}`:\n{done.stdout}")
    if os.environ.get("FASTPATH_DOCS_CAPTURE"):
        Path(os.environ["FASTPATH_DOCS_CAPTURE"]).write_text("\n".join(capture))
    assert (ran, skipped) == (RUN, SKIPPED)


def _plans_final(s) -> bool:
    plans = json.loads(s.cli("sched", "plan-list", "--all-users", "--all-states", "--json").stdout)["plans"]
    return bool(plans) and all(p["state"] in ("completed", "failed", "cancelled")
                               and p["publishing"] != "pending" for p in plans)


def _check_demo_plan(guide: list[Block], workdir: Path) -> None:
    """The plan the guide shows is the one the demo writes (and the test submits)."""
    path = demo_plan(workdir)
    shown = [yaml.safe_load(b.text) for b in guide if b.kind == "yaml" and "swprofiles:" in b.text]
    assert yaml.safe_load(path.read_text()) in shown


def test_guide_parsing_tells_intent_from_drift():
    """The parser the test above relies on: marks, outputs, continuation lines, shapes."""
    text = ("<!-- docs-test: skip (server) -->\n```shell\nfastpath sched run \\\n  --port 1\n```\n\n"
            "```shell\nfastpath sched sutclass-list\n```\n\n```text\nID  NAME\n1   demo\n```\n")
    first, second, out = blocks(text)
    assert first.marks == [("skip", "server")] and commands(first.text) == ["fastpath sched run    --port 1"]
    assert second.marks == [] and second.output is out and first.output is None
    assert shape("ID  NAME  IN USE\n1  demo  0/2") != shape("ID  NAME  CREATED\n1  demo  x")
    created = "Created user 'a' (id {}) with token: fpt_{}"
    assert shape(created.format(2, "x")) == shape(created.format(7, "y"))
    assert shape("Lease 1 released (SUT demo-02).") == shape("Lease 3 released (SUT sut-01).")
