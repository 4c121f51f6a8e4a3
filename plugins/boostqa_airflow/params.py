"""DAG ``Param``s derived from a stage's typed config, and the templates that hand them to its operator."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from airflow.sdk import Param
from airflow.sdk.exceptions import AirflowFailException

from boostqa.errors import ConfigError
from boostqa.stage_config import StageConfig

C = TypeVar("C", bound=StageConfig)

# JSON-schema keywords of a field that Airflow's Param validates and its trigger form shows
_KEYWORDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "enum", "minLength")


def _param(prop: dict[str, Any], default: Any) -> Param:
    """One Param from a pydantic JSON-schema property; ``X | None`` becomes ``type: [null, X]``."""
    branches = prop.get("anyOf", [prop])
    typed = [b for b in branches if b.get("type") != "null"]
    spec: dict[str, Any] = {key: value for b in typed for key, value in b.items() if key in _KEYWORDS}
    types = [b["type"] for b in typed if "type" in b]
    if {"array", "object"} & set(types):
        types.append("string")  # a list also comes as "a,b" (and a dict as JSON) from the CLI or a trigger's conf
    if types:
        spec["type"] = ["null", *types] if len(typed) < len(branches) else (types[0] if len(types) == 1 else types)
    if "description" in prop:
        spec["description"] = prop["description"]
    return Param(default, **spec)


def dag_params(config: type[StageConfig], prefix: str = "", only: tuple[str, ...] = ()) -> dict[str, Param]:
    """The DAG's params for a stage config's fields (types, defaults, bounds, descriptions), named ``prefix+field``."""
    properties = config.model_json_schema()["properties"]
    return {prefix + name: _param(prop, config.model_fields[name].get_default(call_default_factory=True))
            for name, prop in properties.items() if not only or name in only}


def templated(config: type[StageConfig], prefix: str = "", only: tuple[str, ...] = ()) -> dict[str, str]:
    """``{field: "{{ params.<prefix><field> }}"}``: what an operator's ``stage_params`` receives, rendered per run."""
    return {name: "{{ params." + prefix + name + " }}" for name in config.model_fields if not only or name in only}


def dbt_values(config: type[StageConfig], names: dict[str, str], prefix: str = "") -> dict[str, str]:
    """``{dbt var: "{{ params.<prefix><field> }}"}`` for the fields dbt reads (``names``: field -> dbt var).

    For :func:`boostqa_airflow.dbt.warehouse_task_group`'s ``run_ids`` (env vars ``BOOSTQA_<VAR>``).
    """
    return {var: "{{ params." + prefix + field + " }}" for field, var in names.items() if field in config.model_fields}


def validated(config: type[C], stage_params: Mapping[str, Any] | None) -> C:
    """An operator's rendered ``stage_params`` as its typed config; a bad value fails the task without retries."""
    try:
        return config.from_params(stage_params)
    except ConfigError as exc:
        raise AirflowFailException(str(exc)) from exc
