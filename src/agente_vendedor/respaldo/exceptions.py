"""The error of a backup or restore that cannot go ahead."""

from __future__ import annotations


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message is for the user, in Spanish."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
