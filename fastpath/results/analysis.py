"""Statistics of results, with the session as the unit of replication.

Pure. Repeats within one session (one boot of one job) share that boot's
state, so they are not independent; sessions are. For each (benchmark,
result class, swprofile) a summary is the mean of the session means, with a
95% confidence interval from Student's t over the sessions (sessions - 1
degrees of freedom), the spread within sessions (the pooled standard
deviation of the repeats around their session's mean) and between them (the
standard deviation of the session means). Two swprofiles are compared by
Welch's t-test over their session means (unequal variances, two-sided,
significant when p < 0.05), which also gives the interval of the change.
With fewer than 3 sessions on a side, a comparison is marked weak.

The t distribution is computed here, from the regularised incomplete beta
function (continued fraction), because no installed dependency provides one
(SciPy is used by the tests only, to check these numbers); its quantiles
are found by Newton's method and cached per degrees of freedom.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from statistics import NormalDist

from fastpath.results.backend import Aggregate

ALPHA = 0.05
WEAK_BELOW = 3  # sessions per side

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


def t_pdf(t: float, df: float) -> float:
    return math.exp(math.lgamma((df + 1) / 2) - math.lgamma(df / 2)
                    - 0.5 * math.log(df * math.pi) - (df + 1) / 2 * math.log1p(t * t / df))


@lru_cache(maxsize=1024)
def t_quantile(p: float, df: float) -> float:
    """The t with P(T <= t) = p: Newton's method from the normal quantile.

    For p > 1/2 the CDF is concave above the start (the normal quantile is
    below the t quantile), so the iterates rise monotonically to the root.
    """
    if p < 0.5:
        return -t_quantile(1.0 - p, df)
    if p == 0.5:
        return 0.0
    x = NormalDist().inv_cdf(p)
    for _ in range(200):
        step = (p - t_cdf(x, df)) / t_pdf(x, df)
        x += step
        if abs(step) <= 1e-12 * max(1.0, abs(x)):
            break
    return x


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
    sessions: int
    count: int  # samples (repeats over all sessions)
    mean: float  # the mean of the session means
    min: float
    max: float
    ci95min: float | None  # over sessions; None with one session
    ci95max: float | None
    within: float | None  # pooled standard deviation of repeats around their session's mean
    between: float | None  # standard deviation of the session means
    session_means: tuple[float, ...]

    @property
    def cv(self) -> float | None:
        """Between-session spread relative to the mean."""
        return self.between / abs(self.mean) if self.between is not None and self.mean else None


def summarise(parts: list[Aggregate]) -> Summary:
    """The summary of one group from its sessions (one Aggregate each)."""
    means = tuple(a.mean for a in parts)
    k, n = len(means), sum(a.count for a in parts)
    mean = math.fsum(means) / k
    dof = sum(a.count - 1 for a in parts)
    within = math.sqrt(math.fsum(a.m2 for a in parts) / dof) if dof else None
    lo, hi = min(a.min for a in parts), max(a.max for a in parts)
    if k < 2:
        return Summary(k, n, mean, lo, hi, None, None, within, None, means)
    between = math.sqrt(math.fsum((m - mean) ** 2 for m in means) / (k - 1))
    half = t_quantile(1 - ALPHA / 2, k - 1) * between / math.sqrt(k)
    return Summary(k, n, mean, lo, hi, mean - half, mean + half, within, between, means)


@dataclass(frozen=True)
class Change:
    percent: float | None  # (b - a) / |a| of the means of session means
    ci95min: float | None  # the interval of that change, in percent
    ci95max: float | None
    p: float | None
    df: float | None
    significant: bool
    weak: bool  # fewer than WEAK_BELOW sessions on a side
    verdict: str  # "better", "worse", "same" (not significant), or "?" (too few sessions)


def welch(a: Summary, b: Summary) -> tuple[float, float, float] | None:
    """Welch's t-test over session means: (p two-sided, degrees of freedom, standard error)."""
    if a.sessions < 2 or b.sessions < 2 or a.between is None or b.between is None:
        return None
    va, vb = a.between**2 / a.sessions, b.between**2 / b.sessions
    if va + vb == 0.0:
        return (0.0 if a.mean != b.mean else 1.0), float(a.sessions + b.sessions - 2), 0.0
    se = math.sqrt(va + vb)
    df = (va + vb) ** 2 / ((va**2 / (a.sessions - 1)) + (vb**2 / (b.sessions - 1)))
    t = (b.mean - a.mean) / se
    return 2.0 * (1.0 - t_cdf(abs(t), df)), df, se


def compare(base: Summary, other: Summary, improvement: str | None) -> Change:
    scale = 100.0 / abs(base.mean) if base.mean else None
    diff = other.mean - base.mean
    percent = diff * scale if scale is not None else None
    weak = min(base.sessions, other.sessions) < WEAK_BELOW
    test = welch(base, other)
    if test is None:
        return Change(percent, None, None, None, None, False, weak, "?")
    p, df, se = test
    half = t_quantile(1 - ALPHA / 2, df) * se
    lo, hi = ((diff - half) * scale, (diff + half) * scale) if scale is not None else (None, None)
    if p >= ALPHA:
        return Change(percent, lo, hi, p, df, False, weak, "same")
    better = (diff > 0) if improvement != "smaller" else (diff < 0)
    return Change(percent, lo, hi, p, df, True, weak, "better" if better else "worse")
