"""Tokenize documents with the target model's tokenizer and pack them EOS-separated into fixed-length sequences."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from boostqa.errors import ConfigError


@dataclass(frozen=True)
class TargetTokenizer:
    """The tokenizer of the model being trained (``tokenizer.json`` of its HF folder) and its EOS id.

    It carries the file's text, so a Ray worker on another node (without the model folder) builds the same tokenizer
    from the copy the driver put in the object store.
    """

    path: Path
    eos_token_id: int
    vocab_size: int
    sha256: str
    definition: str = field(default="", repr=False, compare=False)

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        """Token ids of each text, without special tokens (the packer adds EOS)."""
        tokenizer = _load(self)
        return [e.ids for e in tokenizer.encode_batch(texts, add_special_tokens=False)]  # type: ignore[attr-defined]

    def token_counts(self, texts: Iterable[str], batch: int = 256) -> list[int]:
        """Tokens of each text as a sample of the mixture: its ids plus the EOS that follows it."""
        return [len(ids) + 1 for chunk in batched(texts, batch) for ids in self.encode_batch(chunk)]


_TOKENIZERS: dict[str, object] = {}


def _load(target: TargetTokenizer) -> object:
    """One tokenizer object per process and tokenizer file (keyed by its sha256)."""
    if target.sha256 not in _TOKENIZERS:
        from tokenizers import Tokenizer  # noqa: PLC0415 - only the export needs it

        _TOKENIZERS[target.sha256] = (Tokenizer.from_str(target.definition) if target.definition
                                      else Tokenizer.from_file(str(target.path)))
    return _TOKENIZERS[target.sha256]


def load_target_tokenizer(model_dir: Path) -> TargetTokenizer:
    """The tokenizer of an HF model folder.

    Raises:
        ConfigError: the folder has no ``tokenizer.json`` or names no EOS token.
    """
    path = model_dir / "tokenizer.json"
    if not path.exists():
        raise ConfigError(f"{model_dir} has no tokenizer.json: point the export at the target model's HF folder")
    config_path = model_dir / "tokenizer_config.json"
    eos = json.loads(config_path.read_text()).get("eos_token") if config_path.exists() else None
    if isinstance(eos, dict):
        eos = eos.get("content")
    data = path.read_bytes()
    target = TargetTokenizer(path=path, eos_token_id=-1, vocab_size=0, sha256=hashlib.sha256(data).hexdigest(),
                             definition=data.decode("utf-8"))
    tokenizer = _load(target)
    eos_id = tokenizer.token_to_id(eos) if eos else None  # type: ignore[attr-defined]
    if eos_id is None:
        raise ConfigError(f"{config_path} names no EOS token the tokenizer knows ({eos!r})")
    vocab_size = int(tokenizer.get_vocab_size())  # type: ignore[attr-defined]
    return replace(target, eos_token_id=int(eos_id), vocab_size=vocab_size)


def packed_dtype(vocab_size: int) -> np.dtype:
    """uint16 when every token id fits (SmolLM2's 49,152), else uint32 (Llama-3's 128,256)."""
    return np.dtype(np.uint16 if vocab_size <= 65_536 else np.uint32)


@dataclass
class PackedShardInfo:
    """One written ``.bin`` shard."""

    path: str
    sequences: int
    tokens: int
    sha256: str


@dataclass
class Packer:
    """Streams documents into ``seq_len`` sequences and writes shards of ``sequences_per_shard`` under ``out_dir``.

    Each document is followed by EOS; the last sequence is padded with EOS. Records where each document starts.
    """

    out_dir: Path
    seq_len: int
    eos_token_id: int
    vocab_size: int
    sequences_per_shard: int = 4096
    shards: list[PackedShardInfo] = field(default_factory=list)
    _buffer: list[int] = field(default_factory=list)
    _pending: list[np.ndarray] = field(default_factory=list)
    _written_sequences: int = 0
    _position: int = 0  # global token position of the next document

    @property
    def dtype(self) -> np.dtype:
        """The shards' integer type (:func:`packed_dtype`)."""
        return packed_dtype(self.vocab_size)

    def add(self, tokens: list[int]) -> tuple[int, int, int]:
        """Append one document; returns where it starts: (shard, sequence within the shard, token offset)."""
        start = self._position
        self._buffer.extend(tokens)
        self._buffer.append(self.eos_token_id)
        self._position += len(tokens) + 1
        while len(self._buffer) >= self.seq_len:
            self._pending.append(np.array(self._buffer[: self.seq_len], dtype=self.dtype))
            del self._buffer[: self.seq_len]
            if len(self._pending) == self.sequences_per_shard:
                self._flush()
        sequence, offset = divmod(start, self.seq_len)
        return sequence // self.sequences_per_shard, sequence % self.sequences_per_shard, offset

    def close(self) -> list[PackedShardInfo]:
        """Pad and write what is left; the list of shards."""
        if self._buffer:
            padded = self._buffer + [self.eos_token_id] * (self.seq_len - len(self._buffer))
            self._pending.append(np.array(padded, dtype=self.dtype))
            self._buffer = []
        if self._pending:
            self._flush()
        return self.shards

    def _flush(self) -> None:
        data = np.stack(self._pending).tobytes()
        name = f"packed/shard-{len(self.shards):05d}.bin"
        target = self.out_dir / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        self.shards.append(PackedShardInfo(name, len(self._pending), len(self._pending) * self.seq_len,
                                           hashlib.sha256(data).hexdigest()))
        self._written_sequences += len(self._pending)
        self._pending = []


def batched(texts: Iterable[str], size: int) -> Iterator[list[str]]:
    """Lists of up to ``size`` texts."""
    batch: list[str] = []
    for text in texts:
        batch.append(text)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
