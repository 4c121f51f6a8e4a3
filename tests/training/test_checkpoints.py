"""Checkpoint seals: a resume takes the newest tag whose files match their sha256, and keeps the damaged one aside."""

from __future__ import annotations

from pathlib import Path

import pytest

from training import checkpoints


def _save(output: Path, step: int, seal: bool = True) -> Path:
    folder = output / f"step_{step}"
    (folder / "zero").mkdir(parents=True)
    (folder / "mp_rank_00_model_states.pt").write_bytes(b"model" * 100 + bytes([step]))
    (folder / "zero" / "optim_states.pt").write_bytes(b"optim" * 50 + bytes([step]))
    if seal:
        checkpoints.seal(output, folder.name)
    (output / "latest").write_text(folder.name)
    return folder


def test_the_newest_sealed_checkpoint_is_resumed(tmp_path: Path) -> None:
    assert checkpoints.resumable_tag(tmp_path) is None  # a new run
    _save(tmp_path, 4), _save(tmp_path, 8)
    assert checkpoints.resumable_tag(tmp_path) == "step_8" and checkpoints.problem(tmp_path / "step_8") is None


@pytest.mark.parametrize("damage", ["truncate", "delete", "unsealed"])
def test_a_damaged_newest_checkpoint_falls_back_to_the_one_before(tmp_path: Path, damage: str,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    _save(tmp_path, 4)
    newest = _save(tmp_path, 8, seal=damage != "unsealed")
    model = newest / "mp_rank_00_model_states.pt"
    if damage == "truncate":
        model.write_bytes(model.read_bytes()[:10])
    elif damage == "delete":
        model.unlink()
    else:  # saved, never sealed, and DeepSpeed never moved ``latest`` to it
        (tmp_path / "latest").write_text("step_4")
    assert checkpoints.resumable_tag(tmp_path) == "step_4"
    assert (tmp_path / "latest").read_text() == "step_4" and (tmp_path / "corrupt-step_8").is_dir()
    assert checkpoints.tags(tmp_path) == ["step_4"]
    assert "checkpoint step_8 cannot be used" in capsys.readouterr().out


def test_an_unsealed_tag_deepspeed_completed_is_trusted_and_none_verifying_is_an_error(tmp_path: Path) -> None:
    _save(tmp_path, 4, seal=False)  # written before seals existed: latest names it, so DeepSpeed finished it
    assert checkpoints.resumable_tag(tmp_path) == "step_4"
    (tmp_path / "latest").write_text("step_9")
    with pytest.raises(RuntimeError, match="no checkpoint .* verifies"):
        checkpoints.resumable_tag(tmp_path)


def test_pruning_keeps_the_newest_tags(tmp_path: Path) -> None:
    for step in (4, 8, 12, 16):
        _save(tmp_path, step)
    checkpoints.prune(tmp_path, keep=2)
    assert checkpoints.tags(tmp_path) == ["step_12", "step_16"]
