from __future__ import annotations

import pytest

from boostqa.errors import BoostqaError
from boostqa_airflow.constants import DBT_POOL, LLM_POOLS, POOLS
from boostqa_dev.ops.pools import parse_slots, pool_document


def test_every_pool_is_in_the_document_and_overrides_resize_only_the_named_one() -> None:
    doc = pool_document(parse_slots([f"{LLM_POOLS['generator']}=64"]))
    assert set(doc) == set(POOLS)
    assert doc[LLM_POOLS["generator"]]["slots"] == 64
    assert doc[LLM_POOLS["refiner"]]["slots"] == POOLS[LLM_POOLS["refiner"]][0]
    assert doc[DBT_POOL] == {"slots": 1, "description": POOLS[DBT_POOL][1], "include_deferred": False}


@pytest.mark.parametrize("pairs, message", [
    (["boostqa_llm_generatr=8"], "unknown pool"),
    (["boostqa_llm_generator=0"], "at least 1 slot"),
    ([f"{DBT_POOL}=4"], "single writer"),
    (["boostqa_llm_generator"], "expected NAME=SLOTS"),
    (["boostqa_llm_generator=many"], "expected NAME=SLOTS"),
])
def test_bad_pool_sizes_are_refused_with_the_reason(pairs: list[str], message: str) -> None:
    with pytest.raises(BoostqaError, match=message):
        pool_document(parse_slots(pairs))
