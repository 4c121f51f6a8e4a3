"""The dev stack points the library's path settings at the checkout, never over an explicit environment."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from boostqa.settings import BoostqaSettings, get_settings
from boostqa_dev.checkout import PROJECT_ROOT, checkout_env, is_checkout, use_checkout_defaults


def test_the_checkout_paths_exist_where_the_repository_keeps_them() -> None:
    env = checkout_env()
    assert is_checkout()
    for name in ("BOOSTQA_DBT_PROJECT_DIR", "BOOSTQA_TRAINER__CODE_DIR"):
        assert Path(env[name]).is_dir(), name
    for name in ("BOOSTQA_TRAINER__KUBERNETES_TEMPLATE", "BOOSTQA_TRAINER__SLURM_TEMPLATE"):
        assert Path(env[name]).is_file(), name
    assert (Path(env["BOOSTQA_TRAINER__CODE_DIR"]) / "training").is_dir()
    assert Path(env["BOOSTQA_STATE_DIR"]) == PROJECT_ROOT / ".state"


def test_defaults_fill_only_what_the_environment_leaves_unset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOOSTQA_STATE_DIR", str(tmp_path))
    monkeypatch.delenv("BOOSTQA_TRAINER__SLURM_TEMPLATE", raising=False)
    use_checkout_defaults()
    assert os.environ["BOOSTQA_STATE_DIR"] == str(tmp_path)
    assert os.environ["BOOSTQA_TRAINER__SLURM_TEMPLATE"] == checkout_env()["BOOSTQA_TRAINER__SLURM_TEMPLATE"]
    assert get_settings().state_dir == tmp_path  # the cached settings were dropped
    get_settings.cache_clear()


def test_outside_a_checkout_the_library_has_no_state_folder_of_its_own(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import ValidationError

    assert not is_checkout(tmp_path)
    monkeypatch.delenv("BOOSTQA_STATE_DIR")
    with pytest.raises(ValidationError, match="state_dir"):
        BoostqaSettings()
