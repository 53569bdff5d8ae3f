"""Our own Redis and Chroma servers on loopback, which a test may stop and start (never the machine's shared ones)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.serving import free_port


def chroma_executable() -> str:
    """`chroma` from the installed chromadb package (beside this Python), or on PATH."""
    beside_python = Path(sys.executable).parent / "chroma"
    found = str(beside_python) if beside_python.exists() else shutil.which("chroma")
    if found is None:
        raise AssertionError("No se encuentra el ejecutable `chroma` (se instala con el paquete chromadb)")
    return found


class Servidor:
    """A server process on a fixed loopback port that can be stopped (gently or with SIGKILL) and started again."""

    def __init__(self, command: list[str], port: int, name: str) -> None:
        self.command = command
        self.port = port
        self.name = name
        self.process: subprocess.Popen[bytes] | None = None

    def ready(self) -> bool:
        """Whether the server answers right now."""
        raise NotImplementedError

    def start(self, timeout: float = 60.0) -> None:
        """Start the process and wait until it answers."""
        self.process = subprocess.Popen(self.command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while not self.ready():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"{self.name} no arrancó en el puerto {self.port}")
            time.sleep(0.1)

    def stop(self) -> None:
        """Stop the process (SIGTERM, then SIGKILL if it lingers)."""
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=20)
        self.process = None


class RedisPropio(Servidor):
    """`redis-server` without persistence on its own port: a restart loses every key, as a crash would."""

    def __init__(self, port: int | None = None) -> None:
        port = port or free_port()
        command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        super().__init__(command, port, "redis-server")

    @property
    def url(self) -> str:
        """The URL the app uses."""
        return f"redis://127.0.0.1:{self.port}/0"

    def ready(self) -> bool:
        """PING answers."""
        import redis

        try:
            return bool(redis.Redis(port=self.port, socket_timeout=0.5).ping())
        except redis.RedisError:
            return False


class ChromaPropio(Servidor):
    """`chroma run` on its own folder and port; data survive a stop/start like a real server's."""

    def __init__(self, path: Path, port: int | None = None) -> None:
        port = port or free_port()
        command = [chroma_executable(), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)]
        super().__init__(command, port, "chroma run")

    def ready(self) -> bool:
        """The heartbeat answers."""
        try:
            return httpx.get(f"http://127.0.0.1:{self.port}/api/v2/heartbeat", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False
