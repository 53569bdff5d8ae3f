"""Start the real `agente-vendedor servir` in a subprocess for end-to-end tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


def free_port() -> int:
    """A TCP port that is free on loopback right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(cwd: Path, *args: str, **env: str) -> Iterator[str]:
    """Run `agente-vendedor servir` in `cwd` until /health answers; yield its base URL; stop it afterwards."""
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DEMO_DATA")}
    environment.update(env)
    process = subprocess.Popen(
        [sys.executable, "-m", "agente_vendedor.cli", "servir", "--host", "127.0.0.1", "--port", str(port), *args],
        cwd=cwd,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                output = process.stdout.read().decode() if process.stdout else ""
                raise AssertionError(f"servir terminó con código {process.returncode}:\n{output}")
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("servir no respondió en 60 s")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)
