# The Fastpath scheduler: `fastpath sched run` (controller + API) in one container.
#
#   podman build -t fastpath-scheduler .
#   podman run -d -p 5000:5000 -v fastpath:/var/lib/fastpath \
#       -v ./sutclasses.yaml:/etc/fastpath/sutclasses.yaml:ro fastpath-scheduler
#
# All state (SQLite database, uploads, results) lives in the volume
# /var/lib/fastpath; FASTPATH_DATABASE may point at PostgreSQL or MariaDB instead.
# BASE may be any Debian-like image with python3 (>= 3.11) and its venv module.
ARG BASE=python:3.12-slim

FROM ${BASE} AS builder
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
# Same path in both stages: a venv's scripts hard-code their interpreter.
RUN python3 -m venv /opt/fastpath
COPY pyproject.toml README.md ./
COPY fastpath ./fastpath
# A regular (non-editable) install, so the package data (benchmark YAML,
# Dockerfiles, scripts) is copied into site-packages; pip itself is not
# needed at run time.
RUN /opt/fastpath/bin/pip install ".[postgres,mysql]" \
    && /opt/fastpath/bin/python -m pip uninstall -y pip setuptools \
    && /opt/fastpath/bin/fastpath --help > /dev/null

FROM ${BASE}
# A fixed numeric uid, so `runAsNonRoot` and host bind mounts can rely on it.
RUN groupadd --system --gid 10001 fastpath \
    && useradd --system --uid 10001 --gid fastpath --home-dir /var/lib/fastpath \
        --no-create-home --shell /usr/sbin/nologin fastpath \
    && mkdir -p /var/lib/fastpath/storage /etc/fastpath \
    && chown -R fastpath:fastpath /var/lib/fastpath \
    && printf '%s\n' '# No SUT classes yet: mount your own file over this one.' '[]' \
        > /etc/fastpath/sutclasses.yaml
COPY --from=builder /opt/fastpath /opt/fastpath
ENV PATH=/opt/fastpath/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/var/lib/fastpath \
    FASTPATH_HOST=0.0.0.0 \
    FASTPATH_PORT=5000 \
    FASTPATH_DATABASE=sqlite:////var/lib/fastpath/scheduler.db \
    FASTPATH_STORAGE=/var/lib/fastpath/storage \
    FASTPATH_SUTCLASSES=/etc/fastpath/sutclasses.yaml
USER 10001:10001
WORKDIR /var/lib/fastpath
VOLUME ["/var/lib/fastpath"]
EXPOSE 5000
# `sched run` forwards SIGTERM to the controller and the API and exits 0.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python3", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('FASTPATH_PORT', '5000'), timeout=4)"]
ENTRYPOINT ["fastpath", "sched", "run"]
