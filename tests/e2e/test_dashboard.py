"""The dashboard in a real browser, against a real `fastpath sched run` over real test SUTs.

One scheduler for the module: its `demo` class holds two SUTs, and a plan
of two swprofiles (named like a script, to show it stays text) has
finished and published its results before the first test. Screenshots go
to the run's basetemp, under `dashboard-screenshots`.
"""

from __future__ import annotations

import json
import signal

import pytest

from tests.e2e.conftest import FAST, back_on_own_kernel
from tests.e2e.scheduler import Scheduler
from tests.e2e.test_plans import finished, plan_file

XSS = "<script>alert(1)</script>"
SESSIONS = 3
LIVE = 60_000  # ms the page may take to show what the controller saw (probes every 5 s)


@pytest.fixture(scope="module")
def board(tmp_path_factory, testbed, busyloop):
    work = tmp_path_factory.mktemp("dashboard")
    back_on_own_kernel(testbed.suts)
    testbed.write_sutclasses(work / "sutclasses.yaml", "demo", boot="power_cycle",
                             suts=testbed.suts[:2], boot_timeout="20s")
    s = Scheduler(work, resultstore=f"sqlite:///{work}/results.db")
    s.start(env={"FASTPATH_TUNING": FAST})
    token = s.login()
    path = plan_file(work, swprofiles=[{"name": n, "kernel": "Image", "modules": "modules.tar.xz"}
                                       for n in ("baseline", "candidate")],
                     defaults={"warmups": 0, "repeats": 2, "sessions": SESSIONS, "timeout": "1h"})
    doc = path.read_text().replace("sutclass: demo", f"sutclass: demo\n  name: {json.dumps(XSS)}")
    path.write_text(doc)
    s.cli("sched", "plan-exec", str(path))
    deadline_wait(lambda: finished(s, 1), 300, "the plan")
    assert finished(s, 1)["state"] == "completed"
    yield s, token
    s.stop(signal.SIGKILL)


def deadline_wait(predicate, timeout: float, what: str):
    import time

    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.3)
    return value


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    path = tmp_path_factory.getbasetemp() / "dashboard-screenshots"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture
def page(browser, board):
    """A fresh browser context (no cookie), signed in through the login form."""
    s, token = board
    context = browser.new_context(viewport={"width": 1100, "height": 720})
    p = context.new_page()
    dialogs: list[str] = []
    p.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    p.goto(s.url + "/ui/plans/1")
    assert "/ui/login?next=" in p.url  # no cookie: the login page first
    p.fill("#token", token)
    p.click("button[type=submit]")
    p.wait_for_url(s.url + "/ui/plans/1")
    p.dialogs = dialogs  # type: ignore[attr-defined]
    yield p
    assert dialogs == []  # no script of a user's ever ran
    context.close()


def tile(p, sut: str, state: str):
    return p.wait_for_selector(f'li.tile[data-sut="{sut}"][data-state="{state}"]', timeout=LIVE)


def test_overview_shows_both_suts_while_one_is_leased(board, page, shots):
    s, _ = board
    lease = json.loads(s.cli("sched", "lease-acquire", "demo", "--wait", "--json").stdout)["lease"]
    leased = lease["sut"]["name"]
    other = ({"sut-01", "sut-02"} - {leased}).pop()
    try:
        page.goto(s.url + "/")
        held = tile(page, leased, "lease")
        assert f"lease {lease['id']} · admin" in held.inner_text()
        tile(page, other, "free")  # once back on its own kernel after the plan's last job
        assert page.locator("li.tile").count() == 2
        page.screenshot(path=str(shots / "overview.png"))
        page.goto(s.url + "/ui/leases")
        assert page.locator(f'tr[data-lease="{lease["id"]}"]').inner_text().count(leased) == 1
        page.screenshot(path=str(shots / "leases.png"))
        page.goto(s.url + "/")
    finally:
        s.cli("sched", "lease-release", str(lease["id"]))
    tile(page, leased, "free")  # and the release shows up without a reload


def test_plan_chart_has_one_point_per_session_per_swprofile(board, page, shots):
    s, _ = board
    page.goto(s.url + "/ui/plans/1")
    assert page.inner_text("h1 .name") == XSS  # the plan's name is text
    stats = json.loads(s.cli("result", "show", s.resultstore, "--plan", "1", "--json").stdout)["statistics"]
    charts = page.locator("figure.chart")
    assert charts.count() == len({(r["benchmark"], r["resultclass"]) for r in stats}) >= 1
    for row in stats:
        chart = page.locator(f'figure.chart[data-benchmark="{row["benchmark"]}"]'
                             f'[data-resultclass="{row["resultclass"]}"]')
        group = chart.locator(f'g.swprofile[data-swprofile="{row["swprofile"]}"]')
        points = [float(v) for v in group.locator("circle.session").evaluate_all(
            "els => els.map(e => e.getAttribute('data-value'))")]
        assert len(points) == SESSIONS == row["sessions"]
        assert points == row["session_means"]  # the numbers `result show --plan` prints
        assert float(group.locator("rect.mean").get_attribute("data-value")) == row["mean"]
        assert group.locator("line.ci").count() == 1
    assert page.locator("tr[data-job]").count() == 2 * SESSIONS
    page.screenshot(path=str(shots / "plan.png"), full_page=True)


def test_a_sut_turns_unhealthy_without_a_reload_when_its_sshd_stops(board, page, shots, testbed):
    s, _ = board
    page.goto(s.url + "/")
    tile(page, "sut-02", "free")
    page.evaluate("window.stillHere = true")  # gone if the page were loaded again
    victim = testbed.sut("sut-02")
    victim.stop()
    try:
        gone = tile(page, "sut-02", "unhealthy")
        assert page.evaluate("window.stillHere") is True
        assert gone.get_attribute("title")  # the reason, on hover
        page.screenshot(path=str(shots / "unhealthy.png"))
        page.click('li.tile[data-sut="sut-02"] a')
        page.wait_for_selector("ul.errors li")
        page.screenshot(path=str(shots / "sut.png"), full_page=True)
    finally:
        victim.start()
    page.wait_for_selector('h1 span.tile[data-state="free"]', timeout=LIVE)  # back, on its page
