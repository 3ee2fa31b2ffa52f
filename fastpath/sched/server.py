"""The scheduler's processes: bootstrap, the API under gunicorn, and `sched run`'s supervisor.

`fastpath sched run` bootstraps (schema, first admin, SUT classes) and then
starts two children, the controller and the API (a gunicorn arbiter with
asyncio workers, `fastpath.sched.worker`). It forwards SIGTERM/SIGINT to both, SIGHUP to the
controller (re-read `--sutclasses`), and stops both if either dies. Every
child asks the kernel to kill it when its parent dies (PR_SET_PDEATHSIG), so
a SIGKILLed scheduler leaves no process acting on its own.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from fastpath.store.db import bind
from fastpath.store.queries import inventory, users

if TYPE_CHECKING:
    from fastpath.control.controller import Controller

log = logging.getLogger(__name__)

GiB = 1024**3
PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class Settings:
    database: str = "sqlite:///scheduler.db"
    storage: Path = Path("sched_storage")
    sutclasses: Path | None = Path("sutclasses.yaml")
    resultstore: str | None = None
    host: str = "127.0.0.1"
    port: int = 5000
    workers: int = 2
    threads: int = 32
    max_upload: int = 8 * GiB
    max_queued_jobs: int = 100_000  # per user
    webhooks: tuple[str, ...] = ()
    webhook_secret_file: Path | None = None
    extra: dict = field(default_factory=dict)
    metrics_host: str = "127.0.0.1"
    metrics_port: int | None = None  # the controller's own /metrics (`sched controller`)


def die_with_parent(parent: int | None = None) -> None:
    """Ask Linux to SIGTERM this process when its parent dies."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if parent is not None and os.getppid() != parent:  # the parent died before prctl
        os._exit(1)


def banner(token: str) -> None:
    print("****", flush=True)
    print(f"Created default admin user 'admin' with token: {token}", flush=True)
    print("****", flush=True)


def check_port(settings: Settings) -> None:
    """Fail before anything is created (the admin and its one-time token) if the API cannot listen."""
    import socket

    from fastpath.errors import FastpathError

    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn binds
        try:
            sock.bind((settings.host, settings.port))
            sock.listen()
        except OSError as exc:
            raise FastpathError(f"cannot listen on {settings.host}:{settings.port}: "
                                f"{exc.strerror or exc}; nothing was created") from exc


def bootstrap(settings: Settings, *, sync: bool) -> None:
    """Open the database, create the schema and the first admin, sync the SUT classes.

    Every part is idempotent: a restart creates nothing twice and prints no
    second token.
    """
    from fastpath.sched import sutclasses
    from fastpath.store.db import db

    specs = sutclasses.load(settings.sutclasses) if sync and settings.sutclasses else None
    bind(settings.database)
    settings.storage.mkdir(parents=True, exist_ok=True)
    with db.connection_context():
        token = users.ensure_admin(time.time())
        if token:  # at once: the token exists nowhere else
            banner(token)
        if specs is not None:
            changed = inventory.sync_inventory(specs, time.time())
            log.info("SUT classes synced: %s", {k: v for k, v in changed.items() if v})


# --- metrics: one directory that the processes of a run share (fastpath.metrics) ----------

METRICS_ENV = "PROMETHEUS_MULTIPROC_DIR"
METRICS_SHARED = "FASTPATH_METRICS_SHARED"  # set by `sched run`: its children find the directory ready


def shared_metrics_env() -> dict[str, str]:
    """`sched run`: its children's environment, with one metrics directory for all of them."""
    return {**os.environ, METRICS_ENV: _metrics_dir(), METRICS_SHARED: "1"}


def own_metrics_dir() -> None:
    """Before anything imports prometheus_client: give this process (and its forks, the API
    workers) a metrics directory of their own, unless `sched run` gave them one."""
    if os.environ.get(METRICS_SHARED) == "1" and os.environ.get(METRICS_ENV):
        return
    if "prometheus_client" in sys.modules:  # too late: its values already live in memory
        log.warning("prometheus_client was imported before %s was set: each API worker's "
                    "/metrics shows only its own requests", METRICS_ENV)
    os.environ[METRICS_ENV] = _metrics_dir()


def _metrics_dir() -> str:
    """$PROMETHEUS_MULTIPROC_DIR emptied of an earlier run's files, or a new temporary directory
    that this process removes when it exits (not its forks, which inherit the exit hook)."""
    given = os.environ.get(METRICS_ENV)
    if not given:
        import atexit
        import shutil
        import tempfile

        path, me = tempfile.mkdtemp(prefix="fastpath-metrics-"), os.getpid()

        def remove() -> None:
            if os.getpid() == me:
                shutil.rmtree(path, ignore_errors=True)

        atexit.register(remove)
        return path
    Path(given).mkdir(parents=True, exist_ok=True)
    for stale in Path(given).glob("*.db"):  # counts of processes that are gone would add up forever
        stale.unlink()
    return given


def worker_exited(server, worker) -> None:
    """gunicorn's child_exit: a dead worker's gauges must not count (its counters still do)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def serve_api(settings: Settings) -> None:
    """Run the API under gunicorn in this process (the arbiter), until SIGTERM/SIGINT."""
    from gunicorn.app.base import BaseApplication

    own_metrics_dir()

    class Api(BaseApplication):
        def load_config(self) -> None:
            options = {
                "bind": f"{settings.host}:{settings.port}",
                "workers": settings.workers,
                # asyncio workers: a waiting client costs a socket, not a thread (fastpath.api.asgi)
                "worker_class": "fastpath.sched.worker.Worker",
                "timeout": 120,
                "graceful_timeout": 5,
                "proc_name": "fastpath-api",
                # gunicorn's control socket sits at one path per user: two
                # schedulers on a host would fight over it, and we do not use it
                "control_socket_disable": True,
                "post_fork": lambda server, worker: die_with_parent(),
                "child_exit": worker_exited,
                **settings.extra.get("gunicorn", {}),
            }
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self):
            # Runs in each worker after the fork: connections never cross a fork.
            from fastpath.api import create_app
            from fastpath.api.asgi import Shell
            from fastpath.api.middleware import DrainAfterRefusal

            bind(settings.database)
            from fastpath.store import changes

            changes.watcher()  # this worker's one change-watcher, listening before the first waiter
            app = create_app(storage=settings.storage, max_upload=settings.max_upload,
                             resultstore=settings.resultstore,
                             max_queued_jobs=settings.max_queued_jobs)
            # --threads bounds the threads that run the falcon app and its database calls
            return Shell(DrainAfterRefusal(app, limit=settings.max_upload), threads=settings.threads)

    Api().run()


def child_argv(verb: str, settings: Settings) -> list[str]:
    argv = [sys.executable, "-m", "fastpath", "sched", verb, "--database", settings.database,
            "--storage", str(settings.storage)]
    if verb == "api":
        argv += ["--host", settings.host, "--port", str(settings.port),
                 "--workers", str(settings.workers), "--threads", str(settings.threads),
                 "--max-upload", str(settings.max_upload),
                 "--max-queued-jobs", str(settings.max_queued_jobs)]
    else:
        if settings.sutclasses:
            argv += ["--sutclasses", str(settings.sutclasses)]
        for url in settings.webhooks:  # the secret itself goes by file or environment, never argv
            argv += ["--webhook", url]
        if settings.webhook_secret_file:
            argv += ["--webhook-secret-file", str(settings.webhook_secret_file)]
    if settings.resultstore:  # the API names it in a plan (password masked), the controller publishes
        argv += ["--resultstore", settings.resultstore]
    return argv


def supervise(settings: Settings) -> int:
    """`sched run`: start the controller and the API, stop both together."""
    me = os.getpid()
    env = shared_metrics_env()  # one /metrics on the API shows the controller's too
    procs = {
        verb: subprocess.Popen(child_argv(verb, settings), env=env,
                               preexec_fn=lambda: die_with_parent(me))
        for verb in ("controller", "api")
    }
    stopping = []

    def stop(signum, frame) -> None:
        stopping.append(signum)
        for p in procs.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)

    def reload(signum, frame) -> None:
        procs["controller"].send_signal(signal.SIGHUP)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGHUP, reload)
    print(f"Scheduler API on http://{settings.host}:{settings.port}", flush=True)
    code = 0
    while any(p.poll() is None for p in procs.values()):
        for verb, p in procs.items():
            if p.poll() is not None and not stopping:
                log.error("the %s process exited with status %s; stopping the scheduler",
                          verb, p.returncode)
                code = 1
                stop(signal.SIGTERM, None)
        time.sleep(0.1)
    for p in procs.values():
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
    return code


def serve_controller(settings: Settings) -> None:
    """Run the controller loop in this process until SIGTERM/SIGINT; SIGHUP re-reads SUT classes."""
    import threading

    from fastpath.control.controller import Controller
    from fastpath.control.tuning import tuning_from
    from fastpath.sched import sutclasses
    from fastpath.store.db import db

    tuning = tuning_from(os.environ.get("FASTPATH_TUNING"))
    if settings.metrics_port is not None:  # before anything is created, as check_port
        serve_metrics(settings.metrics_host, settings.metrics_port)
    bootstrap(settings, sync=True)

    def resync() -> None:
        if settings.sutclasses:
            specs = sutclasses.load(settings.sutclasses)
            with db.connection_context():
                changed = inventory.sync_inventory(specs, time.time())
            log.info("SUT classes reloaded: %s", {k: v for k, v in changed.items() if v})

    controller = Controller(tuning=tuning, resync=resync)
    register_workers(controller, settings)
    stop = threading.Event()

    def halt(*_) -> None:
        stop.set()
        controller.wake.set()  # out of its wait on the change watcher at once

    signal.signal(signal.SIGTERM, halt)
    signal.signal(signal.SIGINT, halt)

    def reload(*_) -> None:
        controller.resync_requested.set()
        controller.wake.set()

    signal.signal(signal.SIGHUP, reload)
    controller.run(stop)


def serve_metrics(host: str, port: int) -> None:
    """The controller's own metrics on http://HOST:PORT/metrics, from a thread of this process."""
    from prometheus_client import start_http_server

    from fastpath.errors import FastpathError
    from fastpath.metrics import process_registry

    try:
        start_http_server(port, addr=host, registry=process_registry())
    except OSError as exc:
        raise FastpathError(f"cannot serve metrics on {host}:{port}: {exc.strerror or exc}") from exc


def register_workers(controller: Controller, settings: Settings) -> None:
    """The controller's workers beyond SUT health: jobs, and publishing if there is a store."""
    from fastpath.control.publisher import Publisher
    from fastpath.control.runner import JobRunner
    from fastpath.control.sweeper import Sweeper
    from fastpath.store.files import Storage

    storage = Storage(settings.storage)
    controller.register(JobRunner.of(controller, storage, publish_to=settings.resultstore))
    controller.register(Sweeper(storage, grace=controller.tuning.storage_grace,
                                interval=controller.tuning.storage_sweep, clock=controller.clock))
    if settings.resultstore:
        controller.register(Publisher(storage, settings.resultstore, controller.fence,
                                      tuning=controller.tuning, clock=controller.clock))
    if settings.webhooks:
        from fastpath.control.webhooks import Webhooks, load_secret

        secret = load_secret(settings.webhook_secret_file, dict(os.environ))
        controller.register(Webhooks(controller, list(settings.webhooks), secret))


def webhook_urls(urls, path: Path | None) -> tuple[str, ...]:
    """The webhook endpoints of --webhook and of a `webhooks:` file, checked."""
    from fastpath import safeyaml
    from fastpath.errors import Invalid

    found = list(urls)
    if path is not None:
        try:
            text = Path(path).read_bytes().decode()
        except (OSError, UnicodeDecodeError) as exc:
            raise Invalid(f"{path}: cannot read as UTF-8 text: {exc}") from exc
        doc = safeyaml.load(text, str(path)) or []
        if isinstance(doc, dict):
            doc = doc.get("webhooks") or []
        if not isinstance(doc, list):
            raise Invalid(f"{path}: expected a list of webhook URLs")
        found += [x.get("url") if isinstance(x, dict) else x for x in doc]
    for url in found:
        if not isinstance(url, str) or not url.startswith(("http://", "https://")) or len(url) > 512:
            raise Invalid(f"webhook {str(url)[:80]!r}: expected an http:// or https:// URL "
                          "of at most 512 characters")
    return tuple(dict.fromkeys(found))


def check_webhooks(settings: Settings) -> None:
    """Refuse to start with webhooks but no secret to sign them with."""
    if settings.webhooks:
        from fastpath.control.webhooks import load_secret

        load_secret(settings.webhook_secret_file, dict(os.environ))
