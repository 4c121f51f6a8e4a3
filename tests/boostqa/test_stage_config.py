"""StageConfig: templated strings become typed values once, and a bad value names its field."""

from __future__ import annotations

import pytest
from pydantic import Field

from boostqa.errors import ConfigError
from boostqa.qc.config import QcRunConfig
from boostqa.qc.minhash import MinHashConfig
from boostqa.stage_config import StageConfig


class Example(StageConfig):
    """A config with one field of each shape Airflow hands over as a string."""

    limit: int | None = Field(None, ge=1)
    shard_size: int = 32
    flag: bool = False
    names: list[str] = Field(default_factory=list)
    shots: dict[str, int] = Field(default_factory=dict)
    label: str = ""


def test_rendered_strings_become_typed_values() -> None:
    config = Example.from_params({"limit": "None", "shard_size": "5", "flag": "True", "names": "a, b\nc",
                                  "shots": '{"mmlu": 0}', "label": ""})
    assert config == Example(limit=None, shard_size=5, flag=True, names=["a", "b", "c"], shots={"mmlu": 0})
    assert Example.from_params({"names": "['x', 'y']", "shard_size": "None"}).names == ["x", "y"]
    assert Example.from_params({"shard_size": "None"}).shard_size == 32  # a null for a non-null field: the default


def test_a_bad_value_names_its_field_and_what_came() -> None:
    with pytest.raises(ConfigError, match=r"bad stage parameters: limit: .*integer.* \(got 'many'\)"):
        Example.from_params({"limit": "many"})
    with pytest.raises(ConfigError, match="limti: Extra inputs are not permitted"):
        Example.from_params({"limti": "3"})


def test_a_flat_config_reuses_the_library_defaults_and_checks_them_together() -> None:
    assert QcRunConfig().threshold == MinHashConfig().threshold
    assert QcRunConfig.model_fields["num_perm"].description == MinHashConfig.model_fields["num_perm"].description
    with pytest.raises(ConfigError, match="multiple of bands"):
        QcRunConfig.from_params({"bands": "30"})
