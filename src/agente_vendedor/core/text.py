"""Text helpers shared by search and validation: accent folding and input cleaning."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def fold(text: str) -> str:
    """Lower-case, strip accents and collapse spaces: `  José  Pérez` -> `jose perez`."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    without_marks = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", without_marks).strip()


def digits(text: str) -> str:
    """Only the digits of a text (phone numbers compare by digits)."""
    return "".join(ch for ch in text if ch.isdigit())


def has_control_chars(text: str) -> bool:
    """True when the text holds NUL or other control characters no shop data needs."""
    return bool(_CONTROL.search(text))
