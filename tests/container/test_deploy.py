"""deploy/: each file checked by the real tool that consumes it, and the compose file brought up.

Kubernetes manifests: kubernetes-validate (strict schemas) plus the split
deployment's wiring. systemd unit: `systemd-analyze verify` and its offline
security score. Dockerfile: hadolint. Compose: podman-compose's `config`, then
its scheduler service up on the image the container tests built, pointed at
the machine's PostgreSQL (no PostgreSQL image can be pulled here).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import click
import pytest
import yaml

from fastpath.cli.sched import sched as sched_group
from fastpath.core.sutclass import parse as parse_sutclasses
from tests.container.podman import ROOT, TOKEN, Podman, free_port, wait_healthz
from tests.databases import scratch_database

DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "kubernetes"
BIN = Path(sys.executable).parent  # tools of the test extra, installed in the venv


def tool(name: str) -> str:
    """A tool of the test extra, from this venv (Debian's podman-compose 1.0 lacks `config`)."""
    path = BIN / name
    assert path.exists(), f"{name} is missing from {BIN}: run scripts/bootstrap test"
    return str(path)


def run(*argv: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, timeout=300, **kw)


def envvars(verb: str) -> set[str]:
    """The environment variables that `fastpath sched VERB` reads (its options' envvar)."""
    command = sched_group.commands[verb]
    return {p.envvar for p in command.params if isinstance(p, click.Option) and p.envvar}


# --- Kubernetes -----------------------------------------------------------------------------------


def k8s_docs() -> dict[tuple[str, str], dict]:
    docs = {}
    for path in sorted(K8S.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc and doc.get("kind") != "Kustomization":
                docs[doc["kind"], doc["metadata"]["name"]] = doc
    return docs


def test_kubernetes_manifests_pass_strict_schema_validation():
    files = [str(p) for p in sorted(K8S.glob("*.yaml")) if p.name != "kustomization.yaml"]
    proc = run(tool("kubernetes-validate"), "--strict", *files)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ERROR" not in proc.stdout + proc.stderr


def test_kustomization_lists_every_manifest_but_the_secret_examples():
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    listed = set(kustomization["resources"])
    present = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml", "secrets.example.yaml"}
    assert listed == present


def _pod(docs, name: str) -> tuple[dict, dict]:
    deployment = docs["Deployment", name]
    spec = deployment["spec"]["template"]["spec"]
    [container] = spec["containers"]
    return deployment, spec | {"container": container}


def _env(container: dict) -> dict[str, dict | str]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}


def _mount_of(pod: dict, volume_pred) -> dict[str, dict]:
    """Mounts of the container whose volume matches `volume_pred`, by mount path."""
    volumes = {v["name"]: v for v in pod["volumes"]}
    return {m["mountPath"]: m for m in pod["container"]["volumeMounts"] if volume_pred(volumes[m["name"]])}


def test_kubernetes_split_deployment_is_wired_as_designed():
    docs = k8s_docs()
    api_dep, api = _pod(docs, "fastpath-api")
    ctl_dep, ctl = _pod(docs, "fastpath-controller")
    assert api["container"]["command"] == ["fastpath", "sched", "api"]
    assert ctl["container"]["command"] == ["fastpath", "sched", "controller"]
    assert api_dep["spec"]["replicas"] >= 2
    assert ctl_dep["spec"]["replicas"] == 2  # one active, one standby through the leader row

    for pod, verb in ((api, "api"), (ctl, "controller")):
        env = _env(pod["container"])
        assert set(env) <= envvars(verb), f"{verb} does not read {set(env) - envvars(verb)}"
        assert env["FASTPATH_DATABASE"] == {"secretKeyRef": {"name": "fastpath-database", "key": "url"}}
        assert pod["securityContext"]["runAsNonRoot"] is True
        # storage: one ReadWriteMany claim shared by both, mounted where FASTPATH_STORAGE points
        storage = _mount_of(pod, lambda v: v.get("persistentVolumeClaim", {}).get("claimName")
                            == "fastpath-storage")
        assert list(storage) == [env["FASTPATH_STORAGE"]]
    assert docs["PersistentVolumeClaim", "fastpath-storage"]["spec"]["accessModes"] == ["ReadWriteMany"]

    for probe in ("readinessProbe", "livenessProbe"):
        assert api["container"][probe]["httpGet"]["path"] == "/healthz"
        assert api["container"][probe]["httpGet"]["port"] in ("http", 5000)
    selector = docs["Service", "fastpath-api"]["spec"]["selector"].items()
    assert selector <= api_dep["spec"]["template"]["metadata"]["labels"].items()
    assert not selector <= ctl_dep["spec"]["template"]["metadata"]["labels"].items()

    # the controller's SUT classes from the ConfigMap, its SSH key from the Secret, owner-only
    env = _env(ctl["container"])
    sutclasses = Path(env["FASTPATH_SUTCLASSES"])
    [(mount, m)] = _mount_of(
        ctl, lambda v: v.get("configMap", {}).get("name") == "fastpath-sutclasses").items()
    assert sutclasses.parent == Path(mount) and m["readOnly"]
    assert sutclasses.name in docs["ConfigMap", "fastpath-sutclasses"]["data"]
    volumes = {v["name"]: v for v in ctl["volumes"]}
    [(key_dir, m)] = _mount_of(ctl, lambda v: v.get("secret", {}).get("secretName") == "fastpath-ssh").items()
    assert m["readOnly"] and volumes[m["name"]]["secret"]["defaultMode"] == 0o400
    text = docs["ConfigMap", "fastpath-sutclasses"]["data"][sutclasses.name]
    keyfiles = re.findall(r"keyfile: (\S+)", text)
    assert keyfiles and all(Path(k).parent == Path(key_dir) for k in keyfiles)


@pytest.mark.parametrize("source", ["kubernetes", "compose"])
def test_example_sutclasses_parse(source, tmp_path):
    text = (yaml.safe_load((K8S / "sutclasses.yaml").read_text())["data"]["sutclasses.yaml"]
            if source == "kubernetes" else (DEPLOY / "sutclasses.example.yaml").read_text())
    key = tmp_path / "id_ed25519"
    key.write_text("a key")
    classes = parse_sutclasses(text.replace("/etc/fastpath/ssh/id_ed25519", str(key)), source=source,
                               base=tmp_path)
    assert [c.name for c in classes] == ["demo"]


# --- systemd --------------------------------------------------------------------------------------

UNIT = DEPLOY / "systemd" / "fastpath-scheduler.service"


def unit_settings() -> dict[str, list[str]]:
    settings: dict[str, list[str]] = {}
    for line in UNIT.read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            settings.setdefault(key.strip(), []).append(value.strip())
    return settings


def test_systemd_unit_verifies_and_is_hardened(tmp_path):
    # verify checks that ExecStart exists: point it at this checkout's own fastpath entry point.
    unit = tmp_path / UNIT.name
    unit.write_text(UNIT.read_text().replace("/opt/fastpath/bin/fastpath", str(BIN / "fastpath")))
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze is missing: install the Debian package systemd (scripts/bootstrap test)"
    proc = run(analyze, "verify", str(unit))
    assert (proc.returncode, proc.stdout + proc.stderr) == (0, "")  # unknown keys only warn
    # --threshold is on a 0-100 scale (the report shows 0-10): fail above an exposure of 3.0
    proc = run(analyze, "security", "--offline=yes", "--threshold=30", str(unit))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr

    s = unit_settings()
    assert s["ExecStart"] == ["/opt/fastpath/bin/fastpath sched run"]
    assert s["User"] == ["fastpath"] and s["Restart"] == ["on-failure"]
    assert s["KillMode"][0] in ("mixed", "control-group") and s["KillSignal"] == ["SIGTERM"]
    assert s["NoNewPrivileges"] == ["yes"] and s["ProtectSystem"] == ["strict"]
    assert s["ReadWritePaths"] == ["/var/lib/fastpath"]


def test_systemd_env_example_names_only_options_of_sched_run():
    env = {}
    for line in (DEPLOY / "systemd" / "fastpath-scheduler.env.example").read_text().splitlines():
        line = line.strip().lstrip("#")
        if re.match(r"^FASTPATH_[A-Z_]+=", line):
            key, value = line.split("=", 1)
            env[key] = value
    assert {"FASTPATH_DATABASE", "FASTPATH_STORAGE", "FASTPATH_SUTCLASSES"} <= set(env) <= envvars("run")
    # the service may write only its state directory: so must the defaults
    assert env["FASTPATH_DATABASE"].startswith("sqlite:////var/lib/fastpath/")
    assert env["FASTPATH_STORAGE"].startswith("/var/lib/fastpath/")


# --- Dockerfile -----------------------------------------------------------------------------------


def test_dockerfile_passes_hadolint():
    proc = run(tool("hadolint"), "--no-color", str(ROOT / "Dockerfile"))
    assert proc.returncode == 0, proc.stdout + proc.stderr


# --- compose --------------------------------------------------------------------------------------

COMPOSE = DEPLOY / "compose.yaml"


def compose(podman: Podman, project: str, *args: str, files=(COMPOSE,), env: dict | None = None):
    argv = [tool("podman-compose"), "-p", project]
    for f in files:
        argv += ["-f", str(f)]
    return run(*argv, *args, env={**podman.env, **(env or {})}, cwd=DEPLOY)


def test_compose_file_renders_with_podman_compose(podman):
    proc = compose(podman, "fp-config", "config")
    assert proc.returncode == 0, proc.stderr
    doc = yaml.safe_load(proc.stdout)
    db, sched = doc["services"]["postgres"], doc["services"]["scheduler"]
    assert sched["environment"]["FASTPATH_DATABASE"].startswith("postgresql://fastpath:")
    assert "@postgres:5432/" in sched["environment"]["FASTPATH_DATABASE"]
    assert set(sched["environment"]) <= envvars("run")
    assert sched["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert db["healthcheck"]["test"] and sched["healthcheck"]["test"]
    assert sched["stop_signal"] == "SIGTERM"
    assert any(v.endswith(":/var/lib/fastpath") for v in sched["volumes"])
    assert any(v.endswith(":/var/lib/postgresql/data") for v in db["volumes"])


def test_compose_brings_up_the_scheduler_on_postgresql(podman, scheduler_image, tmp_path):
    """The compose file's scheduler service, with the machine's PostgreSQL standing in for its own."""
    port = free_port()
    (tmp_path / "ssh").mkdir()
    sutclasses = tmp_path / "sutclasses.yaml"
    sutclasses.write_text("[]\n")
    sutclasses.chmod(0o644)
    project = f"fp-test-{uuid.uuid4().hex[:8]}"
    with scratch_database("postgresql") as url:
        override = tmp_path / "override.yaml"
        override.write_text(
            "services:\n"
            "  scheduler:\n"
            "    network_mode: host\n"
            "    ports: !reset []\n"
            "    environment:\n"
            f"      FASTPATH_DATABASE: {json.dumps(url)}\n"
            f"      FASTPATH_PORT: '{port}'\n")
        env = {"FASTPATH_IMAGE": scheduler_image, "FASTPATH_SUTCLASSES_FILE": str(sutclasses),
               "FASTPATH_SSH_DIR": str(tmp_path / "ssh")}
        files = (COMPOSE, override)
        try:
            proc = compose(podman, project, "up", "-d", "--no-deps", "scheduler", files=files, env=env)
            assert proc.returncode == 0, proc.stdout + proc.stderr
            [name] = podman("ps", "--filter", f"label=com.docker.compose.project={project}",
                            "--format", "{{.Names}}").stdout.split()
            wait_healthz(f"http://127.0.0.1:{port}",
                         alive=lambda: podman.inspect("container", name)["State"]["Running"])
            out, _ = podman.logs(name)
            [token] = TOKEN.findall(out)
            health = podman("healthcheck", "run", name, check=False)  # the compose file's own check
            assert health.returncode == 0, health.stdout + health.stderr
            base = [sys.executable, "-m", "fastpath", "sched"]
            auth = ["--url", f"http://127.0.0.1:{port}", "--token", token]
            listing = run(*base, "sutclass-list", "--json", *auth)
            assert listing.returncode == 0 and json.loads(listing.stdout)["sutclasses"] == []
            created = run(*base, "user-create", "bob", "--capabilities", "query", *auth)
            assert created.returncode == 0, created.stderr
            import psycopg2

            conn = psycopg2.connect(url)  # the data is in PostgreSQL, not in the container
            try:
                with conn.cursor() as cur:
                    cur.execute('SELECT name FROM "user" ORDER BY name')
                    assert [r[0] for r in cur.fetchall()] == ["admin", "bob"]
            finally:
                conn.close()
        finally:
            down = compose(podman, project, "down", "-v", "-t", "30", files=files, env=env)
            print(down.stdout[-2000:], down.stderr[-2000:])
            leftover = podman("ps", "-a", "--filter", f"label=com.docker.compose.project={project}",
                              "--format", "{{.Names}}").stdout.split()
            podman.remove(*leftover)
        assert down.returncode == 0 and leftover == [], down.stderr
