"""Backups and restores of the database, the Chroma folder and the exports folder, checked by a manifest.

A backup is a folder `<destino>/<UTC timestamp>/` holding one file per component and `manifest.json`
(creation time, database kind, Alembic revision, and name/size/sha256 of every file). A restore verifies
every checksum and that every target is empty before it writes anything, then is all or nothing: it stages
every component beside its target (the database into a new file or a new PostgreSQL database, each folder
into a hidden sibling), verifies the staged copies, and only then switches them in by renames; a failure at
any step removes what was staged and renames back what was switched, leaving the targets as they were.

With a Chroma server (CHROMA_HOST) the vectors live in the server, not in a local folder: the backup records
that the index is rebuilt from the restored database with `agente-vendedor reindexar`.

Modules: `service` (create and restore), `manifest`, `sqlite`, `postgresql`, `folders` (Chroma and exports),
`staging` (what a restored component does) and `exceptions`.
"""

from __future__ import annotations

from agente_vendedor.respaldo.exceptions import BackupError
from agente_vendedor.respaldo.manifest import LABELS, BackupFile, Manifest, Skipped, sha256_of, verify_backup
from agente_vendedor.respaldo.service import BackupResult, RestoreResult, create_backup, restore_backup

__all__ = [
    "LABELS",
    "BackupError",
    "BackupFile",
    "BackupResult",
    "Manifest",
    "RestoreResult",
    "Skipped",
    "create_backup",
    "restore_backup",
    "sha256_of",
    "verify_backup",
]
