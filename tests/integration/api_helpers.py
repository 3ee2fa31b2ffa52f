"""Building blocks for API tests: an app bound to a real database, users, SUT classes."""

from __future__ import annotations

import time
from pathlib import Path

import yaml
from falcon.testing import TestClient

from fastpath.api import create_app
from fastpath.core.sutclass import parse
from fastpath.store.queries import inventory, suts, users


class Api:
    """A falcon test client with helpers to act as different users."""

    def __init__(self, clock, storage: Path, max_upload: int = 64 * 1024 * 1024,
                 resultstore: str | None = None, **options) -> None:
        self.clock = clock
        sleep = clock.advance if hasattr(clock, "advance") else time.sleep
        self.client = TestClient(create_app(storage=storage, max_upload=max_upload, clock=clock,
                                            sleep=sleep, resultstore=resultstore, **options))
        self.admin = users.ensure_admin(clock())
        self.tokens = {"admin": self.admin}

    def user(self, name: str, capabilities: str) -> str:
        r = self.post("/users", {"name": name, "capabilities": capabilities})
        assert r.status_code == 201, r.json
        self.tokens[name] = r.json["token"]
        return r.json["token"]

    def _h(self, who: str | None) -> dict:
        return {} if who is None else {"Authorization": f"Bearer {self.tokens.get(who, who)}"}

    def get(self, path: str, who: str | None = "admin", **params):
        return self.client.simulate_get(path, params=params or None, headers=self._h(who))

    def post(self, path: str, body=None, who: str | None = "admin", **kw):
        if isinstance(body, dict | list):
            kw["json"] = body
        elif body is not None:
            kw["body"] = body
        return self.client.simulate_post(path, headers={**self._h(who), **kw.pop("headers", {})}, **kw)

    def patch(self, path: str, body, who: str | None = "admin"):
        return self.client.simulate_patch(path, json=body, headers=self._h(who))


def declare(tmp_path: Path, classes: dict[str, int], now: float, **params) -> None:
    """Declare SUT classes with n SUTs each (unreachable addresses: the API never connects)."""
    key = tmp_path / "key"
    key.write_text("x")
    doc = [{"sutclass": name, "type": "static", "params": {**params, "suts": [
        {"name": f"{name}-{i:02d}", "connection": {"method": "SSH", "params": {
            "host": f"192.0.2.{i}", "user": "fpuser", "keyfile": str(key)}}} for i in range(1, n + 1)]}}
        for name, n in classes.items()]
    inventory.sync_inventory(parse(yaml.safe_dump(doc), source="s.yaml", base=tmp_path), now)


def make_healthy(now: float) -> None:
    from fastpath.store.models import Sut

    for sut in Sut.select():
        suts.record_ok(sut.id, now, facts={})


def submit(api: Api, plan: dict, files: dict | None = None, who: str = "admin", priority: int = 5,
           publish: bool = True):
    """POST /plans as `fastpath sched plan-exec` does: multipart with the plan and its files."""
    from fastpath.cli.plans import Upload

    upload = Upload(plan, files or {}, {"priority": str(priority),
                                        "publish": "true" if publish else "false"})
    return api.post("/plans", b"".join(upload.chunks()), who=who,
                    headers={"Content-Type": upload.content_type})
