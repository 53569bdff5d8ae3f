"""Logging set-up: personal data and secrets are masked before any line is written."""

from __future__ import annotations

import logging
import re

_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*(@[A-Za-z0-9.-]+\.[A-Za-z]{2,})")
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+")
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_SECRET_FIELDS = re.compile(r"(?i)((?:password|contraseña|secret|token)[\"']?\s*[:=]\s*[\"']?)[^\"'&\s,}]+")
# International numbers (+34 600 123 456) and national ones written 3-3-3(4) or as 9+ digits; dates don't match.
_PHONE = re.compile(r"(\+\d[\d \-()]{6,}\d|(?<!\d)\d{3}[ -]?\d{3}[ -]?\d{3,4}(?!\d))")


def _mask_phone(match: re.Match[str]) -> str:
    text = match.group(1)
    digit_count = sum(ch.isdigit() for ch in text)
    return "***" + "".join(ch for ch in text if ch.isdigit())[-3:] if digit_count >= 7 else text


def mask(text: str) -> str:
    """Hide e-mails (keep first letter and domain), phones (keep last 3 digits), tokens and passwords."""
    text = _JWT.sub("***", text)
    text = _BEARER.sub(r"\1***", text)
    text = _SECRET_FIELDS.sub(r"\1***", text)
    text = _EMAIL.sub(r"\1***\2", text)
    return _PHONE.sub(_mask_phone, text)


class MaskingFilter(logging.Filter):
    """Rewrite each record's final message through `mask`."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Mask the formatted message in place; never drop a record."""
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True
        record.msg, record.args = mask(message), None
        return True


def configure_logging(*, debug: bool = False) -> None:
    """One handler on the root logger, with masking; uvicorn's loggers propagate to it."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(MaskingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
