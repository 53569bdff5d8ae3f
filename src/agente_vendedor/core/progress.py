"""The one progress-callback type shared by long tasks (exports, imports, reindexing) and the CLI's progress bars."""

from __future__ import annotations

from collections.abc import Callable

ProgressCallback = Callable[[int], None]
"""Called with how many more rows (items) are done since the previous call."""
