"""The price list is the dbt seed of the version dbt uses: costs, unknown models, defaults."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from boostqa.errors import ConfigError
from boostqa.llm.prices import Price, UnknownModelPrice, dbt_price_version, load_prices
from boostqa_dev.checkout import PROJECT_ROOT

DBT_PROJECT_YML = PROJECT_ROOT / "dbt_project" / "dbt_project.yml"


def test_the_version_is_the_dbt_var_and_costs_follow_the_seed() -> None:
    assert dbt_price_version() == yaml.safe_load(DBT_PROJECT_YML.read_text())["vars"]["llm_price_version"]
    prices = load_prices()
    assert prices.cost("deepseek-r1", 2_000_000, 1_000_000) == pytest.approx(2 * 0.55 + 2.19)
    assert prices.cost("smollm2-135m-instruct", 10**9, 10**9) == 0.0
    assert prices.max_cost(["deepseek-r1", "deepseek-v3"], 1e6, 1e6) == pytest.approx(0.55 + 2.19)


def test_an_unknown_model_is_an_error_unless_a_default_price_is_configured() -> None:
    with pytest.raises(UnknownModelPrice, match="no price in llm_prices version"):
        load_prices().cost("gpt-unknown", 1, 1)
    assert load_prices().cost_or_none("gpt-unknown", 1, 1) is None
    priced = load_prices(default=Price(1.0, 2.0))
    assert priced.cost("gpt-unknown", 1_000_000, 1_000_000) == pytest.approx(3.0)
    assert priced.cost("deepseek-v3", 1_000_000, 0) == pytest.approx(0.27)  # a row wins over the default


def test_a_missing_version_or_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no row of version"):
        load_prices("1999-01")
    with pytest.raises(ConfigError, match="missing"):
        load_prices("2026-11", path=tmp_path / "none.csv")


def test_settings_choose_the_version_and_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    from boostqa.llm.prices import prices_from_settings
    from boostqa.settings import get_settings

    monkeypatch.setenv("BOOSTQA_BUDGET__DEFAULT_USD_PER_MILLION_COMPLETION_TOKENS", "8")
    get_settings.cache_clear()
    try:
        prices = prices_from_settings()
    finally:
        get_settings.cache_clear()
    assert prices.version == dbt_price_version() and prices.cost("other", 0, 1_000_000) == pytest.approx(8.0)
