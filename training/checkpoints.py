"""Checkpoint integrity: each saved tag is sealed with its files' sha256; a resume takes the newest tag that verifies.

DeepSpeed writes a tag folder (``step_<n>``) and then its ``latest`` pointer; a crash, a full disk or a bad node can
leave the newest folder short or damaged. Rank 0 seals a tag after every rank has saved it (``checksums.json``,
written last, by rename); on a resume it checks the newest sealed tag, and if a file is missing or differs it moves
that tag aside (``corrupt-step_<n>``, kept for a look) and falls back to the one before. Pruning keeps the newest
``keep`` (at least 2) sealed tags, so there is always one to fall back to.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

SEAL = "checksums.json"
LATEST = "latest"  # DeepSpeed's pointer file to the tag a resume loads
CHUNK = 8 << 20


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name != SEAL)


def _write_atomic(path: Path, text: str) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text)
    os.replace(partial, path)


def seal(output: Path, tag: str) -> Path:
    """Record the sha256 of every file of checkpoint ``tag`` (rank 0, once every rank has saved its part)."""
    folder = output / tag
    checksums = {str(p.relative_to(folder)): _sha256(p) for p in _files(folder)}
    _write_atomic(folder / SEAL, json.dumps(checksums, indent=1, sort_keys=True))
    return folder / SEAL


def problem(folder: Path) -> str | None:
    """Why checkpoint ``folder`` cannot be trusted (no seal, a file missing, added or changed); None if it verifies."""
    seal_path = folder / SEAL
    if not seal_path.is_file():
        return "it was never sealed (the run stopped while saving it)"
    try:
        expected: dict[str, str] = json.loads(seal_path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        return f"its {SEAL} is unreadable: {exc}"
    present = {str(p.relative_to(folder)) for p in _files(folder)}
    if missing := sorted(set(expected) - present):
        return f"files are missing: {missing[:3]}"
    for name, digest in expected.items():
        if _sha256(folder / name) != digest:
            return f"{name} differs from its sha256 at save time"
    return None


def tags(output: Path) -> list[str]:
    """The checkpoint tags in ``output``, oldest first."""
    folders = [p for p in output.glob("step_*") if p.is_dir() and p.name.removeprefix("step_").isdigit()]
    return [p.name for p in sorted(folders, key=lambda p: int(p.name.removeprefix("step_")))]


def resumable_tag(output: Path) -> str | None:
    """The newest checkpoint that verifies (rank 0), with ``latest`` pointing at it; None when there is none yet.

    A newer tag that does not verify is moved aside and reported, and the previous one is used.

    Raises:
        RuntimeError: checkpoints exist but none verifies (starting over would silently discard the run).
    """
    found = tags(output)
    pointed = (output / LATEST).read_text().strip() if (output / LATEST).is_file() else None
    for tag in reversed(found):
        why = problem(output / tag)
        if why is not None and tag == pointed and not (output / tag / SEAL).exists():
            # DeepSpeed moves ``latest`` only after every file of the tag is written: complete, though unverifiable
            # (saved before seals existed, or the run stopped between the two).
            print(f"[train] checkpoint {tag} has no seal but DeepSpeed completed it: resuming from it", flush=True)
            why = None
        if why is None:
            if not (output / LATEST).is_file() or (output / LATEST).read_text().strip() != tag:
                _write_atomic(output / LATEST, tag)
            return tag
        aside = output / f"corrupt-{tag}"
        shutil.rmtree(aside, ignore_errors=True)
        (output / tag).rename(aside)
        print(f"[train] checkpoint {tag} cannot be used: {why}; moved to {aside.name}, falling back to the one "
              "before it", flush=True)
    if found:
        raise RuntimeError(f"no checkpoint in {output} verifies ({', '.join(found)} were moved to corrupt-*): "
                           "restore one, or start the run again in an empty output_dir")
    return None


def prune(output: Path, keep: int) -> None:
    """Delete all but the newest ``keep`` checkpoint tags (a 135M model's ZeRO state is about 1.6 GB each)."""
    for old in tags(output)[:-keep]:
        shutil.rmtree(output / old, ignore_errors=True)
