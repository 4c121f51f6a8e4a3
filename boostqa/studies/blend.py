"""A study's training data: documents split into train and held-out, packed blends of exact token counts.

The trainer reads a blend as it reads a mixture export (``manifest.json`` and ``packed/*.bin``); a held-out set is an
``.npy`` of one document per row, cut to the sequence length and padded with -1 (``training/heldout.py`` scores it).
Token counts include the EOS that follows each document, and a pool is cycled (its passes recorded) when a blend
asks for more tokens than it holds, so two arms asked for the same total train on exactly the same number of tokens.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from boostqa.errors import ConfigError
from boostqa.export.packing import Packer, TargetTokenizer
from boostqa.export.text import training_text

MANIFEST_VERSION = 1  # training/data.py reads this version
HELDOUT_PAD = -1  # training/heldout.py PAD


@dataclass(frozen=True)
class Document:
    """One tokenized document of a pool, with what attributes it (bucket, strategy) for per-bucket results."""

    sample_id: str
    source: str
    tokens: tuple[int, ...]
    item_id: str | None = None
    discipline_id: str | None = None
    difficulty: int | None = None
    strategy: str | None = None


@dataclass
class Pools:
    """Train and held-out documents by source (``boostqa``, ``general``)."""

    train: dict[str, list[Document]] = field(default_factory=dict)
    heldout: dict[str, list[Document]] = field(default_factory=dict)

    def tokens(self, source: str) -> int:
        """Training tokens of a source's pool (EOS included)."""
        return sum(len(d.tokens) + 1 for d in self.train.get(source, []))


def is_heldout(sample_id: str, fraction: float) -> bool:
    """Whether a document is held out: a stable hash of its id, the same in every run and study."""
    return int(hashlib.sha256(sample_id.encode()).hexdigest()[:8], 16) / 2**32 < fraction


def build_pools(rows: Iterable[Mapping[str, Any]], tokenizer: TargetTokenizer, heldout_fraction: float) -> Pools:
    """Tokenize rows (selection rows or general documents with ``sample_id``, ``source``, text fields) into pools."""
    rows = list(rows)
    ids = tokenizer.encode_batch([training_text(r) for r in rows]) if rows else []
    pools = Pools()
    for row, tokens in zip(rows, ids, strict=True):
        if not tokens:
            continue
        doc = Document(str(row["sample_id"]), str(row["source"]), tuple(tokens), row.get("item_id"),
                       row.get("discipline_id"), row.get("difficulty"), row.get("strategy"))
        side = pools.heldout if is_heldout(doc.sample_id, heldout_fraction) else pools.train
        side.setdefault(doc.source, []).append(doc)
    return pools


def take_tokens(docs: Sequence[Document], target: int) -> tuple[list[Sequence[int]], float, list[Document]]:
    """Documents' tokens adding up to exactly ``target`` (each counted with its EOS), cycling the pool as needed.

    The last document is cut to fit. Returns the token lists, the passes over the pool (target / pool tokens) and the
    distinct documents taken (what the blend really holds of the pool).

    Raises:
        ConfigError: tokens are asked of an empty pool.
    """
    if target <= 0:
        return [], 0.0, []
    pool = sum(len(d.tokens) + 1 for d in docs)
    if not pool:
        raise ConfigError(f"{target} tokens asked of an empty pool: the mixture has no such documents")
    taken: list[Sequence[int]] = []
    left, index = target, 0
    while left > 1:
        tokens = docs[index % len(docs)].tokens
        taken.append(tokens[: left - 1])
        left -= min(len(tokens), left - 1) + 1
        index += 1
    if left == 1:  # one token short of the target: an empty document is just its EOS
        taken.append(())
    return taken, target / pool, list(docs[: min(index, len(docs))])


@dataclass(frozen=True)
class Blend:
    """A packed blend on disk: where, how many sequences, tokens by source and passes over each pool."""

    name: str
    manifest: Path
    sequences: int
    tokens: dict[str, int]
    passes: dict[str, float]
    documents: dict[str, list[Document]] = field(default_factory=dict, compare=False, repr=False)


def write_blend(folder: Path, name: str, parts: Mapping[str, tuple[Sequence[Document], int]],
                tokenizer: TargetTokenizer, seq_len: int, mixture_version: str) -> Blend:
    """Pack ``{source: (pool, tokens)}`` into ``folder/name`` as a trainer-readable mixture; returns what it holds."""
    out = folder / name
    packer = Packer(out, seq_len=seq_len, eos_token_id=tokenizer.eos_token_id, vocab_size=tokenizer.vocab_size)
    tokens, passes, documents = {}, {}, {}
    for source, (docs, target) in parts.items():
        taken, passes[source], documents[source] = take_tokens(docs, target)
        for ids in taken:
            packer.add(list(ids))
        tokens[source] = target
    shards = packer.close()
    manifest = {"manifest_version": MANIFEST_VERSION, "mixture_version": mixture_version,
                "tokenizer": {"path": str(tokenizer.path), "sha256": tokenizer.sha256},
                "blend": {"name": name, "tokens": tokens, "passes": passes},
                "packed": {"seq_len": seq_len, "dtype": str(packer.dtype), "eos_token_id": tokenizer.eos_token_id,
                           "vocab_size": tokenizer.vocab_size, "shards": [s.__dict__ for s in shards]}}
    path = out / "manifest.json"
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True))
    return Blend(name, path, sum(s.sequences for s in shards), tokens, passes, documents)


def write_heldout_set(path: Path, docs: Sequence[Document], seq_len: int, limit: int) -> list[Document]:
    """Write up to ``limit`` documents (of at least 2 tokens) as a held-out set; returns them in row order.

    Raises:
        ConfigError: no document qualifies (nothing to measure on).
    """
    chosen = [d for d in docs if len(d.tokens) >= 2][:limit]
    if not chosen:
        raise ConfigError(f"no held-out document for {path.name}: raise heldout_fraction or add documents")
    rows = np.full((len(chosen), seq_len), HELDOUT_PAD, dtype=np.int32)
    for index, doc in enumerate(chosen):
        cut = doc.tokens[:seq_len]
        rows[index, : len(cut)] = cut
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, rows)
    return chosen
