"""The project's own benchmarks (sysbench/cpu, stress-ng/cpu), built and run for real with podman.

Each container is started as the job driver starts it (`podman run --rm -v
SHARE:/fastpath-share IMAGE`) with the benchmark.yaml the scheduler writes
(`fastpath.control.steps.benchmark_yaml` of the library's benchmark, params
overridden as a plan overrides them).
"""

from __future__ import annotations

import csv
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from fastpath.benchmarks import images
from fastpath.control.steps import benchmark_yaml
from fastpath.core.manifest import HEADER, parse_results
from fastpath.plan.library import load_include

SHORT = {"time": 1}  # seconds per run: enough for a stable rate, short for the suite


@pytest.fixture(scope="session")
def bench_images() -> dict[str, str]:
    """Both images, built once (kept while their containers/ directory is unchanged)."""
    for tool in ("podman", "debootstrap"):  # a missing tool is a failure, never a skip
        assert shutil.which(tool), f"{tool} is missing: install the Debian package {tool}"
    names = ["sysbench", "stress-ng"]
    try:
        return dict(zip(names, images.build(names), strict=True))
    except subprocess.CalledProcessError as exc:
        raise AssertionError(f"building failed: {exc}\n{exc.stderr}") from exc


def run_benchmark(share: Path, include: str, params: dict) -> tuple[int, str, dict | None]:
    """(exit status, output, {resultclass: row} or None) of one run of the library's benchmark."""
    bench = load_include(include, source="test", path="include")
    bench["params"] = {**(bench.get("params") or {}), **params}
    share.mkdir(parents=True)
    (share / "benchmark.yaml").write_text(benchmark_yaml(bench))
    name = f"fastpath-test-{uuid.uuid4().hex[:12]}"
    done = subprocess.run(
        ["podman", "run", "--rm", "--name", name, "-v", f"{share}:/fastpath-share", bench["image"]],
        env=images._env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
    results = share / "results.csv"
    return done.returncode, done.stdout, _contract(results) if results.exists() else None


def _contract(path: Path) -> dict:
    """results.csv as §5 of the design has it, checked strictly, then read by the scheduler's parser."""
    text = path.read_text()
    rows = list(csv.reader(text.splitlines()))
    assert rows[0] == HEADER, text  # exactly, without spaces
    for row in rows[1:]:
        assert len(row) == 4 and row[3] in ("bigger", "smaller") and row[2], text
        float(row[1])
    parsed = parse_results(text)
    by_class = {r["resultclass"]: r for r in parsed}
    assert len(by_class) == len(parsed), f"a resultclass twice: {text}"
    return by_class


def test_sysbench_reports_events_and_latency_that_follow_max_prime(bench_images, tmp_path):
    status, out, small = run_benchmark(tmp_path / "small", "sysbench/cpu.yaml", {**SHORT, "max_prime": 200})
    assert status == 0, out
    assert set(small) == {"events-per-second", "latency-p95"}
    assert small["events-per-second"]["improvement"] == "bigger"
    assert small["events-per-second"]["unit"] == "events/s"
    assert small["latency-p95"]["improvement"] == "smaller"
    assert small["latency-p95"]["unit"] == "ms"
    assert "Prime numbers limit: 200\n" in out  # the param reached sysbench

    status, out, large = run_benchmark(tmp_path / "large", "sysbench/cpu.yaml",
                                       {**SHORT, "max_prime": 200_000})
    assert status == 0, out
    # each event tests every number up to max_prime: ~1000x the work; 20x leaves room for load
    assert small["events-per-second"]["value"] > 20 * large["events-per-second"]["value"] > 0
    assert large["latency-p95"]["value"] > small["latency-p95"]["value"]


def test_stress_ng_reports_bogo_ops_that_follow_the_method(bench_images, tmp_path):
    status, out, cheap = run_benchmark(tmp_path / "nsqrt", "stress-ng/cpu.yaml",
                                       {**SHORT, "method": "nsqrt"})
    assert status == 0, out
    assert set(cheap) == {"bogo-ops-per-second"}
    assert cheap["bogo-ops-per-second"]["improvement"] == "bigger"
    assert cheap["bogo-ops-per-second"]["unit"] == "bogo-ops/s"

    status, out, dear = run_benchmark(tmp_path / "matrixprod", "stress-ng/cpu.yaml",
                                      {**SHORT, "method": "matrixprod"})
    assert status == 0, out
    # a matrixprod bogo op is ~70x the work of an nsqrt one here; 5x leaves room for load
    assert cheap["bogo-ops-per-second"]["value"] > 5 * dear["bogo-ops-per-second"]["value"] > 0


@pytest.mark.parametrize(("include", "params", "named"), [
    ("sysbench/cpu.yaml", {"max_primes": 1000}, "max_primes"),
    ("sysbench/cpu.yaml", {"max_prime": 5}, "max_prime"),
    ("sysbench/cpu.yaml", {"threads": 0}, "threads"),
    ("sysbench/cpu.yaml", {"time": "1"}, "time"),
    ("stress-ng/cpu.yaml", {"cpus": 2}, "cpus"),
    ("stress-ng/cpu.yaml", {"workers": 5000}, "workers"),
    ("stress-ng/cpu.yaml", {"method": "nosuchmethod"}, "method"),
    ("stress-ng/cpu.yaml", {"time": 0}, "time"),
])
def test_bad_params_fail_naming_the_param_and_write_no_results(bench_images, tmp_path, include,
                                                                params, named):
    status, out, results = run_benchmark(tmp_path / "share", include, {**SHORT, **params})
    assert status != 0, out
    suite = include.removesuffix(".yaml")
    message = out.strip().splitlines()[-1]
    assert message.startswith(f"{suite}: ") and named in message, out
    assert results is None
    assert not (tmp_path / "share" / "results.csv.tmp").exists()
