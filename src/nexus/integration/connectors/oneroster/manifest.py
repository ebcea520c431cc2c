"""`manifest.csv`: the control file of a OneRoster CSV bundle, read before anything else.

Two columns, `propertyName,value`. `oneroster.version` says which spec the bundle follows;
each `file.<name>` row says how to take `<name>.csv`: `bulk` (a full snapshot of the entity),
`delta` (changes only; `status = tobedeleted` deletes) or `absent` (no information). This
module reads and checks the manifest; it does not open the data files.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from nexus.integration.connectors.oneroster import spec
from nexus.integration.errors import IngestionError

MANIFEST = "manifest.csv"


@dataclass(frozen=True)
class Manifest:
    """What a bundle's manifest says."""

    version: str
    # entity -> bulk | delta | absent, in manifest order. An empty value counts as absent.
    files: dict[str, str]
    # entity -> why its manifest row cannot be honoured (an unknown mode).
    invalid: dict[str, str] = field(default_factory=dict)
    properties: dict[str, str] = field(default_factory=dict)

    def delivered(self) -> list[tuple[str, str]]:
        """(entity, mode) for every file the manifest says is in the bundle."""
        return [(e, m) for e, m in self.files.items() if m in ("bulk", "delta")]


def read_manifest(folder: Path, bundle_name: str) -> Manifest:
    """Read `folder/manifest.csv`; a missing or unreadable manifest stops the run."""
    path = folder / MANIFEST
    if not path.is_file():
        raise IngestionError(missing_manifest_message(folder, bundle_name))
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise IngestionError(f"{bundle_name}: manifest.csv is not UTF-8") from None
    except OSError as exc:
        raise IngestionError(f"{bundle_name}: cannot read manifest.csv: {exc.strerror}") from None
    return parse_manifest(text, bundle_name)


def parse_manifest(text: str, bundle_name: str) -> Manifest:
    where = f"{bundle_name}: manifest.csv"
    try:
        rows = [r for r in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in r)]
    except csv.Error as exc:
        raise IngestionError(f"{where} is not valid CSV: {exc}") from None
    if not rows:
        raise IngestionError(f"{where} is empty")
    header = [c.strip() for c in rows[0]]
    if [c.lower() for c in header[:2]] != ["propertyname", "value"]:
        raise IngestionError(
            f"{where}: the header must be `propertyName,value`, found {','.join(header)[:60]!r}"
        )
    properties: dict[str, str] = {}
    for line, row in enumerate(rows[1:], 2):
        name = row[0].strip()
        value = row[1].strip() if len(row) > 1 else ""
        if name in properties and properties[name] != value:
            raise IngestionError(
                f"{where}: {name} is given twice ({properties[name]!r} and {value!r}, line {line})"
            )
        properties[name] = value
    raw_version = properties.get("oneroster.version")
    if not raw_version:
        raise IngestionError(f"{where} does not say its oneroster.version (1.1 or 1.2)")
    version = spec.normalise_version(raw_version)
    if version is None:
        raise IngestionError(
            f"{where}: oneroster.version {raw_version!r} is not supported (use 1.1 or 1.2)"
        )
    files: dict[str, str] = {}
    invalid: dict[str, str] = {}
    for name, value in properties.items():
        if not name.startswith("file.") or len(name) == len("file."):
            continue
        entity = name[len("file.") :]
        mode = value.lower() or "absent"
        if mode not in spec.MODES:
            invalid[entity] = (
                f"manifest.csv says {name} is {value!r}; expected bulk, delta or absent"
            )
        files[entity] = mode
    return Manifest(version=version, files=files, invalid=invalid, properties=properties)


# File names of Microsoft School Data Sync exports: v2.1 (OneRoster-derived) and classic v1.
_SDS_V2_ONLY = {"relationships.csv", "userflags.csv"}
_SDS_V1 = {"school.csv", "section.csv", "student.csv", "teacher.csv", "studentenrollment.csv"}


def missing_manifest_message(folder: Path, bundle_name: str) -> str:
    """Why a folder without manifest.csv is refused, naming SDS when it looks like SDS."""
    names = {p.name.lower() for p in folder.iterdir() if p.is_file()} if folder.is_dir() else set()
    message = (
        f"{bundle_name} has no manifest.csv, so it is not a OneRoster bundle "
        "(OneRoster 1.1 and 1.2 bundles carry one that says which files are bulk, delta or absent)"
    )
    if names & _SDS_V2_ONLY or len(names & _SDS_V1) >= 3:
        message += (
            "; its files look like Microsoft School Data Sync (SDS) CSV, which resembles "
            "OneRoster but is a different format that Nexus does not read as OneRoster"
        )
    return message
