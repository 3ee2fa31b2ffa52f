"""Statistics of results: summaries with 95% confidence intervals, and comparisons.

Pure. The confidence interval of a mean uses Student's t; a change between two
swprofiles is significant when Welch's t-test (unequal variances) gives
p < 0.05, two-sided. Both need the t distribution, computed here from the
regularised incomplete beta function (no SciPy).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from fastpath.results.backend import Aggregate

ALPHA = 0.05


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    tiny, qab, qap, qam = 1e-300, a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-15:
            break
    return h


def betainc(a: float, b: float, x: float) -> float:
    """The regularised incomplete beta function I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                     + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def t_cdf(t: float, df: float) -> float:
    tail = 0.5 * betainc(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t >= 0 else tail


def t_quantile(p: float, df: float) -> float:
    """The t with P(T <= t) = p, by bisection on the CDF."""
    lo, hi = -1e3, 1e3
    for _ in range(200):
        mid = (lo + hi) / 2.0
        if t_cdf(mid, df) < p:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2.0


def pool(parts: list[Aggregate]) -> Aggregate:
    """The sessions of one group as one Aggregate (Chan et al.'s pairwise combination)."""
    first = parts[0]
    n, mean, m2, lo, hi = 0, 0.0, 0.0, first.min, first.max
    for a in parts:
        total = n + a.count
        delta = a.mean - mean
        mean += delta * a.count / total
        m2 += a.m2 + delta * delta * n * a.count / total
        n, lo, hi = total, min(lo, a.min), max(hi, a.max)
    return Aggregate(first.benchmark, first.resultclass, first.swprofile, n, mean, m2, lo, hi)


def groups(aggregates: list[Aggregate]) -> dict[tuple[str, str, str], list[Aggregate]]:
    """The sessions of each (benchmark, resultclass, swprofile), in session order."""
    out: dict[tuple[str, str, str], list[Aggregate]] = {}
    for a in sorted(aggregates, key=lambda a: (a.plan_id or 0, a.job_id or 0, a.session or "")):
        out.setdefault((a.benchmark, a.resultclass, a.swprofile), []).append(a)
    return out


@dataclass(frozen=True)
class Summary:
    count: int
    mean: float
    min: float
    max: float
    stdev: float | None  # sample standard deviation; None for one sample
    ci95min: float | None
    ci95max: float | None
    cv: float | None  # stdev / mean


def summarise(a: Aggregate) -> Summary:
    if a.count < 2:
        return Summary(a.count, a.mean, a.min, a.max, None, None, None, None)
    stdev = math.sqrt(a.m2 / (a.count - 1))
    half = t_quantile(0.975, a.count - 1) * stdev / math.sqrt(a.count)
    cv = stdev / abs(a.mean) if a.mean else None
    return Summary(a.count, a.mean, a.min, a.max, stdev, a.mean - half, a.mean + half, cv)


def welch_p(a: Summary, b: Summary) -> float | None:
    """Two-sided p-value of Welch's t-test that the two means are equal."""
    if a.count < 2 or b.count < 2:
        return None
    va, vb = a.stdev**2 / a.count, b.stdev**2 / b.count
    if va + vb == 0.0:
        return 0.0 if a.mean != b.mean else 1.0
    t = (b.mean - a.mean) / math.sqrt(va + vb)
    df = (va + vb) ** 2 / ((va**2 / (a.count - 1) if va else 0.0) + (vb**2 / (b.count - 1) if vb else 0.0))
    return 2.0 * (1.0 - t_cdf(abs(t), df))


@dataclass(frozen=True)
class Change:
    percent: float | None  # (b - a) / a of the means
    p: float | None
    significant: bool
    verdict: str  # "better", "worse", "same" (not significant), or "?" (too few samples)


def compare(base: Summary, other: Summary, improvement: str | None) -> Change:
    percent = (other.mean - base.mean) / abs(base.mean) * 100.0 if base.mean else None
    p = welch_p(base, other)
    if p is None:
        return Change(percent, None, False, "?")
    significant = p < ALPHA
    if not significant:
        return Change(percent, p, False, "same")
    up = other.mean > base.mean
    better = up if improvement != "smaller" else not up
    return Change(percent, p, True, "better" if better else "worse")
