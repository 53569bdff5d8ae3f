#!/usr/bin/env bash
# Install the service into .venv (first time only needs the package registry) and start it on the
# embedded default: SQLite file under ./data, demo catalog, Swagger UI at http://127.0.0.1:8000/docs.
# Extra arguments go to `agente-vendedor servir` (e.g. --port 9000 --host 0.0.0.0).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  "${PYTHON:-python3}" -m venv .venv
fi
.venv/bin/pip install --quiet --disable-pip-version-check -e .
exec .venv/bin/agente-vendedor servir "$@"
