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
        self.cmdlines: dict[str, str] = {}  # a kernel command line other than the SUT's own
        self.crash: dict[str, Exception] = {}  # a fault of ours, raised on connecting

    def key(self, name: str) -> str:
        return self.keys.setdefault(name, f"ssh-ed25519 KEY{name}")

    def get(self, target: Target) -> FakeRemote:
        self.connects.append(target.name)
        if target.name in self.crash:
            raise self.crash[target.name]
        if target.name in self.down:
            raise Unreachable(f"{target.name}: cannot connect: connection refused")
        if target.host_key and target.host_key != self.key(target.name):
            raise HostKeyChanged(f"{target.name}: host key changed")
        boots = self.boots.get(target.name, 0)
        boot = f"boot-{target.name}" + (f"-{boots}" if boots else "")
        cmdline = self.cmdlines.get(target.name, "root=/dev/fake quiet")
        facts = f"{boot}\nmachine-{target.name}\n6.1.0-fake\n{cmdline}\n"
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


class FakeSut:
    """One SUT in memory, standing in for `fastpath.sut.facts`, `.driver` and `.boot` at once.

    A boot (kexec, reboot or power cycle) gives it a new boot id and the kernel
    and command line it was asked for; the job driver's runs finish when it is
    started and write a results.csv. It counts what a repeated step must not do
    twice: boots, and driver starts that found runs already finished.
    """

    def __init__(self) -> None:
        self.n_boots = 0
        self.boot_id, self.release, self.cmdline = "boot-0", "6.1.0-own", "root=/dev/fake quiet"
        self.dirs: dict[str, int] = {}  # job directory -> number of runs
        self.started: set[str] = set()
        self.calls: list[str] = []
        self.fail: dict[str, BaseException] = {}  # call name -> raised at every such call

    def _call(self, name: str) -> None:
        self.calls.append(name)
        if name in self.fail:
            raise self.fail[name]

    def _boot(self, cmdline: str, release: str | None) -> None:
        self.n_boots += 1
        self.boot_id = f"boot-{self.n_boots}"
        self.cmdline, self.release = cmdline, release or "6.9.0-fake"

    # fastpath.sut.facts
    def boot_facts(self, remote) -> dict:
        self._call("boot_facts")
        return {"boot_id": self.boot_id, "machine_id": "machine-fake", "release": self.release,
                "cmdline": self.cmdline, "uid": 0}

    def fingerprint(self, remote) -> dict:
        self._call("fingerprint")
        return {"HW": {"host_name": "fake"}, "SW": {"userspace_name": "fake"}}

    def survey(self, remote, *, fingerprinted_boot: str | None, and_then: str = ""):
        seen = self.boot_facts(remote)
        fp = None if fingerprinted_boot == self.boot_id else self.fingerprint(remote)
        if and_then.startswith("clear_stale "):
            self.clear_stale(remote, and_then.split(" ", 1)[1], "")
        return seen, fp

    # fastpath.sut.driver
    def clear_stale_script(self, keep: str, runtime: str) -> str:
        return f"clear_stale {keep}"

    def clear_stale(self, remote, keep: str, runtime: str) -> None:
        self._call("clear_stale")
        for path in [p for p in self.dirs if p != keep]:
            self.remove(remote, path)

    def prepare(self, remote, path: str, runs: list, runtime: str, pull: bool = False,
                check_runtime: bool = False) -> None:
        if check_runtime:
            self._call("check_runtime")
        self._call("prepare")
        self.dirs[path] = len(runs)

    def start(self, remote, path: str) -> None:
        self._call("start")
        self.started.add(path)

    def poll(self, remote, path: str):
        from fastpath.sut.driver import Status

        self._call("poll")
        if path not in self.dirs:
            return Status(False, "", False, {})
        state = "0" if path in self.started else "-"
        return Status(True, self.boot_id, False, {i: state for i in range(self.dirs[path])})

    def collect(self, remote, path: str, indexes: list[int], into) -> None:
        self._call("collect")
        for index in indexes:
            run = into / "runs" / f"{index:04d}"
            run.mkdir(parents=True, exist_ok=True)
            (run / "exit").write_text("0\n")
            (run / "results.csv").write_text("resultclass,value,unit,improvement\nops,42,ops/s,bigger\n")

    def remove(self, remote, path: str) -> None:
        self._call("remove")
        self.dirs.pop(path, None)
        self.started.discard(path)

    # fastpath.sut.boot
    def stage(self, remote, files: dict, into: str) -> list[str]:
        self._call("stage")
        return [f"{into}/{name}" for name in files]

    def install_modules(self, remote, archive: str, release: str | None, uid: int | None) -> None:
        self._call("install_modules")

    def kexec(self, remote, kernel: str, initrd: str | None, cmdline: str, uid: int | None) -> None:
        self._call("kexec")
        self._boot(cmdline, None)

    def reboot(self, remote, kernel: str, initrd: str | None, cmdline: str, session: str,
               uid: int | None) -> None:
        self._call("reboot")
        self._boot(cmdline, None)

    def power_cycle(self, argv: list[str], values: dict[str, str], run=None) -> None:
        self._call("power_cycle")
        self._boot(values["cmdline"] or "root=/dev/fake quiet", values["release"] or "6.1.0-own")


class FakeRemotes:
    """What the job steps connect through, for a `FakeSut` (no SSH at all)."""

    def __init__(self) -> None:
        self.dropped = 0

    def get(self, sut) -> FakeRemote:
        return FakeRemote(None, "ssh-ed25519 KEYfake", "")  # type: ignore[arg-type]

    def fresh(self, sut) -> FakeRemote:
        return self.get(sut)

    def drop(self, name: str) -> None:
        self.dropped += 1
