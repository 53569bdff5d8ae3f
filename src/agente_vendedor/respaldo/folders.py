"""The Chroma and exports folders: archived as tar.gz, checked before extraction, restored beside the target."""

from __future__ import annotations

import shutil
import tarfile
from collections.abc import Iterable
from pathlib import Path

from agente_vendedor.respaldo.exceptions import BackupError
from agente_vendedor.respaldo.manifest import LABELS
from agente_vendedor.respaldo.staging import Staged

ARCHIVES = {"chroma": "chroma.tar.gz", "exports": "exports.tar.gz"}


def is_empty_folder(folder: Path) -> bool:
    """A folder that does not exist or has nothing in it."""
    return not folder.exists() or (folder.is_dir() and not any(folder.iterdir()))


def archive_folder(folder: Path, target: Path) -> str | None:
    """Tar+gzip a folder's contents; returns why it was skipped, or None when archived."""
    if not folder.exists():
        return "la carpeta no existe"
    if not folder.is_dir():
        return "la ruta no es una carpeta"
    entries = sorted(folder.iterdir())
    if not entries:
        return "la carpeta está vacía"
    with tarfile.open(target, "w:gz", format=tarfile.PAX_FORMAT) as tar:
        for entry in entries:
            tar.add(entry, arcname=entry.name)
    return None


def refuse_destination_inside(destination: Path, folders: Iterable[Path]) -> None:
    """A backup written inside a folder it copies would copy itself: refuse it."""
    target = destination.resolve()
    for folder in folders:
        if folder.exists() and target.is_relative_to(folder.resolve()):
            raise BackupError(f"El destino {destination} está dentro de {folder}, que también se copia: elija otro")


def check_archive(archive: Path, destination: Path) -> str | None:
    """Why an archive cannot be extracted safely (absolute paths, `..`, links out, devices), or None."""
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar.getmembers():
                try:
                    tarfile.data_filter(member, str(destination))
                except tarfile.FilterError as exc:
                    return f"{archive.name} contiene una entrada no permitida ({member.name!r}: {exc})"
    except (tarfile.TarError, OSError, EOFError) as exc:
        return f"{archive.name} no se puede leer: {exc}"
    return None


class StagedFolder(Staged):
    """An archive extracted into a hidden sibling of the target folder, renamed into place by `switch`."""

    def __init__(self, component: str, archive: Path, folder: Path, token: str) -> None:
        self.component = component
        self.folder = folder
        folder.parent.mkdir(parents=True, exist_ok=True)
        self.staging = folder.parent / f".{folder.name}.restaurando-{token}"
        self.aside = folder.parent / f".{folder.name}.anterior-{token}"
        self.staging.mkdir()
        try:
            with tarfile.open(archive, "r:gz") as tar:
                self.expected = sum(1 for m in tar.getmembers() if m.isfile())
                tar.extractall(self.staging, filter="data")
        except BaseException:
            self.discard()
            raise

    def verify(self) -> None:
        found = sum(1 for p in self.staging.rglob("*") if p.is_file())
        if found != self.expected:
            raise BackupError(f"La {LABELS[self.component]} extraída tiene {found} archivos de {self.expected}")

    def switch(self) -> None:
        if not is_empty_folder(self.folder):
            raise BackupError(f"La {LABELS[self.component]} {self.folder} dejó de estar vacía; no se ha tocado")
        if self.folder.exists():
            self.folder.rename(self.aside)
        self.staging.rename(self.folder)

    def undo(self) -> None:
        if self.folder.exists() and not self.staging.exists():
            self.folder.rename(self.staging)
        if self.aside.exists():
            self.aside.rename(self.folder)

    def discard(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)

    def finish(self) -> None:
        shutil.rmtree(self.aside, ignore_errors=True)
