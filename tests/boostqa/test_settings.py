"""Path settings have no checkout default: unset, the use that needs one names the variable to set."""

from __future__ import annotations

from pathlib import Path

import pytest

from boostqa.errors import ConfigError
from boostqa.settings import BoostqaSettings, LlmServerSettings, get_settings


@pytest.mark.parametrize(("variable", "use"), [
    ("BOOSTQA_DBT_PROJECT_DIR", "boostqa.warehouse:dbt_project_dir"),
    ("BOOSTQA_TRAINER__KUBERNETES_TEMPLATE", "boostqa.launch.cluster:kubernetes_template"),
    ("BOOSTQA_TRAINER__SLURM_TEMPLATE", "boostqa.launch.cluster:slurm_template"),
])
def test_an_unset_path_setting_fails_its_use_with_the_variable_to_set(
        variable: str, use: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    module, function = use.split(":")
    monkeypatch.delenv(variable, raising=False)
    get_settings.cache_clear()
    try:
        with pytest.raises(ConfigError, match=variable):
            getattr(importlib.import_module(module), function)()
    finally:
        get_settings.cache_clear()


def test_the_local_launcher_needs_the_training_venv_only_to_submit(monkeypatch: pytest.MonkeyPatch) -> None:
    from boostqa.launch.local import LocalLauncher

    monkeypatch.delenv("BOOSTQA_TRAINER__VENV", raising=False)
    get_settings.cache_clear()
    try:
        launcher = LocalLauncher()  # the trigger builds one to poll and cancel runs
        with pytest.raises(ConfigError, match="BOOSTQA_TRAINER__VENV"):
            _ = launcher.venv
    finally:
        get_settings.cache_clear()


def test_the_served_model_is_cached_under_the_state_folder_unless_a_models_dir_is_set(tmp_path: Path) -> None:
    assert BoostqaSettings(state_dir=tmp_path).served_model_dir == tmp_path / "models" / "smollm2-135m-instruct"
    shared = BoostqaSettings(state_dir=tmp_path, llm_server=LlmServerSettings(models_dir=tmp_path / "m"))
    assert shared.served_model_dir == tmp_path / "m" / "smollm2-135m-instruct"
