"""A plan's results per benchmark metric, as the charts of the plan page draw them.

The numbers are those `fastpath result show --plan ID` prints: the same
store, the same grouping by session and the same summaries
(`fastpath.results.analysis`). `geometry` is pure: it places each session
mean as a point and each confidence interval as a bar in an SVG box.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastpath.results import analysis
from fastpath.results.backend import Filters, open_store

WIDTH, HEIGHT = 560, 220
LEFT, RIGHT, TOP, BOTTOM = 70, 20, 16, 40


@dataclass(frozen=True)
class Series:
    swprofile: str
    summary: analysis.Summary


@dataclass(frozen=True)
class Panel:
    benchmark: str  # suite/name
    resultclass: str
    unit: str | None
    improvement: str | None
    series: list[Series]


def plan_panels(store: str, plan_id: int) -> list[Panel]:
    """One panel per (benchmark, result class) of the plan's published results."""
    s = open_store(store)
    try:
        grouped = analysis.groups(s.aggregate(Filters(plans=(plan_id,))))
        benches = {r["id"]: f"{r['suite']}/{r['name']}" for r in s.rows("benchmark")} if grouped else {}
        classes = {(r["benchmark"], r["name"]): r for r in s.rows("resultclass")} if grouped else {}
    finally:
        s.close()
    by_metric: dict[tuple[str, str], list[Series]] = {}
    for (bench, rc, sw), parts in sorted(grouped.items()):
        by_metric.setdefault((bench, rc), []).append(Series(sw, analysis.summarise(parts)))
    out = []
    for (bench, rc), series in sorted(by_metric.items(), key=lambda kv: (benches.get(kv[0][0], ""),
                                                                         kv[0][1])):
        meta = classes.get((bench, rc), {})
        out.append(Panel(benches.get(bench, bench), rc, meta.get("unit"), meta.get("improvement"), series))
    return out


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values covering lo..hi (1, 2 or 5 times a power of ten apart)."""
    import math

    if hi <= lo:
        hi, lo = lo + (abs(lo) or 1.0) * 0.5, lo - (abs(lo) or 1.0) * 0.5
    raw = (hi - lo) / max(1, count - 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.floor(lo / step)
    ticks = [round(first * step, 12)]
    while ticks[-1] < hi:
        ticks.append(round((first + len(ticks)) * step, 12))
    return ticks


def geometry(panel: Panel) -> dict:
    """Coordinates for the template: y axis ticks, and per swprofile its points and interval."""
    values = [m for s in panel.series for m in s.summary.session_means]
    values += [v for s in panel.series for v in (s.summary.ci95min, s.summary.ci95max) if v is not None]
    ticks = nice_ticks(min(values), max(values))
    lo, hi = ticks[0], ticks[-1]
    plot_h, plot_w = HEIGHT - TOP - BOTTOM, WIDTH - LEFT - RIGHT

    def y(v: float) -> float:
        return round(TOP + plot_h * (1 - (v - lo) / (hi - lo)), 2)

    slot = plot_w / len(panel.series)
    columns = []
    for i, s in enumerate(panel.series):
        x = LEFT + slot * (i + 0.5)
        m = s.summary
        columns.append({
            "swprofile": s.swprofile, "x": round(x, 2), "summary": m,
            # side by side, so that equal session means stay countable
            "points": [{"x": round(x - 24 + 4 * (j % 5), 2), "y": y(v), "value": v}
                       for j, v in enumerate(m.session_means)],
            "mean": {"x": round(x + 12, 2), "y": y(m.mean)},
            "ci": ({"low": y(m.ci95min), "high": y(m.ci95max)}
                   if m.ci95min is not None and m.ci95max is not None else None),
        })
    return {"width": WIDTH, "height": HEIGHT, "left": LEFT, "right": WIDTH - RIGHT, "top": TOP,
            "bottom": HEIGHT - BOTTOM, "ticks": [{"value": t, "y": y(t)} for t in ticks],
            "columns": columns}
