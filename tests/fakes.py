"""Fakes we own, for fast tests of the controller's logic (the real ones are tested too)."""

from __future__ import annotations

from fastpath.sut.remote import Completed, HostKeyChanged, Target, Unreachable


class FakeRemote:
    def __init__(self, target: Target, host_key: str, facts: str, owner=None) -> None:
        self.target, self.host_key, self.facts, self.owner = target, host_key, facts, owner
        self.commands: list[str] = []

    def run(self, script: str, **kw) -> Completed:
        self.commands.append(script)
        if self.owner is not None:
            self.owner.commands.append((self.target.name, script))
            if "systemctl reboot" in script:  # it comes back with a new boot id
                self.owner.boots[self.target.name] = self.owner.boots.get(self.target.name, 0) + 1
        return Completed(0, self.facts, "")

    def alive(self) -> bool:
        return True

    def close(self) -> None:
        pass


class FakeConnections:
    """Connections to imaginary SUTs that can be taken down or re-keyed."""

    def __init__(self) -> None:
        self.down: set[str] = set()
        self.keys: dict[str, str] = {}
        self.connects: list[str] = []
        self.opened: list[str] = []  # new connections, as a person would open them
        self.commands: list[tuple[str, str]] = []  # (SUT, script) of every command run
        self.boots: dict[str, int] = {}

    def key(self, name: str) -> str:
        return self.keys.setdefault(name, f"ssh-ed25519 KEY{name}")

    def get(self, target: Target) -> FakeRemote:
        self.connects.append(target.name)
        if target.name in self.down:
            raise Unreachable(f"{target.name}: cannot connect: connection refused")
        if target.host_key and target.host_key != self.key(target.name):
            raise HostKeyChanged(f"{target.name}: host key changed")
        boots = self.boots.get(target.name, 0)
        boot = f"boot-{target.name}" + (f"-{boots}" if boots else "")
        facts = f"{boot}\nmachine-{target.name}\n6.1.0-fake\nroot=/dev/fake quiet\n"
        return FakeRemote(target, self.key(target.name), facts, self)

    def open(self, target: Target) -> FakeRemote:
        self.opened.append(target.name)
        return self.get(target)

    def drop(self, name: str) -> None:
        pass

    def close(self) -> None:
        pass


class InlineExecutor:
    """Runs submitted work at once, in the caller's thread: one tick is fully deterministic."""

    def submit(self, fn, *args):
        fn(*args)

    def shutdown(self, wait=True, cancel_futures=False):
        pass
