"""Webhooks from the outbox, against a real local HTTP receiver that fails and goes away.

The real `fastpath sched run --webhook URL`, real sshd SUTs and podman make the
events; the receiver is a real HTTP server on loopback that refuses the first
deliveries, then is down across a scheduler restart. Every event arrives,
signed, and the receiver acts on each delivery id once.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from fastpath.core.notify import EVENT_HEADER, ID_HEADER, SIGNATURE_HEADER, event_type, verify
from tests.e2e.conftest import FAST
from tests.e2e.scheduler import Scheduler, free_port
from tests.e2e.test_plans import plan_file

SECRET = "correct horse battery staple"


class Receiver:
    """A webhook receiver: refuses the first `refuse` POSTs (503), records the rest."""

    def __init__(self, port: int, refuse: int = 0) -> None:
        self.port, self.refuse = port, refuse
        self.posts: list[dict] = []  # every POST seen, refused or not
        self.acted: dict[str, dict] = {}  # delivery id -> body, the first time only
        self.lock = threading.Lock()
        self.server = None

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    seen = {"id": self.headers[ID_HEADER], "event": self.headers[EVENT_HEADER],
                            "signed": verify(SECRET.encode(), body, self.headers[SIGNATURE_HEADER]),
                            "body": json.loads(body)}
                    receiver.posts.append(seen)
                    refused = receiver.refuse > 0
                    if refused:
                        receiver.refuse -= 1
                    elif seen["signed"]:
                        receiver.acted.setdefault(seen["id"], seen["body"])
                self.send_response(503 if refused else 204)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def types(self) -> list[str]:
        with self.lock:
            return sorted(b["type"] for b in self.acted.values())


def until(predicate, timeout: float = 90.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.1)
    return value


@pytest.fixture
def hooked(tmp_path, testbed, busyloop):
    receiver = Receiver(free_port(), refuse=3)
    receiver.start()
    testbed.write_sutclasses(tmp_path / "sutclasses.yaml", "demo", boot="none",
                             suts=testbed.suts[:2], boot_timeout="20s")
    s = Scheduler(tmp_path, extra=["--webhook", f"http://127.0.0.1:{receiver.port}/hook"])
    s.env = {"FASTPATH_TUNING": FAST + ",webhook_backoff_base=0.2,webhook_backoff_cap=1",
             "FASTPATH_WEBHOOK_SECRET": SECRET}
    s.start(env=s.env)
    s.login()
    yield s, receiver
    s.stop(signal.SIGKILL)
    try:
        receiver.stop()
    except Exception:
        pass


def notifying(s) -> set[str]:
    """Ids of the events that should have been notified, from the event log."""
    events = json.loads(s.cli("sched", "event-list", "--limit", "1000", "--json").stdout)["events"]
    return {str(e["id"]) for e in events if event_type(e["kind"], e["from"], e["to"])}


def pending(s) -> list[tuple]:
    with sqlite3.connect(f"file:{s.workdir}/scheduler.db?mode=ro", uri=True) as db:
        return db.execute("SELECT id, attempts, last_error FROM delivery WHERE state = 'pending'"
                          ).fetchall()


def test_every_event_arrives_signed_once_across_refusals_and_a_restart(hooked, tmp_path):
    s, receiver = hooked
    bob, alice = s.user("bob", "lease,query"), s.user("alice", "exec,query")
    quick = {"warmups": 0, "repeats": 1, "sessions": 1}

    def lease_once() -> None:
        got = json.loads(s.cli("sched", "lease-acquire", "demo", "--wait", "--json", token=bob).stdout)
        s.cli("sched", "lease-release", str(got["lease"]["id"]), token=bob)

    lease_once()
    first = plan_file(tmp_path, name="p1.yaml", defaults=quick, swprofiles=[{"name": "a"}])
    s.cli("sched", "plan-exec", str(first), "--wait", token=alice)
    until(lambda: receiver.types() == ["lease.acquired", "plan.completed"], what="two events")
    assert len(receiver.posts) >= 5  # three refused first, then delivered

    # the receiver goes away; events go on and wait in the outbox, across a restart
    receiver.stop()
    lease_once()
    second = plan_file(tmp_path, name="p2.yaml", defaults=quick, swprofiles=[{"name": "b"}])
    s.cli("sched", "plan-exec", str(second), "--wait", token=alice)  # a dead receiver slows nothing
    until(lambda: len([p for p in pending(s) if p[1] >= 1]) == 2, what="two failed deliveries")
    assert all(p[2] for p in pending(s))  # each with the reason it failed
    s.stop()
    s.start(env=s.env)
    receiver.start()
    expected = notifying(s)
    until(lambda: set(receiver.acted) and {b["id"] for b in receiver.acted.values()} >= expected
          and not pending(s), what="every event delivered")

    bodies = list(receiver.acted.values())
    assert sorted(b["type"] for b in bodies) == ["lease.acquired"] * 2 + ["plan.completed"] * 2
    assert all(p["signed"] for p in receiver.posts)
    # retries carry the same delivery id: the receiver acted once per id, once per event
    assert len({b["id"] for b in bodies}) == len(bodies) == len(expected)
    assert {p["id"] for p in receiver.posts} == set(receiver.acted)
    lease = next(b for b in bodies if b["type"] == "lease.acquired")
    assert lease["lease"]["user"] == "bob" and lease["lease"]["sut"].startswith("sut-")
    plan = next(b for b in bodies if b["type"] == "plan.completed")
    assert plan["plan"]["user"] == "alice" and plan["plan"]["sutclass"] == "demo"


def test_webhooks_without_a_secret_refuse_to_start(tmp_path, testbed):
    testbed.write_sutclasses(tmp_path / "sutclasses.yaml", "demo", boot="none", suts=testbed.suts[:1])
    s = Scheduler(tmp_path, extra=["--webhook", "http://127.0.0.1:9/hook"])
    s.start(wait=False, env={"FASTPATH_WEBHOOK_SECRET": ""})
    assert s.proc.wait(60) == 2
    assert "webhooks need a signing secret" in s.errors()
