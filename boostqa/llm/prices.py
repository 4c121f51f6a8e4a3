"""The versioned LLM price list (the dbt seed ``llm_prices``): USD of a model's prompt and completion tokens."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from boostqa.errors import ConfigError
from boostqa.warehouse import dbt_project_dir

PRICES_SEED = Path("seeds") / "planning" / "llm_prices.csv"  # in the dbt project
CURRENCY = "USD"


class UnknownModelPrice(ConfigError):
    """A model has no row in the selected price list and no default price is configured."""


@dataclass(frozen=True)
class Price:
    """USD per million prompt and completion tokens."""

    prompt: float
    completion: float

    def cost(self, prompt_tokens: float, completion_tokens: float) -> float:
        """USD of the given tokens."""
        return (prompt_tokens * self.prompt + completion_tokens * self.completion) / 1e6


@dataclass(frozen=True)
class PriceList:
    """One version of the price list; ``default`` prices a model without a row (None: such a model is an error)."""

    version: str
    prices: dict[str, Price] = field(default_factory=dict)
    default: Price | None = None

    def price(self, model: str) -> Price:
        """The model's price.

        Raises:
            UnknownModelPrice: no row for the model in this version and no default price.
        """
        if model in self.prices:
            return self.prices[model]
        if self.default is not None:
            return self.default
        raise UnknownModelPrice(
            f"model {model!r} has no price in llm_prices version {self.version!r} (dbt_project/{PRICES_SEED}): add a "
            "row (then run warehouse_build so dbt costs it too), or set BOOSTQA_BUDGET__DEFAULT_USD_PER_MILLION_"
            "PROMPT_TOKENS and ..._COMPLETION_TOKENS, or drop the USD caps and budget in tokens"
        )

    def is_priced(self, model: str) -> bool:
        """True when the model has a row or a default price applies."""
        return model in self.prices or self.default is not None

    def cost(self, model: str, prompt_tokens: float, completion_tokens: float) -> float:
        """USD of a model's tokens (raises ``UnknownModelPrice`` like ``price``)."""
        return self.price(model).cost(prompt_tokens, completion_tokens)

    def cost_or_none(self, model: str, prompt_tokens: float, completion_tokens: float) -> float | None:
        """USD of a model's tokens, or None where the model is not priced."""
        return self.cost(model, prompt_tokens, completion_tokens) if self.is_priced(model) else None

    def max_cost(self, models: Iterable[str], prompt_tokens: float, completion_tokens: float) -> float:
        """The highest cost of these tokens among ``models`` (a conservative price for tokens of unknown role)."""
        costs = [self.cost(m, prompt_tokens, completion_tokens) for m in models]
        if not costs:
            raise ConfigError("no model given to price tokens with")
        return max(costs)


def dbt_price_version(project_yml: Path | None = None) -> str:
    """The dbt var ``llm_price_version`` (what ``fct_llm_usage`` costs the ledger with) of ``project_yml``.

    ``project_yml`` defaults to the configured project's dbt_project.yml.

    Raises:
        ConfigError: dbt_project.yml has no such var, or no project is configured.
    """
    import yaml

    project_yml = project_yml or dbt_project_dir() / "dbt_project.yml"
    variables = (yaml.safe_load(project_yml.read_text()) or {}).get("vars") or {}
    if "llm_price_version" not in variables:
        raise ConfigError(f"{project_yml} has no var llm_price_version: set BOOSTQA_BUDGET__PRICE_VERSION")
    return str(variables["llm_price_version"])


def load_prices(version: str | None = None, default: Price | None = None, path: Path | None = None) -> PriceList:
    """The rows of one price version of the price seed at ``path``.

    The version defaults to the dbt var ``llm_price_version``, the path to the configured dbt project's seed.

    Raises:
        ConfigError: the file is missing or has no row of that version.
    """
    version = version or dbt_price_version()
    path = path or dbt_project_dir() / PRICES_SEED
    if not path.exists():
        raise ConfigError(f"price list {path} is missing")
    with path.open(newline="", encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if r["price_version"] == version]
    if not rows:
        raise ConfigError(f"price list {path} has no row of version {version!r}")
    prices = {r["model"]: Price(float(r["usd_per_million_prompt_tokens"]),
                                float(r["usd_per_million_completion_tokens"])) for r in rows}
    return PriceList(version=version, prices=prices, default=default)


def prices_from_settings() -> PriceList:
    """The price list chosen by ``BOOSTQA_BUDGET__PRICE_VERSION`` (else the dbt var) with the configured default."""
    from boostqa.settings import get_settings

    budget = get_settings().budget
    prompt, completion = budget.default_usd_per_million_prompt_tokens, budget.default_usd_per_million_completion_tokens
    default = None
    if prompt is not None or completion is not None:
        default = Price(prompt or 0.0, completion or 0.0)
    return load_prices(budget.price_version, default)
