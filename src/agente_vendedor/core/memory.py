"""Memory of a long-running server process: startup objects out of the collector's way, freed heap returned."""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging

logger = logging.getLogger("agente_vendedor.memory")


def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
        libc.malloc_trim  # noqa: B018  (glibc only: musl and others have no malloc_trim)
    except (OSError, AttributeError):
        return None
    return libc


def settle_memory() -> None:
    """Once a server process has loaded everything (app, search model, index), before it takes traffic.

    - `gc.freeze()`: the objects alive after startup (modules, the app, the search stack: about a quarter of a
      million) move to a generation the collector never scans again. A full collection of them took about
      200 ms on this machine, a pause any request that met it would wait out (the p99 in `bench/RESULTS-http.md`).
    - `malloc_trim(0)`: glibc keeps the heap that loading left free (the model's decompression buffers); this
      returns it to the system, so the worker's resident memory is what it uses.

    Only for a process that serves one app for its whole life (`servir`): frozen objects are never collected,
    which suits startup state and would leak in a process that builds many apps (the tests).
    """
    gc.collect()
    gc.freeze()
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
    logger.info("Memoria asentada: %d objetos de arranque congelados", gc.get_freeze_count())
