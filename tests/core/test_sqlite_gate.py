"""The SQLite write gate: one writer per file inside the process, handed over at commit/rollback, never a deadlock."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from agente_vendedor.core.db import create_db_engine
from agente_vendedor.core.sqlite_gate import GatedConnection, gate_for

CREATE_TABLE = "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER)"


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A SQLite file of its own for each test (so each test has its own gate)."""
    return tmp_path / "g.db"


@pytest.fixture
def engine(db_path: Path) -> Iterator[Engine]:
    """An engine built as the app builds it, with table `t` created."""
    db_engine = create_db_engine(f"sqlite:///{db_path}")
    with db_engine.begin() as conn:
        conn.exec_driver_sql(CREATE_TABLE)
    yield db_engine
    db_engine.dispose()


@pytest.fixture
def gate(db_path: Path, engine: Engine) -> threading.Lock:
    """The gate every connection of `engine` shares."""
    return gate_for(str(db_path.resolve()))


def _values(engine: Engine) -> list[int]:
    with engine.connect() as conn:
        return [row[0] for row in conn.exec_driver_sql("SELECT n FROM t ORDER BY n")]


def test_connections_are_gated_and_share_the_gate_of_their_file(engine: Engine, gate: threading.Lock) -> None:
    with engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        assert isinstance(raw, GatedConnection)
        assert raw.gate is gate
        assert raw.holding is False


def test_a_write_takes_the_gate_and_commit_releases_it(engine: Engine, gate: threading.Lock) -> None:
    with engine.connect() as conn:
        assert not gate.locked()
        conn.exec_driver_sql("INSERT INTO t (n) VALUES (1)")
        assert gate.locked()
        conn.commit()
        assert not gate.locked()
    assert _values(engine) == [1]


def test_a_write_takes_the_gate_and_rollback_releases_it(engine: Engine, gate: threading.Lock) -> None:
    with engine.connect() as conn:
        conn.exec_driver_sql("INSERT INTO t (n) VALUES (1)")
        assert gate.locked()
        conn.rollback()
        assert not gate.locked()
    assert _values(engine) == []


def test_update_and_delete_also_take_the_gate(engine: Engine, gate: threading.Lock) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO t (n) VALUES (1)")
    for statement in ("UPDATE t SET n = 2", "  delete from t"):
        with engine.connect() as conn:
            conn.exec_driver_sql(statement)
            assert gate.locked(), statement
            conn.commit()
            assert not gate.locked(), statement


def test_a_plain_select_does_not_take_the_gate(engine: Engine, gate: threading.Lock) -> None:
    with engine.connect() as conn:
        conn.exec_driver_sql("SELECT n FROM t").all()
        assert not gate.locked()
        conn.commit()
    assert not gate.locked()


def test_returning_a_connection_with_an_open_write_releases_the_gate(engine: Engine, gate: threading.Lock) -> None:
    conn = engine.connect()
    conn.exec_driver_sql("INSERT INTO t (n) VALUES (1)")
    assert gate.locked()
    conn.close()  # the pool rolls back on return
    assert not gate.locked()
    assert _values(engine) == []


def test_invalidating_a_connection_with_an_open_write_releases_the_gate(engine: Engine, gate: threading.Lock) -> None:
    conn = engine.connect()
    conn.exec_driver_sql("INSERT INTO t (n) VALUES (1)")
    assert gate.locked()
    conn.invalidate()  # the DBAPI connection is closed without a commit
    conn.close()
    assert not gate.locked()
    assert _values(engine) == []


def test_a_second_writer_waits_for_the_first_transaction_and_then_succeeds(
    engine: Engine, gate: threading.Lock
) -> None:
    a_inserted = threading.Event()
    a_may_commit = threading.Event()
    b_started = threading.Event()
    b_done = threading.Event()
    errors: list[BaseException] = []

    def writer_a() -> None:
        try:
            with engine.connect() as conn:
                conn.exec_driver_sql("INSERT INTO t (n) VALUES (1)")
                a_inserted.set()
                if not a_may_commit.wait(10):
                    raise RuntimeError("el hilo A no recibió permiso para confirmar")
                conn.commit()
        except BaseException as exc:  # reported to the test thread
            errors.append(exc)
            a_inserted.set()

    def writer_b() -> None:
        try:
            with engine.connect() as conn:
                b_started.set()
                conn.exec_driver_sql("INSERT INTO t (n) VALUES (2)")
                conn.commit()
        except BaseException as exc:  # reported to the test thread
            errors.append(exc)
        finally:
            b_done.set()

    thread_a = threading.Thread(target=writer_a)
    thread_b = threading.Thread(target=writer_b)
    thread_a.start()
    try:
        assert a_inserted.wait(10)
        assert not errors, errors
        assert gate.locked()
        thread_b.start()
        assert b_started.wait(10)
        # B is parked on the gate while A's transaction is open: it must not finish (or fail) meanwhile.
        assert not b_done.wait(0.2)
    finally:
        a_may_commit.set()
        thread_a.join(10)
        if thread_b.ident is not None:  # started
            thread_b.join(10)

    assert not thread_a.is_alive() and not thread_b.is_alive()
    assert b_done.is_set()
    assert not errors, errors
    assert not gate.locked()
    assert _values(engine) == [1, 2]


def test_a_gate_that_cannot_be_taken_in_time_lets_the_write_go_on_to_sqlite(
    engine: Engine, gate: threading.Lock
) -> None:
    assert gate.acquire(timeout=10)  # someone else (this test) holds the gate but has no SQLite transaction open
    try:
        with engine.connect() as conn:
            raw = conn.connection.dbapi_connection
            assert isinstance(raw, GatedConnection)
            raw.wait_seconds = 0.05
            conn.exec_driver_sql("INSERT INTO t (n) VALUES (7)")
            assert raw.holding is False
            conn.commit()
            raw.wait_seconds = 10.0
        # The connection never took the gate, so it must not have released the holder's lock either.
        assert gate.locked()
    finally:
        gate.release()
    assert _values(engine) == [7]


def test_an_in_memory_engine_works_without_a_gate() -> None:
    engine = create_db_engine("sqlite:///:memory:")
    try:
        with engine.connect() as conn:
            raw = conn.connection.dbapi_connection
            assert isinstance(raw, GatedConnection)
            assert raw.gate is None
            conn.exec_driver_sql(CREATE_TABLE)
            conn.exec_driver_sql("INSERT INTO t (n) VALUES (1)")
            assert raw.holding is False
            conn.commit()
            assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar() == 1
    finally:
        engine.dispose()
