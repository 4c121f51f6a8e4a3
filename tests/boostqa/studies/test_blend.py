"""Pools split by a stable hash; blends of exact token counts the trainer reads; held-out sets of whole documents."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from boostqa.errors import ConfigError
from boostqa.export.packing import load_target_tokenizer
from boostqa.studies.blend import Document, build_pools, is_heldout, take_tokens, write_blend, write_heldout_set
from tests.boostqa.studies.conftest import selection_rows


def test_take_tokens_hits_the_target_exactly_cycling_and_cutting_documents() -> None:
    docs = [Document("a", "s", (1, 2, 3)), Document("b", "s", (4, 5))]  # 4 + 3 tokens with their EOS
    for target in range(1, 16):
        taken, passes, used = take_tokens(docs, target)
        assert sum(len(t) + 1 for t in taken) == target
        assert passes == pytest.approx(target / 7)
        assert [d.sample_id for d in used] == ([] if target == 1 else ["a"] if target <= 5 else ["a", "b"])
    assert take_tokens(docs, 12)[0] == [(1, 2, 3), (4, 5), (1, 2, 3), ()]  # a second pass, the last cut to its EOS
    assert take_tokens(docs, 0) == ([], 0.0, [])
    with pytest.raises(ConfigError, match="empty pool"):
        take_tokens([], 5)


def test_pools_hold_every_document_once_and_the_split_is_stable(tokenizer_dir: Path) -> None:
    rows = selection_rows(200)
    pools = build_pools(rows, load_target_tokenizer(tokenizer_dir), heldout_fraction=0.2)
    train = {d.sample_id for docs in pools.train.values() for d in docs}
    heldout = {d.sample_id for docs in pools.heldout.values() for d in docs}
    assert not train & heldout and len(train | heldout) == len(rows)
    assert heldout == {r["sample_id"] for r in rows if is_heldout(str(r["sample_id"]), 0.2)}
    assert 20 < len(pools.heldout["boostqa"]) < 60  # about a fifth of the 200 items
    item = pools.train["boostqa"][0]
    assert item.discipline_id in {"physics", "mathematics"} and item.difficulty in {2, 3}


def test_two_arms_asked_for_the_same_total_pack_the_same_sequences(tokenizer_dir: Path, tmp_path: Path) -> None:
    tokenizer = load_target_tokenizer(tokenizer_dir)
    pools = build_pools(selection_rows(60), tokenizer, heldout_fraction=0.1)
    treated = write_blend(tmp_path, "boostqa-d300", {"boostqa": (pools.train["boostqa"], 300),
                                                      "general": (pools.train["general"], 300)}, tokenizer, 32, "v1")
    control = write_blend(tmp_path, "control-d300", {"general": (pools.train["general"], 600)}, tokenizer, 32, "v1")
    assert treated.sequences == control.sequences == 19  # ceil(600 / 32)
    assert treated.tokens == {"boostqa": 300, "general": 300} and control.tokens == {"general": 600}
    assert control.passes["general"] > 1  # one general document: cycled
    manifest = json.loads(treated.manifest.read_text())
    packed = manifest["packed"]
    assert manifest["manifest_version"] == 1 and manifest["mixture_version"] == "v1"
    assert packed["eos_token_id"] == 1 and packed["seq_len"] == 32
    stream = np.concatenate([np.fromfile(tmp_path / "boostqa-d300" / s["path"], dtype=packed["dtype"])
                             for s in packed["shards"]])
    assert len(stream) == 19 * 32 and int((stream[:600] == 1).sum()) >= 2  # documents EOS-separated, then padding


def test_a_heldout_set_is_one_document_per_row_cut_and_padded(tmp_path: Path) -> None:
    docs = [Document("a", "s", (5, 6, 7, 8, 9)), Document("b", "s", (3,)), Document("c", "s", (2, 4))]
    chosen = write_heldout_set(tmp_path / "h.npy", docs, seq_len=4, limit=5)
    assert [d.sample_id for d in chosen] == ["a", "c"]  # a one-token document has nothing to predict
    assert np.load(tmp_path / "h.npy").tolist() == [[5, 6, 7, 8], [2, 4, -1, -1]]
    with pytest.raises(ConfigError, match="no held-out document"):
        write_heldout_set(tmp_path / "none.npy", docs[1:2], seq_len=4, limit=5)
