"""The one vocabulary: dbt's generated macro, the QC filters and the marts' YAML tests agree with boostqa.vocabulary."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from boostqa.qc.filters import FILTER_REASONS
from boostqa.qc.records import STEP_ORDER
from boostqa.vocabulary import VOCABULARIES, dbt_macro

DBT = Path(__file__).resolve().parents[2] / "dbt_project"


def test_the_generated_dbt_macro_matches_the_python_vocabulary() -> None:
    committed = (DBT / "macros" / "vocabulary.sql").read_text()
    assert committed == dbt_macro(), "dbt_project/macros/vocabulary.sql is stale: run `make vocabulary`"


def test_the_macro_lists_every_code_in_order() -> None:
    for name, codes in VOCABULARIES.items():
        assert f"'{name}': [{', '.join(repr(c) for c in codes)}]," in dbt_macro()
        assert codes and len(set(codes)) == len(codes), name


def test_qc_runs_its_filters_and_steps_in_vocabulary_order() -> None:
    assert FILTER_REASONS == VOCABULARIES["qc_filter_reason"]
    assert STEP_ORDER == VOCABULARIES["qc_step"]
    assert set(VOCABULARIES["qc_filter_reason"]) < set(VOCABULARIES["qc_reason"])


def _accepted_values(node: object) -> list[list[str]]:
    """Every accepted_values list in a parsed YAML tree."""
    if isinstance(node, list):
        return [values for child in node for values in _accepted_values(child)]
    if not isinstance(node, dict):
        return []
    found = []
    if "accepted_values" in node:
        spec = node["accepted_values"]
        found.append(list((spec.get("arguments") or spec)["values"]))
    return found + [values for child in node.values() for values in _accepted_values(child)]


def _accepted_values_lists() -> list[tuple[Path, list[str]]]:
    return [(path, values) for path in (DBT / "models").rglob("*.yml")
            for values in _accepted_values(yaml.safe_load(path.read_text()))]


def test_no_yaml_test_copies_a_vocabulary_by_hand() -> None:
    all_codes = {code for codes in VOCABULARIES.values() for code in codes}
    copies = [(path.name, values) for path, values in _accepted_values_lists() if all_codes & set(values)]
    assert not copies, f"use the in_vocabulary test instead of listing codes: {copies}"


PIVOT = re.compile(r"count\(\*\) filter \(where \w+ = '(\w+)'\)")
DBT_ONLY_CODES = {"kept"}  # qc_status and a job's outcome: statuses dbt derives, not codes Python writes


def _pivoted_codes() -> dict[str, list[str]]:
    return {path.name: PIVOT.findall(path.read_text()) for path in (DBT / "models").rglob("*.sql")}


def test_a_hand_named_pivot_counts_a_code_that_exists() -> None:
    all_codes = {code for codes in VOCABULARIES.values() for code in codes} | DBT_ONLY_CODES
    unknown = [(name, code) for name, codes in _pivoted_codes().items() for code in codes if code not in all_codes]
    assert not unknown, f"a mart counts a code no vocabulary has (renamed or removed?): {unknown}"


def test_no_mart_pivots_a_vocabulary_by_hand() -> None:
    """Columns named mechanically after their codes (``removed_<code>``) come from count_per_code, not by hand."""
    aliased = re.compile(r"count\(\*\) filter \(where \w+ = '(\w+)'\) as (\w+)")
    by_hand = []
    for path in (DBT / "models").rglob("*.sql"):
        mechanical = {code for code, alias in aliased.findall(path.read_text()) if alias.endswith(code)}
        by_hand += [(path.name, name) for name, codes in VOCABULARIES.items() if len(mechanical & set(codes)) > 1]
    assert not by_hand, f"pivot with count_per_code(...) instead: {by_hand}"


def test_a_contracted_mart_lists_every_pivot_column_of_its_vocabulary() -> None:
    """A mart with an enforced contract must name each ``<prefix><code>`` column count_per_code makes: adding a code
    then fails here, naming the YAML line to add, before dbt refuses the build."""
    pivot = re.compile(r"count_per_code\('\w+', '(\w+)', '(\w*)'\)")
    models = {model["name"]: model for path in (DBT / "models").rglob("*.yml")
              for model in (yaml.safe_load(path.read_text()) or {}).get("models", [])}
    checked = 0
    for path in (DBT / "models").rglob("*.sql"):
        model = models.get(path.stem, {})
        if not (model.get("config") or {}).get("contract", {}).get("enforced"):
            continue
        columns = {column["name"] for column in model.get("columns", [])}
        for name, prefix in pivot.findall(path.read_text()):
            missing = [prefix + code for code in VOCABULARIES[name] if prefix + code not in columns]
            assert not missing, f"{path.stem}: add {missing} with their data_type to its YAML"
            checked += 1
    assert checked >= 2  # fct_qc_funnel and fct_synthesis_funnel
