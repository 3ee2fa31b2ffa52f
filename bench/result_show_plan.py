"""`fastpath result show --plan ID` on 1,000,000 results in SQLite, beside the unfiltered show,
and the fixed cost of the statistics (issue 16).

    .venv/bin/python bench/result_show_plan.py [--results N]

Builds the store of bench/result_show.py (one plan per 10 sessions: 667 plans
of 1,500 results for 1,000,000), then times the real CLI in a child process:
`result show STORE` (every plan), `result show STORE --plan 300`, and the
same with `--swprofile baseline --swprofile candidate`. Targets: --plan
<= 1 s on SQLite (the plan filter uses the index result_plan).

The fixed cost: the statistics of 60 groups of 10 sessions (summaries and
comparisons: t quantiles and Welch p-values), in this process, and the wall
time of `result show` on a store of one plan (the interpreter, the imports,
opening the store). Target: the statistics <= 50 ms.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from result_show import build, show_argv  # noqa: E402

from fastpath.results import analysis  # noqa: E402
from fastpath.results.backend import Aggregate  # noqa: E402


def statistics_cost(groups: int = 60, sessions: int = 10) -> float:
    """Seconds for summaries and comparisons of `groups` groups, quantile cache cold."""
    analysis.t_quantile.cache_clear()
    parts = [[Aggregate("b", f"rc{g}", sw, 5, 1000.0 + g + s * 0.7 + (3 if sw == "b" else 0), 40.0,
                        990.0, 1010.0, session=f"{sw}{s}") for s in range(sessions)]
             for g in range(groups) for sw in ("a", "b")]
    t0 = time.perf_counter()
    summaries = [analysis.summarise(p) for p in parts]
    for a, b in zip(summaries[::2], summaries[1::2], strict=True):
        analysis.compare(a, b, "bigger")
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--results", type=int, default=1_000_000)
    args = parser.parse_args()
    cost = statistics_cost()
    print(f"fixed cost: statistics of 60 groups x 2 swprofiles x 10 sessions: {cost * 1000:.1f} ms "
          "(target <= 50 ms)")
    with tempfile.TemporaryDirectory(prefix="fp-bench-plan-") as tmp:
        small = f"sqlite:///{tmp}/one-plan.db"
        build(small, 1500)
        wall, _ = show_argv(small, [])
        print(f"fixed cost: `result show` of a 1,500-result store, whole process: {wall:.2f} s")
        url = f"sqlite:///{tmp}/results.db"
        built = build(url, args.results)
        print(f"built {args.results:,} results in {built:.0f} s\n")
        print(f"{'command':58} {'wall s':>7} {'lines':>6}")
        for label, extra in (("result show", []), ("result show --plan 300", ["--plan", "300"]),
                             ("result show --swprofile baseline --swprofile candidate",
                              ["--swprofile", "baseline", "--swprofile", "candidate"]),
                             ("  ... --plan 300", ["--swprofile", "baseline", "--swprofile", "candidate",
                                                   "--plan", "300"])):
            wall, lines = show_argv(url, extra)
            print(f"{label:58} {wall:>7.2f} {lines:>6}", flush=True)


if __name__ == "__main__":
    main()
