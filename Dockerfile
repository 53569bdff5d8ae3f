# syntax=docker/dockerfile:1
# Agente Vendedor Inteligente: imagen de producción en dos etapas.
# bookworm pins PostgreSQL client 15, the same major as the `db` service: pg_dump/pg_restore of a newer
# client emit settings (e.g. transaction_timeout) that a 15 server rejects on restore.

FROM python:3.11-slim-bookworm AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /build
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install .


FROM python:3.11-slim-bookworm AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DATABASE_URL=sqlite:////app/data/agente_vendedor.db \
    DATA_DIRECTORY=/app/data \
    CHROMA_PERSIST_DIRECTORY=/app/data/chroma_db \
    EXPORT_DIRECTORY=/app/exports
# pg_dump/pg_restore for `agente-vendedor respaldar|restaurar` against PostgreSQL.
RUN apt-get update \
    && apt-get install --yes --no-install-recommends postgresql-client sqlite3 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 agente \
    && useradd --system --uid 10001 --gid agente --home-dir /app --shell /usr/sbin/nologin agente \
    && mkdir -p /app/data /app/exports /app/backups \
    && chown -R agente:agente /app
COPY --from=builder /opt/venv /opt/venv
WORKDIR /app
USER agente
VOLUME ["/app/data", "/app/exports"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/health/live', timeout=4).status == 200 else 1)"]
CMD ["agente-vendedor", "servir", "--host", "0.0.0.0", "--port", "8000"]
