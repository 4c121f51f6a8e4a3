"""anneal_probe through ``airflow dags test`` on the embedded stack, at a tiny size: the probe pre-trains its own base
once, anneals the candidate (30 % the mixture's BoostQA items) and the control (reference mix alone) from it, evaluates
both on two benchmarks, and dbt attributes the deltas per benchmark and per bucket. A second probe on one slice reuses
the base. The mixture is written straight into the lake (tests/integration/study_mixture.py): no LLM server.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from boostqa.lake import layout
from boostqa.lake.store import ObjectStore
from boostqa.settings import BoostqaSettings
from boostqa.warehouse import query
from boostqa_dev.demo import run_dag
from boostqa_dev.stack.llm_server import model_dir
from boostqa_dev.stack.seaweedfs import lake_config
from tests.integration.study_mixture import write_study_mixture

pytestmark = pytest.mark.integration
DAY = date(2026, 12, 8)
MIXTURE = "anneal_fixture_v1"
PROBE = {"mixture_version": MIXTURE, "tokens": 2048, "seq_len": 32, "micro_batch_size": 4, "lr": 0.01,
         "base_size": "32x1", "base_tokens": 2048, "heldout_docs": 32, "heldout_fraction": 0.2,
         "eval_benchmarks": "arc_easy,mmlu", "eval_limit": 4, "eval_with_baseline": False}


def _probes(store: ObjectStore) -> list[str]:
    return sorted({k.split("run_id=")[1].split("/")[0] for k in store.list_keys(f"{layout.ANNEAL_ARMS}/")
                   if "_bootstrap" not in k})


@pytest.mark.timeout(1800)
def test_the_probe_attributes_benchmark_and_bucket_deltas_and_a_later_probe_reuses_its_base(
        stack: BoostqaSettings) -> None:
    store = ObjectStore(lake_config(stack))
    write_study_mixture(store, MIXTURE)
    conf = PROBE | {"tokenizer_dir": str(model_dir(stack))}
    run_dag(stack, "anneal_probe", DAY, conf=conf)
    (probe,) = _probes(store)

    arms = {r["arm"]: r for r in query(stack.warehouse_path, "select * from staging.stg_studies__anneal_arms "
                                       f"where probe_run_id = '{probe}'", lake_config(stack))}
    candidate, control = arms["candidate"], arms["control"]
    assert candidate["tokens"] == control["tokens"] == 2048 and candidate["steps"] == control["steps"] == 16
    assert candidate["candidate_tokens"] == round(0.3 * 2048) and control["candidate_tokens"] == 0
    assert candidate["base_model"] == control["base_model"] and candidate["base_model"].startswith("anneal_base.")
    assert candidate["heldout_boostqa_before"] == control["heldout_boostqa_before"]  # one base
    # the candidate annealed on BoostQA items: lower loss on the held-out ones than the control that saw none
    assert candidate["heldout_boostqa_after"] < control["heldout_boostqa_after"]

    rows = query(stack.warehouse_path, f"select * from marts.fct_anneal_attribution where probe_run_id = '{probe}'")
    benchmarks = {r["benchmark"]: r for r in rows if r["attribution_kind"] == "benchmark"}
    assert set(benchmarks) == {"arc_easy", "mmlu"} and all(r["measured"] == 4 for r in benchmarks.values())
    for row in benchmarks.values():
        assert row["delta"] == pytest.approx(row["candidate_value"] - row["control_value"], abs=1e-6)
    buckets = [r for r in rows if r["attribution_kind"] == "bucket"]
    (held,) = query(stack.warehouse_path, "select count(*) as n from staging.stg_studies__anneal_documents where "
                    f"probe_run_id = '{probe}' and arm = 'candidate' and use = 'heldout' and heldout_set = 'boostqa'",
                    lake_config(stack))
    assert buckets and sum(r["measured"] for r in buckets) == held["n"] > 20  # every held-out item, in its bucket
    (trained,) = query(stack.warehouse_path, "select count(*) as n from staging.stg_studies__anneal_documents where "
                       f"probe_run_id = '{probe}' and use = 'trained'", lake_config(stack))
    plan = json.loads((stack.training_dir / "studies" / probe / "plan.json").read_text())
    # the items the candidate's 614 tokens really hold: some of those the held-out split left to train on
    assert trained["n"] == plan["candidate_items"] and 0 < trained["n"] <= plan["candidate_pool"] == 120 - held["n"]
    # the items trained on in the buckets measured (a bucket without held-out items has nothing to attribute)
    assert 0 < sum(r["candidate_items"] for r in buckets) <= trained["n"]
    scored = query(stack.warehouse_path, "select distinct model_id from marts.fct_eval_scores where model_id like "
                   f"'{probe}.%' order by model_id")
    assert [r["model_id"] for r in scored] == [f"{probe}.candidate", f"{probe}.control"]
    report = store.get_bytes(f"reports/{probe}/index.html").decode()
    assert probe in report[report.index('<section id="anneal">'):]

    # a slice, later: the same base (no pre-training run), only that slice's items in the candidate
    run_dag(stack, "anneal_probe", DAY, conf=conf | {"slice_discipline": "elementary_mathematics"})
    later = next(p for p in _probes(store) if p != probe)
    plan = json.loads((stack.training_dir / "studies" / later / "plan.json").read_text())
    assert plan["bases"] == [] and plan["base_model"] == candidate["base_model"]
    trained = query(stack.warehouse_path, "select distinct discipline_id from staging.stg_studies__anneal_documents "
                    f"where probe_run_id = '{later}' and use = 'trained'", lake_config(stack))
    assert trained == [{"discipline_id": "elementary_mathematics"}]
    assert Path(stack.training_dir / "checkpoints" / f"{later}.candidate" / "hf").is_dir()
