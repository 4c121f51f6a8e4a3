"""The export config's mixing defaults are the dbt vars a hand-run `dbt build` uses, and dbt reads the env first."""

from __future__ import annotations

from pathlib import Path

import yaml

from boostqa.export.config import ExportRunConfig

DBT = Path(__file__).resolve().parents[3] / "dbt_project"


def test_dbt_project_vars_equal_the_config_defaults() -> None:
    dbt_vars = yaml.safe_load((DBT / "dbt_project.yml").read_text())["vars"]
    for field, var in ExportRunConfig.DBT_VARS.items():
        assert dbt_vars[var] == ExportRunConfig.model_fields[field].default, var


def test_the_mixture_model_reads_each_value_from_its_env_var_first() -> None:
    sql = (DBT / "models" / "marts" / "mixture" / "fct_training_mixture.sql").read_text()
    for var in ExportRunConfig.DBT_VARS.values():
        assert f"env_var('BOOSTQA_{var.upper()}', var('{var}'))" in sql
        assert f"{{{{ var('{var}') }}}}" not in sql
