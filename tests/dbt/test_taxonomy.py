"""dbt build of the taxonomy seeds and dim_disciplines on a temporary DuckDB (no S3 needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from boostqa.lake.store import LakeConfig
from boostqa.warehouse import dbt_env, query, run_dbt

pytestmark = pytest.mark.dbt


def test_taxonomy_builds_and_maps_every_benchmark_subject(tmp_path: Path) -> None:
    warehouse = tmp_path / "wh.duckdb"
    lake = LakeConfig(endpoint_url="http://127.0.0.1:9", access_key="k", secret_key="s", bucket="b")  # type: ignore[arg-type]
    # Builds the seeds, dim_disciplines and every test on them, including the singular subject-map tests.
    run_dbt(["build", "--select", "resource_type:seed", "dim_disciplines", "--indirect-selection", "cautious",
             "--target-path", str(tmp_path / "target")],
            dbt_env(lake, warehouse))
    disciplines = query(warehouse, "select * from marts.dim_disciplines")
    assert len(disciplines) >= 40
    assert {d["category_id"] for d in disciplines} == {"stem", "humanities", "social_science", "other",
                                                        "china_specific"}
    subjects = query(warehouse, "select benchmark, count(*) as n from taxonomy.taxonomy_subject_map group by 1")
    assert {r["benchmark"]: r["n"] for r in subjects} == {"mmlu": 57, "cmmlu": 67, "ceval": 52}
    maths = next(d for d in disciplines if d["discipline_id"] == "mathematics")
    assert maths["is_stem"] and "abstract_algebra" in maths["mmlu_subjects"]
    bands = query(warehouse, "select difficulty, grade_band from taxonomy.difficulty_bands order by 1")
    assert [b["grade_band"] for b in bands] == ["elementary", "middle_school", "high_school", "undergraduate",
                                                "graduate"]
