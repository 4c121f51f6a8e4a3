"""The base of every stage's typed run config: defaults held once, templated strings coerced once, clear errors."""

from __future__ import annotations

import ast
import json
import types
from collections.abc import Mapping
from typing import Any, ClassVar, Self, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator
from pydantic.fields import FieldInfo

from boostqa.errors import ConfigError

# What Jinja renders for a missing value (`{{ params.limit }}` of a null param is the string "None").
NULL_STRINGS = frozenset({"", "None", "null"})


def _admits_none(annotation: Any) -> bool:
    return get_origin(annotation) in (Union, types.UnionType) and type(None) in get_args(annotation)


def _origins(annotation: Any) -> set[Any]:
    inner = [a for a in get_args(annotation) if a is not type(None)] if _admits_none(annotation) else [annotation]
    return {get_origin(a) or a for a in inner}


def _is_list(annotation: Any) -> bool:
    return bool(_origins(annotation) & {list, tuple})


def _is_container(annotation: Any) -> bool:
    return bool(_origins(annotation) & {list, tuple, dict})


def _literal(text: str) -> Any:
    """A rendered list or dict: JSON, or the Python repr Jinja gives a list param (``['a', 'b']``)."""
    try:
        return json.loads(text)
    except ValueError:
        return ast.literal_eval(text)


def field_of(model: type[BaseModel], name: str) -> Any:
    """A copy of another model's field (default, bounds, description), so a flat stage config repeats none of it."""
    return FieldInfo.merge_field_infos(model.model_fields[name])


class StageConfig(BaseModel):
    """One stage's run parameters; Airflow params are derived from its fields, operators validate into it.

    Values arrive as Airflow renders them: strings. Pydantic's lax mode turns ``"32"`` into 32 and ``"True"`` into
    True; what it cannot know is done here once: ``"None"`` or ``""`` is null for a field that admits null (the
    default otherwise), and a comma- or newline-separated string is a list for a list field.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    stage: ClassVar[str] = "stage"

    @model_validator(mode="before")
    @classmethod
    def _untemplate(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        values: dict[str, Any] = {}
        for name, value in data.items():
            field = cls.model_fields.get(name)
            if field is not None and isinstance(value, str):
                text = value.strip()
                if text in NULL_STRINGS and field.annotation is not str:
                    if not _admits_none(field.annotation):
                        continue  # the default
                    value = None
                elif _is_container(field.annotation) and text[:1] in ("[", "{"):
                    try:
                        value = _literal(text)
                    except (ValueError, SyntaxError):
                        pass  # left to the field's own validation, which names it
                elif _is_list(field.annotation):
                    value = [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]
            values[name] = value
        return values

    @classmethod
    def from_params(cls, values: Mapping[str, Any] | None = None) -> Self:
        """The config from (templated) params; :class:`ConfigError` names every bad field (a retry would not help)."""
        try:
            return cls.model_validate(dict(values or {}))
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(str(part) for part in error['loc']) or 'value'}: {error['msg']} "
                                 f"(got {error['input']!r})" for error in exc.errors())
            raise ConfigError(f"bad {cls.stage} parameters: {problems}") from exc
