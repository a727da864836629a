"""Files the project keeps by content: their SHA-256 (streamed), and a whole copy that no reader sees half-written."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path


def sha256_of(path: Path) -> str:
    """The file's SHA-256, hex, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def copy_whole(source: Path, target: Path, mode: int | None = None) -> Path:
    """Copy ``source`` to ``target`` (streamed) through a ``.part`` file renamed at the end; ``mode`` is set before
    the rename, so the file never exists with wider rights."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".part")
    shutil.copyfile(source, tmp)
    if mode is not None:
        tmp.chmod(mode)
    tmp.replace(target)
    return target
