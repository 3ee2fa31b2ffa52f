"""The plan page's chart geometry and the overview's tile states (pure)."""

from __future__ import annotations

from fastpath.api.dashboard import charts
from fastpath.api.dashboard.pages import tile_state
from fastpath.results import analysis
from fastpath.results.backend import Aggregate


def summary(*means: float) -> analysis.Summary:
    return analysis.summarise([Aggregate("b", "rc", "sw", 2, m, 0.5, m - 1, m + 1) for m in means])


def panel(**series) -> charts.Panel:
    return charts.Panel("suite/b", "rc", "s", "smaller",
                        [charts.Series(sw, summary(*means)) for sw, means in series.items()])


def test_every_session_mean_is_a_point_inside_the_box_and_the_interval_spans_the_mean():
    g = charts.geometry(panel(baseline=(10.0, 12.0, 11.0), candidate=(20.0, 21.0)))
    base, cand = g["columns"]
    assert [p["value"] for p in base["points"]] == [10.0, 12.0, 11.0] and len(cand["points"]) == 2
    for c in g["columns"]:
        for p in c["points"]:
            assert g["top"] <= p["y"] <= g["bottom"] and g["left"] <= p["x"] <= g["right"]
        assert c["ci"]["high"] <= c["mean"]["y"] <= c["ci"]["low"]  # y grows downwards
    lower = min(base["points"], key=lambda p: p["value"])
    assert lower["y"] == max(p["y"] for p in base["points"])
    assert base["x"] < cand["x"]
    ticks = [t["value"] for t in g["ticks"]]
    assert ticks[0] <= base["summary"].ci95min and ticks[-1] >= cand["summary"].ci95max


def test_one_session_has_no_interval_and_equal_values_still_make_a_box():
    g = charts.geometry(panel(only=(5.0,)))
    [c] = g["columns"]
    assert c["ci"] is None and len(c["points"]) == 1
    assert g["ticks"][0]["value"] < 5.0 < g["ticks"][-1]["value"]


def test_ticks_are_round():
    assert charts.nice_ticks(0.17, 0.25) == [0.16, 0.18, 0.2, 0.22, 0.24, 0.26]
    assert charts.nice_ticks(11028.7, 70986) == [0.0, 20000.0, 40000.0, 60000.0, 80000.0]


def test_a_tile_is_free_or_held_when_healthy_else_its_health():
    assert tile_state("healthy", None) == "free"
    assert tile_state("healthy", "lease") == "lease" and tile_state("healthy", "job") == "job"
    for health in ("unknown", "unhealthy", "reset", "maintenance", "retired"):
        assert tile_state(health, "job") == health
