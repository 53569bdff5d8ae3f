"""`configure_logging` (JSON mode): structlog and stdlib lines share one stream, levels, masking and robustness."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from unittest.mock import patch

import pytest
import structlog

from agente_vendedor.core.logging import AccessLog, configure_logging, iso_utc

JWT = "eyJhbGciOi.eyJzdWIi.firma"


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Put pytest's root handlers, the root level and structlog's defaults back after the test."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    yield
    root.handlers[:] = saved_handlers
    root.setLevel(saved_level)
    structlog.reset_defaults()


@pytest.fixture
def log_stream(restore_logging: None) -> io.StringIO:
    """Every log line goes, as the service writes it (JSON), into a buffer."""
    stream = io.StringIO()
    configure_logging(stream=stream)
    return stream


def _lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def _by_event(stream: io.StringIO, event: str) -> dict[str, Any]:
    found = [line for line in _lines(stream) if line.get("event") == event]
    assert len(found) == 1, _lines(stream)
    return found[0]


def test_structlog_and_stdlib_lines_share_the_stream_as_masked_json(log_stream: io.StringIO) -> None:
    structlog.stdlib.get_logger("pruebas.structlog").info("alta de cliente", email="ana@example.com")
    logging.getLogger("pruebas.stdlib").warning("aviso para %s", "ana@example.com")

    lines = _lines(log_stream)
    assert len(lines) == 2, lines
    for line in lines:
        assert {"event", "logger", "level", "timestamp"} <= set(line), line
        assert str(line["timestamp"]).endswith("Z")

    from_structlog = _by_event(log_stream, "alta de cliente")
    assert (from_structlog["logger"], from_structlog["level"]) == ("pruebas.structlog", "info")
    assert from_structlog["email"] == "a***@example.com"

    from_stdlib = _by_event(log_stream, "aviso para a***@example.com")
    assert (from_stdlib["logger"], from_stdlib["level"]) == ("pruebas.stdlib", "warning")

    assert "ana@example.com" not in log_stream.getvalue()


def test_the_stdlib_level_of_a_logger_filters_its_structlog_events(log_stream: io.StringIO) -> None:
    stdlib_logger = logging.getLogger("x.y")
    saved_level = stdlib_logger.level
    stdlib_logger.setLevel(logging.ERROR)
    try:
        logger = structlog.stdlib.get_logger("x.y")
        logger.warning("aviso filtrado")
        logger.error("error que pasa")
        structlog.stdlib.get_logger("x.z").warning("aviso de otro logger")
    finally:
        stdlib_logger.setLevel(saved_level)

    events = [line["event"] for line in _lines(log_stream)]
    assert events == ["error que pasa", "aviso de otro logger"]


def test_info_is_the_default_level_so_debug_events_are_dropped(log_stream: io.StringIO) -> None:
    logger = structlog.stdlib.get_logger("pruebas.nivel")
    logger.debug("detalle")
    logger.info("dato")
    assert [line["event"] for line in _lines(log_stream)] == ["dato"]


def test_a_logged_exception_carries_its_masked_traceback(log_stream: io.StringIO) -> None:
    try:
        raise ValueError(f"token rechazado {JWT} de ana@example.com")
    except ValueError:
        structlog.stdlib.get_logger("pruebas.exc").exception("fallo al validar")
    try:
        raise KeyError(f"otro {JWT}")
    except KeyError:
        logging.getLogger("pruebas.exc.stdlib").exception("fallo stdlib")

    line = _by_event(log_stream, "fallo al validar")
    assert line["level"] == "error"
    assert "Traceback" in line["exception"]
    assert "ValueError: token rechazado *** de a***@example.com" in line["exception"]

    stdlib_line = _by_event(log_stream, "fallo stdlib")
    assert "KeyError" in stdlib_line["exception"]

    output = log_stream.getvalue()
    assert JWT not in output
    assert "eyJhbGciOi" not in output
    assert "ana@example.com" not in output


def test_values_orjson_cannot_serialize_are_rendered_instead_of_raising(log_stream: io.StringIO) -> None:
    big = 2**70
    logger = structlog.stdlib.get_logger("pruebas.valores")
    logger.info("objeto", valor=object())
    logger.info("entero grande", valor=big)
    logger.info("ambos", objeto=object(), entero=big, ok="sí")

    assert _by_event(log_stream, "objeto")["valor"].startswith("<object object at ")
    assert _by_event(log_stream, "entero grande")["valor"] == big
    both = _by_event(log_stream, "ambos")
    assert both["objeto"].startswith("<object object at ")
    assert (both["entero"], both["ok"]) == (big, "sí")


class _BrokenStream(io.StringIO):
    """A stream whose every write fails, as a full disk or a closed pipe would."""

    def write(self, s: str) -> int:
        raise OSError("disco lleno")


def test_a_failing_stream_never_makes_a_logging_call_raise(
    restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(stream=_BrokenStream())

    structlog.stdlib.get_logger("pruebas.roto").info("no se puede escribir", email="ana@example.com")
    structlog.stdlib.get_logger("pruebas.roto").error("tampoco")
    logging.getLogger("pruebas.roto.stdlib").warning("ni esto")
    try:
        raise RuntimeError("con traza")
    except RuntimeError:
        structlog.stdlib.get_logger("pruebas.roto").exception("ni con traza")

    assert "No se pudo escribir una línea del log" in capsys.readouterr().err


ACCESS_FIELDS = {
    "method": "GET",
    "path": "/clientes/buscar/ana@example.com",
    "status": 200,
    "duration_ms": 1.25,
    "usuario": "admin@tienda.example.com",
}


def test_the_access_line_has_the_fields_and_masking_of_a_structlog_line(log_stream: io.StringIO) -> None:
    with structlog.contextvars.bound_contextvars(request_id="abc123", tienda="centro"):
        AccessLog("pruebas.http").info("peticion", **ACCESS_FIELDS)
        structlog.stdlib.get_logger("pruebas.http").info("peticion", **ACCESS_FIELDS)

    direct, through_structlog = _lines(log_stream)
    assert direct.pop("timestamp").endswith("Z")
    through_structlog.pop("timestamp")
    assert direct == through_structlog
    assert list(direct) == list(through_structlog)  # same key order, so the lines read the same
    assert direct["path"] == "/clientes/buscar/a***@example.com"
    assert direct["usuario"] == "a***@tienda.example.com"
    assert (direct["request_id"], direct["tienda"], direct["level"]) == ("abc123", "centro", "info")


@pytest.mark.parametrize(
    "epoch_ns",
    [
        1_796_334_005_123_456_789,  # microseconds truncated, not rounded
        1_796_334_005_000_000_000,  # a whole second: no fraction, as `isoformat` writes it
        1_796_334_005_000_000_999,  # under a microsecond past it: still a whole second
        1_796_334_006_000_001_000,  # the next second, one microsecond in
        951_782_400_000_500_000,  # 29 February 2000
    ],
)
def test_the_fast_timestamp_is_what_structlogs_iso_utc_stamper_writes(epoch_ns: int) -> None:
    instant = datetime.fromtimestamp(epoch_ns // 1_000_000_000, UTC).replace(
        microsecond=epoch_ns % 1_000_000_000 // 1000
    )
    with patch("structlog.processors.datetime.datetime") as clock:
        clock.now.return_value = instant
        expected = structlog.processors.TimeStamper(fmt="iso", utc=True)(None, "info", {})["timestamp"]
    assert iso_utc(epoch_ns) == expected


def test_the_access_line_follows_the_stdlib_level_and_reconfiguration(log_stream: io.StringIO) -> None:
    access = AccessLog("pruebas.http.nivel")
    stdlib_logger = logging.getLogger("pruebas.http.nivel")
    saved_level = stdlib_logger.level
    stdlib_logger.setLevel(logging.WARNING)
    try:
        access.info("peticion", **ACCESS_FIELDS)
    finally:
        stdlib_logger.setLevel(saved_level)
    access.info("peticion", status=201)
    assert [line["status"] for line in _lines(log_stream)] == [201]

    second = io.StringIO()
    configure_logging(stream=second)  # a new configuration: the line goes to the new stream
    access.info("peticion", status=202)
    assert [line["status"] for line in _lines(second)] == [202]


def test_in_console_mode_the_access_line_goes_through_structlog(restore_logging: None) -> None:
    stream = io.StringIO()
    configure_logging(debug=True, stream=stream)
    AccessLog("pruebas.http.consola").info("peticion", **ACCESS_FIELDS)
    output = stream.getvalue()
    assert "peticion" in output and "a***@tienda.example.com" in output
    assert "admin@tienda.example.com" not in output
