"""Structured logs (structlog, as the spec configures it): JSON lines with request id, personal data masked."""

from __future__ import annotations

import functools
import json
import logging
import re
import sys
import time
from collections.abc import MutableMapping
from datetime import UTC, datetime
from typing import IO, Any

import orjson
import structlog

_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*(@[A-Za-z0-9.-]+\.[A-Za-z]{2,})")
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+")
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_SECRET_FIELDS = re.compile(r"(?i)((?:password|contraseña|secret|token)[\"']?\s*[:=]\s*[\"']?)[^\"'&\s,}]+")
# International numbers (+34 600 123 456) and national ones written 3-3-3(4) or as 9+ digits; dates don't match.
_PHONE = re.compile(r"(\+\d[\d \-()]{6,}\d|(?<!\d)\d{3}[ -]?\d{3}[ -]?\d{3,4}(?!\d))")
_NOT_MASKED = {"timestamp", "level", "logger", "request_id", "duration_ms", "status"}
# Every pattern above needs one of these substrings: text without any of them is returned untouched after one scan.
_MAYBE_SENSITIVE = re.compile(r"@|\d{3}|\+\d|eyJ|(?i:bearer|password|contraseña|secret|token)")


def _mask_phone(match: re.Match[str]) -> str:
    return "***" + "".join(ch for ch in match.group(1) if ch.isdigit())[-3:]


def mask(text: str) -> str:
    """Hide e-mails (keep first letter and domain), phones (keep last 3 digits), tokens and passwords."""
    if len(text) <= _SHORT:
        return _mask_short(text)
    return _mask_long(text)


_SHORT = 200
"""Short values (a user's e-mail on every access line, a path, a method) repeat: their masked form is remembered,
so the line of a request like the previous one costs a dictionary lookup per field instead of a regex scan."""


@functools.lru_cache(maxsize=4096)
def _mask_short(text: str) -> str:
    return _mask_long(text)


def _mask_long(text: str) -> str:
    if not _MAYBE_SENSITIVE.search(text):
        return text
    return _mask(text)


def _mask(text: str) -> str:
    text = _JWT.sub("***", text)
    text = _BEARER.sub(r"\1***", text)
    text = _SECRET_FIELDS.sub(r"\1***", text)
    text = _EMAIL.sub(r"\1***\2", text)
    return _PHONE.sub(_mask_phone, text)


def mask_processor(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: mask every text field of the event."""
    for key, value in event_dict.items():
        if isinstance(value, str) and key not in _NOT_MASKED:
            event_dict[key] = mask(value)
    return event_dict


def mask_exception_processor(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: mask the traceback text that `format_exc_info` adds (other fields are masked already)."""
    exception = event_dict.get("exception")
    if isinstance(exception, str):
        event_dict["exception"] = mask(exception)
    return event_dict


class MaskingFilter(logging.Filter):
    """For plain stdlib handlers: rewrite each record's final message through `mask`."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Mask the formatted message in place; never drop a record."""
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True
        record.msg, record.args = mask(message), None
        return True


class HotLogger:
    """A logger for a line written on every request: bound once per configuration instead of on every call.

    structlog's lazy proxies are not cached (`cache_logger_on_first_use=False`, so reconfiguring takes effect
    everywhere), which rebuilds the bound logger on each call; this keeps one until `configure_logging` or
    `route_structlog_to_stdlib` runs again, and falls back to the proxy while structlog is unconfigured.
    """

    def __init__(self, name: str) -> None:
        self._name = name
        self._generation = -1
        self._logger: Any = None

    def get(self) -> Any:
        """The bound logger for the current configuration."""
        if not structlog.is_configured():
            return structlog.stdlib.get_logger(self._name)
        if self._generation != _configuration[0]:
            self._logger = structlog.stdlib.get_logger(self._name).bind()
            self._generation = _configuration[0]
        return self._logger


_configuration = [0]  # bumped by each configure call below, so every HotLogger binds again
_line_loggers: list[Any] = [None]  # JSON mode: the factory of `_LineLogger`s (None in console mode or unconfigured)
_second: list[tuple[int, str]] = [(-1, "")]  # the last whole second stamped and its text (one tuple: thread-safe)


def iso_utc_now() -> str:
    """Now as `TimeStamper(fmt="iso", utc=True)` writes it (`2026-12-03T21:40:05.123456Z`), for a fifth of the
    cost (0.75 against 3.5 µs on the bench machine): the date and time up to the second are formatted once per
    second, the microseconds on every call."""
    return iso_utc(time.time_ns())


def iso_utc(epoch_ns: int) -> str:
    """An instant (nanoseconds since the epoch, truncated to microseconds as `datetime.now` does) as `iso_utc_now`."""
    seconds, nanoseconds = divmod(epoch_ns, 1_000_000_000)
    stamped = _second[0]
    if stamped[0] != seconds:
        stamped = (seconds, datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S"))
        _second[0] = stamped
    microseconds = nanoseconds // 1000
    return f"{stamped[1]}.{microseconds:06d}Z" if microseconds else f"{stamped[1]}Z"


class AccessLog:
    """The one line per request (`peticion`), with the fields and masking of every other JSON line, rendered directly.

    Through structlog's chain the line paid for a dozen processors that have nothing to do on it (no positional
    arguments, stack, bytes or exception) and for the bound-logger plumbing: a fifth of `/health/live` in
    cProfile's in-process profile (`bench/RESULTS-http.md`). In JSON mode this builds the same event (the
    request's context variables, logger, level, ISO UTC timestamp, masked text fields) with the same masking
    processor and the timestamp as structlog writes it (`iso_utc_now`), and writes it through the same handler;
    in console mode, or before logging is configured, the line goes through structlog as any other.
    """

    def __init__(self, name: str) -> None:
        self._name = name
        self._hot = HotLogger(name)
        self._generation = -1
        self._writer: Any = None

    def info(self, event: str, **fields: Any) -> None:
        """Log `event` with `fields` at INFO."""
        if _line_loggers[0] is None or not structlog.is_configured():
            self._hot.get().info(event, **fields)
            return
        if self._generation != _configuration[0]:
            self._writer = _line_loggers[0](self._name)
            self._generation = _configuration[0]
        writer: _LineLogger = self._writer
        if not writer.isEnabledFor(logging.INFO):
            return
        event_dict: dict[str, Any] = {**fields, "event": event}
        for key, value in structlog.contextvars.get_contextvars().items():
            event_dict.setdefault(key, value)
        event_dict["logger"] = self._name
        event_dict["level"] = "info"
        event_dict["timestamp"] = iso_utc_now()
        writer.write(_dumps(mask_processor(None, "info", event_dict)))


def _json_default(value: Any) -> Any:
    return repr(value)


def _dumps(event_dict: Any, **_kwargs: Any) -> str:
    """orjson (several times faster than `json` on a log line), falling back to `json` for what it refuses."""
    try:
        return orjson.dumps(event_dict, default=_json_default, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:  # e.g. an integer beyond 64 bits
        return json.dumps(event_dict, ensure_ascii=False, default=_json_default)


class _LineLogger:
    """What structlog's JSON lines are written with: the rendered line goes straight to the service's handler.

    The stdlib path would build a `LogRecord`, look up the caller, copy the record in the formatter and render
    it there; here structlog renders once and the line is written to the same stream under the same lock as
    every stdlib record (uvicorn's, the libraries'), so the log stays one ordered stream of JSON lines.
    Levels follow the stdlib logger of the same name (`logging.getLogger(name).setLevel` still works).
    """

    def __init__(self, name: str, handler: logging.StreamHandler[Any]) -> None:
        self.name = name
        self._handler = handler
        self._stdlib = logging.getLogger(name)

    def isEnabledFor(self, level: int) -> bool:  # noqa: N802  (the stdlib name `filter_by_level` calls)
        """As the stdlib logger of the same name."""
        return self._stdlib.isEnabledFor(level)

    def getEffectiveLevel(self) -> int:  # noqa: N802
        """As the stdlib logger of the same name."""
        return self._stdlib.getEffectiveLevel()

    @property
    def disabled(self) -> bool:
        """As the stdlib logger of the same name."""
        return self._stdlib.disabled

    def write(self, line: str) -> None:
        """Write one rendered line; a failing stream never fails the caller (as in `logging`)."""
        handler = self._handler
        handler.acquire()
        try:
            handler.stream.write(line + handler.terminator)
            handler.flush()
        except Exception:  # noqa: BLE001  (logging must not break a request)
            if logging.raiseExceptions:
                sys.stderr.write("No se pudo escribir una línea del log\n")
        finally:
            handler.release()

    debug = info = warning = warn = error = exception = critical = fatal = msg = write


class _LineLoggerFactory:
    def __init__(self, handler: logging.StreamHandler[Any]) -> None:
        self._handler = handler

    def __call__(self, *args: Any) -> _LineLogger:
        name = args[0] if args and isinstance(args[0], str) else "agente_vendedor"
        return _LineLogger(name, self._handler)


def configure_logging(*, debug: bool = False, stream: IO[str] | None = None) -> None:
    """JSON lines on one root handler (human-readable console when DEBUG); uvicorn and stdlib loggers go through it."""
    _configuration[0] += 1
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.stdlib.PositionalArgumentsFormatter(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
        structlog.processors.UnicodeDecoder(),
        mask_processor,
    ]
    renderer: Any = structlog.dev.ConsoleRenderer() if debug else structlog.processors.JSONRenderer(serializer=_dumps)
    handler = logging.StreamHandler(stream or sys.stderr)
    if debug:  # human-readable console: through the stdlib, so every line shares one formatter
        _line_loggers[0] = None
        structlog.configure(
            processors=[
                structlog.stdlib.filter_by_level,
                *shared,
                structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
            ],
            context_class=dict,
            logger_factory=structlog.stdlib.LoggerFactory(),
            wrapper_class=structlog.stdlib.BoundLogger,
            cache_logger_on_first_use=False,
        )
    else:  # JSON lines: structlog's own events are rendered once and written to the same handler
        _line_loggers[0] = _LineLoggerFactory(handler)
        structlog.configure(
            processors=[
                structlog.stdlib.filter_by_level,
                *shared,
                structlog.processors.format_exc_info,
                mask_exception_processor,
                renderer,
            ],
            context_class=dict,
            logger_factory=_LineLoggerFactory(handler),
            wrapper_class=structlog.stdlib.BoundLogger,
            cache_logger_on_first_use=False,
        )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            mask_exception_processor,  # tracebacks exist only from here on; every other field went through the chain
            renderer,
        ],
    )
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True


def route_structlog_to_stdlib() -> None:
    """Default wiring when `configure_logging` was not called (embedding, tests): plain stdlib records."""
    _configuration[0] += 1
    _line_loggers[0] = None
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            mask_processor,
            structlog.stdlib.render_to_log_kwargs,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    """A structlog logger bound to `name`."""
    logger: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger(name)
    return logger
