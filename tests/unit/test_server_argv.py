"""`sched run` starts its children with the flags each needs."""

from __future__ import annotations

from click.testing import CliRunner

from fastpath.cli import main
from fastpath.sched.server import Settings, child_argv


def test_the_api_child_knows_the_resultstore_to_name_it_in_plans():
    s = Settings(resultstore="mysql://lab:pw@db/results")
    api, controller = child_argv("api", s), child_argv("controller", s)
    assert api[api.index("--resultstore") + 1] == "mysql://lab:pw@db/results"
    assert "--sutclasses" not in api and "--sutclasses" in controller and "--resultstore" in controller
    assert "--resultstore" not in child_argv("api", Settings())
    assert "--resultstore" in CliRunner().invoke(main, ["sched", "api", "--help"]).output


def test_the_api_child_gets_the_queued_jobs_limit():
    api = child_argv("api", Settings(max_queued_jobs=7))
    assert api[api.index("--max-queued-jobs") + 1] == "7"
    assert child_argv("api", Settings())[api.index("--max-queued-jobs") + 1] == "100000"
    assert "--max-queued-jobs" not in child_argv("controller", Settings())
