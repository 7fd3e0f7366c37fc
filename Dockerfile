# dedup HTTP service: gunicorn serving service.app:create_app() (config from DEDUP_* variables)
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PROMETHEUS_MULTIPROC_DIR=/tmp/dedup-metrics

WORKDIR /app
COPY pyproject.toml README.md ./
COPY dedup ./dedup
COPY service ./service
RUN pip install --no-cache-dir "./[service]" \
    && useradd --system --uid 10001 --home-dir /app dedup \
    && mkdir -p /tmp/dedup-metrics \
    && chown dedup /tmp/dedup-metrics

USER 10001
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2).status != 200)"]
CMD ["gunicorn", "--bind", "0.0.0.0:8080", "--workers", "2", "--threads", "4", "--timeout", "30", "dedup_service.app:create_app()"]
