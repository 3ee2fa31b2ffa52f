"""Session statistics checked against SciPy, computed independently from the raw samples."""

from __future__ import annotations

import math
import statistics

import pytest
from scipy import stats as sp

from fastpath.results import analysis
from fastpath.results.backend import Aggregate


def sessions(values: list[list[float]], sw: str = "a") -> list[Aggregate]:
    out = []
    for i, xs in enumerate(values):
        mean = statistics.fmean(xs)
        out.append(Aggregate("b", "rc", sw, len(xs), mean, sum((x - mean) ** 2 for x in xs), min(xs),
                             max(xs), session=f"s{i}", job_id=i))
    return out


@pytest.mark.parametrize("df", [1, 2, 3, 4.5, 7, 29, 120, 1000])
@pytest.mark.parametrize("p", [0.6, 0.9, 0.975, 0.995, 0.9995])
def test_the_t_distribution_matches_scipy(p, df):
    q = analysis.t_quantile(p, df)
    assert q == pytest.approx(sp.t.ppf(p, df), rel=1e-9)
    assert analysis.t_quantile(1 - p, df) == pytest.approx(sp.t.ppf(1 - p, df), rel=1e-9)
    assert analysis.t_cdf(q, df) == pytest.approx(p, rel=1e-12)
    assert analysis.t_cdf(-2.5, df) == pytest.approx(sp.t.cdf(-2.5, df), rel=1e-9)


# Repeats are tight around each session's mean; the sessions wander: a test over repeats
# sees 30 samples a side and a clear change, the sessions (3 a side) do not.
NOISY_BOOTS = ([[10.0, 10.1, 9.9] * 3, [14.0, 14.1, 13.9] * 3, [12.0, 12.1, 11.9] * 3],
               [[13.0, 13.1, 12.9] * 3, [17.0, 17.1, 16.9] * 3, [15.0, 15.1, 14.9] * 3])
# Each run is noisy but the boots agree: the repeats hide a change the sessions show.
STEADY_BOOTS = ([[m - 40.0, m + 40.0] for m in (100.0, 101.0, 99.0, 100.0)],
                [[m - 40.0, m + 40.0] for m in (104.0, 105.0, 103.0, 104.0)])


@pytest.mark.parametrize("data, repeats_significant, sessions_significant",
                         [(NOISY_BOOTS, True, False), (STEADY_BOOTS, False, True)])
def test_sessions_not_repeats_decide(data, repeats_significant, sessions_significant):
    base_raw, other_raw = data
    flat = [[x for s in side for x in s] for side in data]
    naive = sp.ttest_ind(flat[0], flat[1], equal_var=False).pvalue
    assert (naive < 0.05) == repeats_significant  # the trap the session view avoids
    base, other = analysis.summarise(sessions(base_raw)), analysis.summarise(sessions(other_raw, "b"))
    means = [[statistics.fmean(s) for s in side] for side in data]
    for summary, m, raw in ((base, means[0], base_raw), (other, means[1], other_raw)):
        k = len(m)
        assert (summary.sessions, summary.count) == (k, sum(len(s) for s in raw))
        assert summary.mean == pytest.approx(statistics.fmean(m))
        lo, hi = sp.t.interval(0.95, k - 1, loc=statistics.fmean(m), scale=sp.sem(m))
        assert (summary.ci95min, summary.ci95max) == (pytest.approx(lo), pytest.approx(hi))
        assert summary.between == pytest.approx(statistics.stdev(m))
        pooled = sum(sum((x - statistics.fmean(s)) ** 2 for x in s) for s in raw) / \
            sum(len(s) - 1 for s in raw)
        assert summary.within == pytest.approx(math.sqrt(pooled))
    change = analysis.compare(base, other, "bigger")
    test = sp.ttest_ind(means[1], means[0], equal_var=False)
    assert change.p == pytest.approx(test.pvalue, rel=1e-9)
    assert change.df == pytest.approx(test.df, rel=1e-9)
    ci = test.confidence_interval(0.95)
    scale = 100 / statistics.fmean(means[0])
    assert change.ci95min == pytest.approx(ci.low * scale)
    assert change.ci95max == pytest.approx(ci.high * scale)
    assert change.significant == sessions_significant
    assert change.verdict == ("better" if sessions_significant else "same")
    assert not change.weak


def test_few_sessions_are_weak_and_one_session_gives_no_test():
    two = analysis.summarise(sessions([[1.0, 1.1], [1.2, 1.3]]))
    three = analysis.summarise(sessions([[2.0, 2.1], [2.2, 2.3], [2.1, 2.2]], "b"))
    change = analysis.compare(two, three, "smaller")
    assert change.weak and change.verdict == "worse" and change.p is not None
    one = analysis.summarise(sessions([[5.0, 6.0, 7.0]]))
    assert (one.sessions, one.ci95min, one.between, one.within) == (1, None, None, 1.0)
    assert analysis.compare(one, three, "bigger").verdict == "?"


def test_the_fixed_cost_is_cached_quantiles():
    analysis.t_quantile.cache_clear()
    for _ in range(60):
        analysis.summarise(sessions([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]))
    info = analysis.t_quantile.cache_info()
    assert (info.misses, info.hits) == (1, 59)
