"""Content-addressed originals: every ingested file is kept under `NEXUS_HOME/artifacts/`.

An artifact's name is the sha256 of its bytes, so the same file ingested twice is stored once
and a run can always point at exactly what it read.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

_CHUNK = 1 << 20


@dataclass(frozen=True)
class Artifact:
    sha256: str
    size_bytes: int
    path: Path


def sha256_of(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def keep(artifacts_dir: Path, original: Path, known: tuple[str, int] | None = None) -> Artifact:
    """Copy `original` into the artifact store (once per content) and return its address.

    `known` is (sha256, size) when the caller has just read the file and hashed it.
    """
    sha, size = known or sha256_of(original)
    target = artifacts_dir / sha[:2] / sha
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(f".{os.getpid()}.partial")
        shutil.copyfile(original, partial)
        os.replace(partial, target)
    return Artifact(sha256=sha, size_bytes=size, path=target)
