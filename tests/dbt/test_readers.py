"""dbt as its readers see it: every mart that Python reads has an enforced contract and sits in an exposure whose
readers read it.

Python reads dbt's output two ways (docs/architecture.md): SQL on a marts table (``from marts.<model>``) and the
parquet an ``export_*`` model writes to the lake (found by its object name, e.g. ``selection.parquet``). Both are
found by scanning the code, so a new read fails here until its mart is contracted and exposed.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import yaml

from boostqa_dev.checkout import PROJECT_ROOT

MODELS = PROJECT_ROOT / "dbt_project" / "models"
CODE = ("boostqa", "plugins", "training", "dags", "infra/boostqa_dev")
_SQL_READ = re.compile(r"\b(?:from|join)\s+marts\.(\w+)", re.IGNORECASE)
_EXPORT_OBJECT = re.compile(r'"/(\w+\.parquet)"')  # the last part of an export model's location


@cache
def _property_files() -> tuple[dict[str, Any], ...]:
    return tuple(yaml.safe_load(path.read_text()) or {} for path in sorted(MODELS.rglob("*.yml")))


def model_properties() -> dict[str, dict[str, Any]]:
    """Every model's YAML properties, by name."""
    return {model["name"]: model for doc in _property_files() for model in doc.get("models", [])}


def exposures() -> list[dict[str, Any]]:
    return [exposure for doc in _property_files() for exposure in doc.get("exposures", [])]


def export_objects() -> dict[str, str]:
    """Object name in the lake (``synthesis_jobs.parquet``) -> the external model that writes it."""
    objects = {}
    for sql in (MODELS / "marts").rglob("*.sql"):
        text = sql.read_text()
        if "materialized='external'" in text:
            (name,) = _EXPORT_OBJECT.findall(text)
            objects[name] = sql.stem
    return objects


def marts_read(text: str, objects: dict[str, str]) -> set[str]:
    """The marts a source file reads: tables in SQL, exports by their object name."""
    return set(_SQL_READ.findall(text)) | {model for name, model in objects.items() if name in text}


def python_reads() -> dict[str, set[str]]:
    """Source file (relative to the repo) -> the marts it reads, for every file that reads one."""
    objects = export_objects()
    reads = {}
    for folder in CODE:
        for path in (PROJECT_ROOT / folder).rglob("*.py"):
            found = marts_read(path.read_text(), objects)
            if found:
                reads[str(path.relative_to(PROJECT_ROOT))] = found
    return reads


def depends_on(exposure: dict[str, Any]) -> set[str]:
    refs = [re.fullmatch(r"ref\('(\w+)'\)", d) for d in exposure["depends_on"]]
    assert all(refs), f"{exposure['name']}: depends_on names only ref('<model>'): {exposure['depends_on']}"
    return {r.group(1) for r in refs if r}


def contract_gaps(marts: set[str], models: dict[str, dict[str, Any]]) -> list[str]:
    """Why each of ``marts`` lacks a full enforced contract (empty: none does)."""
    gaps = []
    for name in sorted(marts):
        model = models.get(name)
        if model is None:
            gaps.append(f"{name}: no YAML properties")
            continue
        if not (model.get("config") or {}).get("contract", {}).get("enforced"):
            gaps.append(f"{name}: contract not enforced")
        untyped = [c["name"] for c in model.get("columns", []) if not c.get("data_type")]
        if untyped or not model.get("columns"):
            gaps.append(f"{name}: columns without data_type {untyped}")
    return gaps


def exposure_gaps(marts: set[str], declared: list[dict[str, Any]]) -> set[str]:
    """The marts of ``marts`` no exposure depends on."""
    return marts - set().union(*(depends_on(e) for e in declared))


def test_python_reads_the_marts_we_know() -> None:
    """The scan finds the readers (a scan that found nothing would pass every check below)."""
    reads = python_reads()
    assert {"fct_llm_usage"} <= reads["boostqa/llm/history.py"]
    assert {"fct_eval_headline", "fct_training_steps"} <= reads["boostqa/report/html.py"]
    assert "export_synthesis_jobs" in reads["boostqa/synthesize/stage.py"]
    assert "export_training_mixture" in reads["boostqa/export/mixture.py"]
    assert "export_deficiency_probe" in reads["boostqa/synthesize/replan.py"]
    assert set(export_objects().values()) == {"export_generation_plan", "export_synthesis_jobs",
                                              "export_training_mixture", "export_deficiency_probe"}


def test_every_mart_python_reads_has_an_enforced_contract_with_every_column_typed() -> None:
    read = set().union(*python_reads().values())
    assert contract_gaps(read, model_properties()) == []


def test_every_export_to_the_lake_has_an_enforced_contract() -> None:
    assert contract_gaps(set(export_objects().values()), model_properties()) == []


def test_every_mart_python_reads_is_in_an_exposure() -> None:
    read = set().union(*python_reads().values())
    assert exposure_gaps(read, exposures()) == set()


def test_each_exposure_depends_on_what_its_readers_read_and_only_on_contracted_marts() -> None:
    objects, models = export_objects(), model_properties()
    declared = exposures()
    assert {e["name"] for e in declared} >= {"seed_annotate", "warehouse_build", "qa_synthesis", "training_mixture",
                                             "html_report", "warehouse_summary"}
    for exposure in declared:
        readers = exposure["config"]["meta"]["readers"]
        read = set().union(*(marts_read((PROJECT_ROOT / r).read_text(), objects) for r in readers))
        assert read, f"{exposure['name']}: its readers {readers} read no mart"
        assert read <= depends_on(exposure), f"{exposure['name']} misses {read - depends_on(exposure)}"
        assert contract_gaps(depends_on(exposure), models) == [], exposure["name"]


def test_the_checks_fail_when_a_contract_or_an_exposure_is_missing() -> None:
    models = model_properties()
    uncontracted = {**models, "fct_llm_usage": {**models["fct_llm_usage"], "config": {}}}
    assert contract_gaps({"fct_llm_usage"}, uncontracted) == ["fct_llm_usage: contract not enforced"]
    untyped = {**models, "fct_llm_usage": {**models["fct_llm_usage"],
                                           "columns": [{"name": "stage"}, *models["fct_llm_usage"]["columns"][1:]]}}
    assert contract_gaps({"fct_llm_usage"}, untyped) == ["fct_llm_usage: columns without data_type ['stage']"]
    assert contract_gaps({"fct_no_such_mart"}, models) == ["fct_no_such_mart: no YAML properties"]
    without_report = [e for e in exposures() if e["name"] not in ("html_report", "warehouse_summary")]
    assert "fct_training_steps" in exposure_gaps({"fct_training_steps", "fct_llm_usage"}, without_report)
    assert marts_read("rows = query(w, 'SELECT * FROM marts.fct_new join marts.dim_x using (k)')", {}) == {
        "fct_new", "dim_x"}
