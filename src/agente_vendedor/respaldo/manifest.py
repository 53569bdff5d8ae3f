"""`manifest.json`: what a backup holds (files with size and SHA-256), and the check that every file is intact."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from agente_vendedor.respaldo.exceptions import BackupError

MANIFEST = "manifest.json"
FORMAT_VERSION = 1
LABELS = {"database": "base de datos", "chroma": "carpeta de Chroma", "exports": "carpeta de exportaciones"}
CHUNK = 1024 * 1024

DatabaseKind = Literal["sqlite", "postgresql"]


@dataclass(frozen=True)
class BackupFile:
    """One file of a backup, as the manifest records it."""

    component: str
    name: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Skipped:
    """A component left out of a backup, and why."""

    component: str
    reason: str


@dataclass(frozen=True)
class Manifest:
    """What a backup holds; written last, so a folder with a manifest is a complete backup."""

    created_at: str
    database: DatabaseKind
    schema_revision: str | None
    files: list[BackupFile]
    skipped: list[Skipped] = field(default_factory=list)
    format_version: int = FORMAT_VERSION

    def to_json(self) -> str:
        """The manifest as pretty, UTF-8 friendly JSON."""
        return json.dumps(asdict(self), ensure_ascii=False, indent=2) + "\n"

    @classmethod
    def from_json(cls, raw: str) -> Manifest:
        """Parse a manifest; raises BackupError when it is malformed."""
        try:
            data: dict[str, Any] = json.loads(raw)
            database = data["database"]
            if database not in ("sqlite", "postgresql"):
                raise ValueError(database)
            return cls(
                created_at=str(data["created_at"]),
                database=database,
                schema_revision=data.get("schema_revision"),
                files=[BackupFile(**entry) for entry in data["files"]],
                skipped=[Skipped(**entry) for entry in data.get("skipped", [])],
                format_version=int(data.get("format_version", FORMAT_VERSION)),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise BackupError(f"{MANIFEST} está dañado o no tiene el formato esperado: {exc}") from exc

    def file(self, component: str) -> BackupFile | None:
        """The file of a component, if the backup has one."""
        return next((f for f in self.files if f.component == component), None)


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def describe(component: str, path: Path) -> BackupFile:
    """The manifest entry of a file just written into a backup."""
    return BackupFile(component=component, name=path.name, size=path.stat().st_size, sha256=sha256_of(path))


def verify_backup(folder: Path) -> Manifest:
    """Read the manifest and check every file's size and SHA-256; raises BackupError listing every problem."""
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        raise BackupError(f"{folder} no contiene {MANIFEST}: no es una copia de seguridad completa")
    manifest = Manifest.from_json(manifest_path.read_text(encoding="utf-8"))
    if manifest.file("database") is None:
        raise BackupError(f"{MANIFEST} no registra ningún archivo de base de datos")
    problems = []
    for entry in manifest.files:
        if Path(entry.name).name != entry.name or entry.name in ("", ".", ".."):
            problems.append(f"nombre de archivo no permitido en {MANIFEST}: {entry.name!r}")
            continue
        path = folder / entry.name
        if not path.is_file():
            problems.append(f"falta {entry.name}")
        elif path.stat().st_size != entry.size or sha256_of(path) != entry.sha256:
            problems.append(f"{entry.name} no coincide con su suma de control (archivo dañado o modificado)")
    if problems:
        raise BackupError("La copia de seguridad no es válida; no se ha restaurado nada: " + "; ".join(problems))
    return manifest
