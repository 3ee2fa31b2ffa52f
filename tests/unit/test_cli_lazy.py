"""The CLI imports only what a command needs: `sched sutclass-list` loads no other verb's module."""

from __future__ import annotations

import importlib
import subprocess
import sys

from click.testing import CliRunner

from fastpath.cli import main
from fastpath.cli.sched import VERBS, sched


def test_every_verb_is_listed_with_its_module():
    modules = {"fastpath.cli.jobs", "fastpath.cli.lab", "fastpath.cli.leases", "fastpath.cli.plans"}
    found = {c.name: m for m in modules for c in importlib.import_module(m).COMMANDS}
    assert VERBS == found


def test_sched_help_lists_every_verb():
    out = CliRunner().invoke(main, ["sched", "--help"]).output
    for verb in [*VERBS, "run", "api", "controller", "sutclass-list", "admin-token"]:
        assert f"  {verb} " in out, verb
    assert sorted(sched.list_commands(None)) == sched.list_commands(None)  # type: ignore[arg-type]


def test_a_listing_loads_no_other_verb_and_nothing_heavy():
    code = ("import sys; from fastpath.cli import main\n"
            "try:\n    main(['sched', 'sutclass-list', '--help'])\n"
            "except SystemExit:\n    pass\n"
            "print(' '.join(sorted(sys.modules)))")
    loaded = set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                check=True).stdout.split())
    assert "fastpath.cli.sched" in loaded
    for module in ["fastpath.cli.leases", "fastpath.cli.plans", "fastpath.cli.jobs",
                   "fastpath.cli.lab", "logging", "tempfile", "falcon", "peewee", "paramiko", "yaml"]:
        assert module not in loaded, module
