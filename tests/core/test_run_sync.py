"""`run_sync`: the endpoint pool keeps the caller's context and errors, and a cancellation waits for the call."""

from __future__ import annotations

import asyncio
import contextvars
import threading

import pytest

from agente_vendedor.core.routing import run_sync

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
