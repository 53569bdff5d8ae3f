"""One writer at a time per SQLite file inside a process, handed over at once instead of by SQLite's sleeps.

SQLite lets one transaction write at a time. A connection that finds the file locked waits in SQLite's busy
handler, which sleeps in steps of 1, 2, 5, 10 ... up to 100 ms and retries: under concurrent writes most
waiters are asleep when the lock is freed, the lock sits idle, and orders per second collapse while p99 grows
to seconds (`bench/RESULTS-http.md`). Here each connection of the process first takes a lock of its file's
gate, just before its transaction's first write (where pysqlite opens the transaction and SQLite takes its
write lock), and gives it back when the transaction ends: the next writer wakes the moment the lock is free.

Other processes (a second worker, the CLI, a backup) still meet SQLite's own lock and busy handler, as before.
Nothing waits for the gate longer than SQLite would have waited for its lock (`busy_timeout`): past that, the
write goes on and SQLite decides, so the gate can only shorten waits, never turn one into a deadlock.
"""

from __future__ import annotations

import sqlite3
import threading
from typing import Any

_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")
_gates: dict[str, threading.Lock] = {}
_gates_lock = threading.Lock()


def gate_for(database: str) -> threading.Lock:
    """The gate of one database file (shared by every engine of the process that opens it)."""
    with _gates_lock:
        return _gates.setdefault(database, threading.Lock())


class GatedConnection(sqlite3.Connection):
    """A sqlite3 connection that releases its file's write gate when its transaction ends."""

    gate: threading.Lock | None = None
    wait_seconds: float = 10.0
    holding: bool = False

    def enter_write(self) -> None:
        """Take the gate before this transaction's first write (no-op when held or without a gate)."""
        if self.holding or self.gate is None:
            return
        self.holding = self.gate.acquire(timeout=self.wait_seconds)

    def _leave(self) -> None:
        if self.holding:
            self.holding = False
            assert self.gate is not None
            self.gate.release()

    def commit(self) -> None:
        """Commit, then hand the gate to the next writer."""
        try:
            super().commit()
        finally:
            if not self.in_transaction:
                self._leave()

    def rollback(self) -> None:
        """Roll back, then hand the gate to the next writer."""
        try:
            super().rollback()
        finally:
            if not self.in_transaction:
                self._leave()

    def close(self) -> None:
        """Close (SQLite rolls back what was open), then hand the gate on."""
        try:
            super().close()
        finally:
            self._leave()


def before_write(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
    """`before_cursor_execute` listener: take the gate before a write statement."""
    raw = conn.connection.dbapi_connection
    if isinstance(raw, GatedConnection) and not raw.holding and statement.lstrip()[:7].upper().startswith(_WRITES):
        raw.enter_write()
