"""Airflow pools as ``airflow pools import`` JSON: the embedded stack's sizes, with per-deployment overrides."""

from __future__ import annotations

from boostqa.errors import BoostqaError
from boostqa_airflow.constants import DBT_POOL, POOLS


def pool_document(slots: dict[str, int] | None = None) -> dict[str, dict[str, object]]:
    """Every pool the DAGs use, sized by ``slots`` where given (e.g. the generator pool at 64 on a GPU cluster).

    Raises:
        BoostqaError: an unknown pool, a size below 1, or a dbt pool above 1 (DuckDB has one writer).
    """
    overrides = slots or {}
    unknown = set(overrides) - set(POOLS)
    if unknown:
        raise BoostqaError(f"unknown pool(s) {sorted(unknown)}; the DAGs use {sorted(POOLS)}")
    for name, size in overrides.items():
        if size < 1:
            raise BoostqaError(f"pool {name} needs at least 1 slot, got {size}")
    if overrides.get(DBT_POOL, 1) != 1:
        raise BoostqaError(f"{DBT_POOL} must keep 1 slot: the DuckDB warehouse allows a single writer")
    return {name: {"slots": overrides.get(name, default), "description": desc, "include_deferred": False}
            for name, (default, desc) in POOLS.items()}


def parse_slots(pairs: list[str]) -> dict[str, int]:
    """``["boostqa_llm_generator=64"]`` -> ``{"boostqa_llm_generator": 64}``.

    Raises:
        BoostqaError: a pair that is not NAME=INTEGER.
    """
    out: dict[str, int] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not value.strip().isdigit():
            raise BoostqaError(f"bad pool size {pair!r}: expected NAME=SLOTS, e.g. boostqa_llm_generator=64")
        out[name.strip()] = int(value)
    return out
