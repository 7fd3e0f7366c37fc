# dedup HTTP service: gunicorn serving dedup_service.app:create_app() (config from DEDUP_* variables).
# Installed non-editable by root, run by uid 10001 whose home (/app) and packages are read-only.
# numba's compiled kernels are built here, at image-build time, into NUMBA_CACHE_DIR, the one
# directory the runtime user may write (numba writes a probe file there before it reads a cache).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PROMETHEUS_MULTIPROC_DIR=/tmp/dedup-metrics \
    NUMBA_CACHE_DIR=/var/cache/dedup/numba

# The build context lives in /src only for the install: at run time nothing imports from a source tree.
WORKDIR /src
COPY pyproject.toml README.md ./
COPY dedup ./dedup
COPY service ./service
RUN pip install --no-cache-dir "./[service]" \
    && rm -rf /src \
    && useradd --system --uid 10001 --user-group --home-dir /app --no-create-home --shell /usr/sbin/nologin dedup \
    && mkdir -p /app /tmp/dedup-metrics "$NUMBA_CACHE_DIR" \
    && chown dedup:dedup /tmp/dedup-metrics "$NUMBA_CACHE_DIR"

WORKDIR /app
USER 10001
# Compile every kernel once, as the runtime user, so a fresh container answers its first request at once.
RUN python -m dedup.warm
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2).status != 200)"]
# -c python:dedup_service.gunicorn_conf: the master loads the kernels once (dedup.warm) before it forks
# the workers, and a dead worker's Prometheus files are marked dead.
CMD ["gunicorn", "-c", "python:dedup_service.gunicorn_conf", "--bind", "0.0.0.0:8080", "--workers", "2", "--threads", "20", "--timeout", "30", "dedup_service.app:create_app()"]
