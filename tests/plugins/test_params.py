"""DAG params derived from a stage config: types, defaults, bounds and descriptions, and the templates."""

from __future__ import annotations

from boostqa.annotate.config import AnnotateRunConfig
from boostqa.synthesize.config import SynthesisRunConfig
from boostqa_airflow.params import dag_params, templated


def test_params_carry_the_config_fields_types_defaults_and_bounds() -> None:
    params = dag_params(SynthesisRunConfig)
    assert set(params) == set(SynthesisRunConfig.model_fields)
    limit = params["limit"].schema
    assert (params["limit"].value, limit["type"], limit["minimum"]) == (None, ["null", "integer"], 1)
    assert (params["temperature"].value, params["temperature"].schema["maximum"]) == (0.8, 2)
    assert params["refine_policy"].schema["enum"] == ["keep_refined", "drop", "second_sample"]
    assert params["generator_max_tokens"].description.startswith("reply budget of a draft")


def test_a_prefix_names_the_params_and_their_templates_alike() -> None:
    params, templates = dag_params(AnnotateRunConfig, prefix="a_"), templated(AnnotateRunConfig, prefix="a_")
    assert set(params) == {"a_" + name for name in templates}
    assert templates["shard_size"] == "{{ params.a_shard_size }}"


def test_every_default_validates_against_its_own_param() -> None:
    for name, param in dag_params(SynthesisRunConfig).items():
        param.resolve(suppress_exception=False)  # raises when a default breaks the derived schema
        assert SynthesisRunConfig.from_params({name: str(param.value)}).model_dump()[name] == param.value
