"""`python -m agente_vendedor.cli`: the same command line as `agente-vendedor`."""

from __future__ import annotations

from agente_vendedor.cli import app

if __name__ == "__main__":  # a process spawned by uvicorn's workers may import this module: never run it then
    app()
