"""`run_sync` / `run_and_commit`: the endpoint pool keeps the caller's context, errors and a finished commit."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from agente_vendedor.core.db import create_db_engine, create_session_factory
from agente_vendedor.core.routing import run_and_commit, run_sync
from agente_vendedor.core.sqlite_gate import gate_for

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id_de_prueba", default="sin-id")


def test_run_sync_returns_the_result_and_sees_the_callers_contextvars() -> None:
    def read(suffix: str) -> tuple[str, str]:
        return request_id.get() + suffix, threading.current_thread().name

    async def main() -> tuple[str, str]:
        request_id.set("req-42")
        return await run_sync(read, "!")

    value, thread_name = asyncio.run(main())
    assert value == "req-42!"
    assert thread_name != threading.current_thread().name  # it did run in the pool
    assert request_id.get() == "sin-id"  # the caller's value never leaked into this context


def test_run_sync_propagates_the_functions_exception() -> None:
    def fail() -> None:
        raise ValueError("fallo en el hilo")

    async def main() -> None:
        await run_sync(fail)

    with pytest.raises(ValueError, match="fallo en el hilo"):
        asyncio.run(main())


def test_cancelling_the_caller_waits_for_the_function_to_finish_first() -> None:
    started = threading.Event()
    release = threading.Event()
    order: list[str] = []

    def blocking() -> str:
        started.set()
        if not release.wait(10):
            order.append("nunca liberada")
        order.append("f finished")
        return "hecho"

    async def main() -> None:
        task = asyncio.create_task(run_sync(blocking))
        loop = asyncio.get_running_loop()
        assert await loop.run_in_executor(None, started.wait, 10)
        task.cancel()
        # The cancellation is pending until the function ends: the task must still be running.
        done, _ = await asyncio.wait({task}, timeout=0.2)
        assert not done
        task.cancel()  # a second cancellation meanwhile changes nothing
        done, _ = await asyncio.wait({task}, timeout=0.05)
        assert not done
        assert order == []
        release.set()
        try:
            await task
        except asyncio.CancelledError:
            order.append("cancel observed")

    asyncio.run(main())
    assert order == ["f finished", "cancel observed"]


@pytest.mark.parametrize("function_commits", [False, True], ids=["left-open", "already-committed"])
def test_run_and_commit_commits_the_session_left_in_a_transaction(tmp_path: Path, function_commits: bool) -> None:
    path = tmp_path / "rc.db"
    engine = create_db_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, nombre TEXT)")
        factory = create_session_factory(engine)

        def insert(session: Session, nombre: str) -> str:
            session.execute(text("INSERT INTO t (nombre) VALUES (:nombre)"), {"nombre": nombre})
            if function_commits:
                session.commit()  # already finished: nothing left for run_and_commit
            return nombre.upper()

        async def main(session: Session) -> str:
            return await run_and_commit(insert, session=session, nombre="ana")

        with factory() as session:
            assert asyncio.run(main(session)) == "ANA"
            assert not session.in_transaction()
        assert not gate_for(str(path.resolve())).locked()
        with engine.connect() as conn:
            assert conn.execute(text("SELECT nombre FROM t")).scalars().all() == ["ana"]
    finally:
        engine.dispose()


def test_run_and_commit_does_not_commit_when_the_function_raises(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'rc.db'}")
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, nombre TEXT)")
        factory = create_session_factory(engine)

        def insert_and_fail(session: Session) -> None:
            session.execute(text("INSERT INTO t (nombre) VALUES ('ana')"))
            raise RuntimeError("falla tras escribir")

        async def main(session: Session) -> None:
            await run_and_commit(insert_and_fail, session=session)

        with factory() as session:
            with pytest.raises(RuntimeError, match="falla tras escribir"):
                asyncio.run(main(session))
            assert session.in_transaction()
            session.rollback()
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 0
    finally:
        engine.dispose()
