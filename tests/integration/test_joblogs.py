"""A job's log is read from its own storage directory, by ids: never a named path, never a symlink."""

from __future__ import annotations

import json

from fastpath.store.files import Storage
from fastpath.store.joblogs import job_log


def test_the_log_of_a_job_with_a_failed_run_and_hostile_entries(tmp_path):
    storage = Storage(tmp_path / "storage")
    d = storage.job_dir(3, 7)
    (d / "runs" / "0000").mkdir(parents=True)
    (d / "runs" / "0001").mkdir(parents=True)
    (d / "driver.log").write_text("1 2: driver started\n")
    (d / "runs" / "0000" / "exit").write_text("3\n")
    (d / "runs" / "0000" / "output.log").write_text("".join(f"line {i}\n" for i in range(100)))
    secret = tmp_path / "secret"
    secret.write_text("do not show\n")
    (d / "runs" / "0001" / "output.log").symlink_to(secret)
    errors = [
        {"benchmark": 0, "phase": "repeat", "index": 1, "code": 3, "message": "exit 3",
         "log": "runs/0000/output.log"},
        {"benchmark": 0, "phase": "repeat", "index": 2, "code": 3, "message": "linked",
         "log": "runs/0001/output.log"},
        {"benchmark": 9, "phase": "repeat", "index": 3, "code": 1, "message": "named a path",
         "log": "../../../../secret"},
    ]
    (d / "manifest.json").write_text(json.dumps({
        "benchmarks": [{"suite": "testing", "name": "busyloop"}], "errors": errors}))
    log = job_log(storage, 3, 7, lines=2)
    assert log["collected"] and log["driver_log"] == ["1 2: driver started"]
    first, linked, named = log["failed_runs"]
    assert first == {"benchmark": "testing/busyloop", "phase": "repeat", "index": 1, "code": 3,
                     "exit": "3", "message": "exit 3", "output": ["line 98", "line 99"]}
    assert linked["output"] is None  # a symlink is not followed
    assert named["output"] is None and named["benchmark"] is None
    assert "do not show" not in json.dumps(log)


def test_a_job_not_collected_yet(tmp_path):
    log = job_log(Storage(tmp_path), 1, 1)
    assert log == {"collected": False, "driver_log": None, "failed_runs": []}
