"""Held-out losses of the live model: per-document token losses on evaluation sets, before and after training.

A held-out set is an ``.npy`` file of shape (documents, length), one document per row, padded with -1 (the study
operators write them: ``boostqa/studies/blend.py``). Each row's loss is the mean next-token cross-entropy over its real
tokens, so the study can group documents by source or bucket; a set's loss is the token-weighted mean over its rows.
Every rank runs the forward (under ZeRO-3 it gathers the shards); rank 0 writes ``heldout.json``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from training.status import atomic_write

PAD = -1
HELDOUT_FILE = "heldout.json"


def load_set(path: str | Path) -> np.ndarray:
    """A held-out set's rows.

    Raises:
        ValueError: the file is not a 2-D integer array, or a row has fewer than two real tokens.
    """
    rows: np.ndarray = np.asarray(np.load(path))
    if rows.ndim != 2 or not np.issubdtype(rows.dtype, np.integer):
        raise ValueError(f"held-out set {path} must be a 2-D integer array (documents x tokens), got {rows.shape} "
                         f"{rows.dtype}")
    short = np.flatnonzero((rows != PAD).sum(axis=1) < 2)
    if short.size:
        raise ValueError(f"held-out set {path}: rows {short[:5].tolist()} have fewer than 2 tokens to predict from")
    return rows


def row_losses(engine: Any, rows: np.ndarray, eos_token_id: int, batch_size: int = 8) -> tuple[list[float], list[int]]:
    """Mean next-token loss of each row and the tokens it was taken over (every rank must call this)."""
    import torch

    losses: list[float] = []
    counts: list[int] = []
    engine.eval()
    with torch.no_grad():
        for start in range(0, len(rows), batch_size):
            chunk = rows[start : start + batch_size]
            real = torch.as_tensor(chunk != PAD, device=engine.device)
            ids = torch.as_tensor(np.where(chunk == PAD, eos_token_id, chunk).astype(np.int64), device=engine.device)
            logits = engine(input_ids=ids).logits.float()
            per_token = torch.nn.functional.cross_entropy(logits[:, :-1].transpose(1, 2), ids[:, 1:],
                                                          reduction="none")
            mask = real[:, 1:].float()
            sums, tokens = (per_token * mask).sum(dim=1), mask.sum(dim=1)
            losses += (sums / tokens).cpu().tolist()
            counts += [int(t) for t in tokens.cpu().tolist()]
    engine.train()
    return losses, counts


def evaluate_sets(engine: Any, sets: dict[str, str], eos_token_id: int) -> dict[str, dict[str, Any]]:
    """Each set's token-weighted loss and its rows' losses, by set name."""
    result: dict[str, dict[str, Any]] = {}
    for name, path in sorted(sets.items()):
        losses, counts = row_losses(engine, load_set(path), eos_token_id)
        total = sum(counts)
        result[name] = {"loss": sum(loss * n for loss, n in zip(losses, counts, strict=True)) / total,
                        "tokens": total, "row_losses": losses, "row_tokens": counts}
    return result


def baseline(engine: Any, sets: dict[str, str], eos_token_id: int, output: Path, resumed: bool, rank: int
             ) -> dict[str, dict[str, Any]]:
    """The losses before the first step: measured now (and kept in ``heldout.json``), or on a resume the kept ones."""
    path = output / HELDOUT_FILE
    if resumed:
        return dict(json.loads(path.read_text()).get("before", {})) if path.exists() else {}
    before = evaluate_sets(engine, sets, eos_token_id)
    if rank == 0 and sets:
        atomic_write(path, json.dumps({"before": before}).encode())
    return before


def measure_after(engine: Any, sets: dict[str, str], eos_token_id: int, output: Path, before: dict[str, Any],
                  rank: int) -> dict[str, dict[str, float]]:
    """The losses after the last step, written with the baseline's; the status file's summary (rank 0, sets given)."""
    after = evaluate_sets(engine, sets, eos_token_id)
    return write_heldout(output, before, after) if rank == 0 and sets else {}


def write_heldout(output: Path, before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Write ``heldout.json`` (rows included); returns the status file's summary: loss per set, before and after."""
    atomic_write(output / HELDOUT_FILE, json.dumps({"before": before, "after": after}).encode())
    return {"heldout_before": {name: s["loss"] for name, s in before.items()},
            "heldout_after": {name: s["loss"] for name, s in after.items()}}


def non_embedding_parameters(model: Any) -> int:
    """Parameters outside the token embedding (and a tied output head): the N of the 6·N·D compute estimate."""
    embedding = model.get_input_embeddings().weight
    head = model.get_output_embeddings()
    skip = {id(embedding)} | ({id(head.weight)} if head is not None else set())
    return sum(int(getattr(p, "ds_numel", p.numel())) for p in model.parameters() if id(p) not in skip)
