"""OneRoster CSV bundles: a folder or a .zip with `manifest.csv`, turned into deliveries.

The manifest is read first and honoured per file: `bulk` -> a bulk delivery (the entity's new
snapshot), `delta` -> a delta delivery whose `status = tobedeleted` rows delete, `absent` ->
nothing at all (absent means *no information*, never "delete all"). A file the manifest
promises but the bundle lacks is a failed delivery. A zip is extracted into the run's work
folder, refusing any member that would land outside it. This module does not fetch REST
collections (see `rest.py`); it is also how their written CSV files are delivered.
"""

from __future__ import annotations

import csv
import shutil
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from nexus.integration.connectors.base import ConnectorContext, CsvFormat, Delivery
from nexus.integration.connectors.oneroster import spec
from nexus.integration.connectors.oneroster.manifest import MANIFEST, read_manifest
from nexus.integration.errors import IngestionError


def bundle_deliveries(source: str, context: ConnectorContext) -> Iterator[Delivery]:
    """One delivery per file the manifest names as bulk or delta (a failure when missing)."""
    path = Path(source).expanduser()
    if not path.exists():
        raise IngestionError(f"source {source} does not exist")
    folder = open_bundle(path, context)
    manifest = read_manifest(folder, path.name)
    wanted = context.options.get("entities")
    if wanted:
        unknown = sorted(set(wanted) - set(manifest.files))
        if unknown:
            raise IngestionError(f"{path.name}: the manifest names no file {', '.join(unknown)}")
    files = _files_by_name(folder)
    for entity, mode in manifest.files.items():
        if wanted and entity not in wanted:
            continue
        if entity in manifest.invalid:
            yield failed(entity, manifest.invalid[entity])
            continue
        if mode == "absent":
            continue
        found = files.get(f"{entity}.csv") or files.get(f"{entity}.csv".lower())
        if found is None:
            yield failed(
                entity,
                f"manifest.csv lists {entity}.csv as {mode} but the bundle has no such file",
            )
            continue
        yield file_delivery(entity, found, manifest.version, mode)


def file_delivery(entity: str, path: Path, version: str, mode: str) -> Delivery:
    """The delivery of one OneRoster CSV file: key `sourcedId`, spec types, spec drift."""
    present = read_header(path)
    return Delivery(
        entity=entity,
        name=path.name,
        natural_key=spec.NATURAL_KEY,
        mode="delta" if mode == "delta" else "bulk",
        columns=spec.column_specs(present),
        expected_columns=spec.expected_columns(version, entity, present),
        path=path,
        csv=CsvFormat(),
        tombstone=spec.TOMBSTONE if mode == "delta" else None,
        district_evidence=spec.DISTRICT_EVIDENCE if entity == "orgs" else None,
    )


def failed(entity: str, reason: str) -> Delivery:
    return Delivery(
        entity=entity, name=f"{entity}.csv", natural_key=spec.NATURAL_KEY, failure=reason
    )


def read_header(path: Path) -> list[str]:
    """The file's header names (the work area checks the file itself in full)."""
    try:
        with path.open("r", encoding="utf-8-sig", errors="replace", newline="") as handle:
            return [c.strip() for c in next(csv.reader(handle), [])]
    except (OSError, csv.Error):
        return []


def _files_by_name(folder: Path) -> dict[str, Path]:
    """Data files by exact name, and by lower-cased name when that is unambiguous."""
    found = {p.name: p for p in folder.iterdir() if p.is_file() and p.name != MANIFEST}
    lowered: dict[str, list[Path]] = {}
    for name, p in found.items():
        lowered.setdefault(name.lower(), []).append(p)
    for name, paths in lowered.items():
        if len(paths) == 1 and name not in found:
            found[name] = paths[0]
    return found


# --- zips ---------------------------------------------------------------------------------


def open_bundle(path: Path, context: ConnectorContext) -> Path:
    """The folder holding the bundle's files: `path` itself, or where its zip was extracted."""
    if path.is_dir():
        return _bundle_root(path, path.name)
    if path.suffix.lower() != ".zip" and not zipfile.is_zipfile(path):
        raise IngestionError(f"{path.name} is neither a folder nor a .zip OneRoster bundle")
    if context.work_dir is None:
        raise IngestionError("the run has no work folder to extract the zip into")
    target = context.work_dir / "oneroster-bundle"
    n = 1
    while target.exists():
        n += 1
        target = context.work_dir / f"oneroster-bundle-{n}"
    target.mkdir(parents=True)
    extract_zip(path, target)
    return _bundle_root(target, path.name)


def extract_zip(path: Path, target: Path) -> None:
    """Extract every member under `target`; an unsafe or unreadable zip stops the run."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = [m for m in archive.infolist() if not m.is_dir()]
            for member in members:
                _check_member(member.filename, path.name)
            for member in members:
                if _ignored(member.filename):
                    continue
                destination = target.joinpath(*PurePosixPath(member.filename).parts)
                destination.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(member) as src, destination.open("wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
        raise IngestionError(f"{path.name} is not a readable zip: {exc}") from None
    except OSError as exc:
        raise IngestionError(f"{path.name} cannot be extracted: {exc.strerror or exc}") from None


def _check_member(name: str, zip_name: str) -> None:
    pure = PurePosixPath(name.replace("\\", "/"))
    if pure.is_absolute() or ".." in pure.parts or (pure.parts and ":" in pure.parts[0]):
        raise IngestionError(
            f"{zip_name} holds a file that would land outside the bundle ({name!r}); "
            "refusing the whole zip"
        )


def _ignored(name: str) -> bool:
    parts = PurePosixPath(name).parts
    return bool(parts) and (parts[0] == "__MACOSX" or parts[-1].startswith("._"))


def _bundle_root(folder: Path, bundle_name: str) -> Path:
    """`folder`, or its single sub-folder when the files were zipped inside one."""
    if (folder / MANIFEST).is_file():
        return folder
    inner = [p.parent for p in folder.glob(f"*/{MANIFEST}")]
    if len(inner) == 1 and not any(p.suffix.lower() == ".csv" for p in folder.iterdir()):
        return inner[0]
    return folder  # read_manifest reports the missing manifest
