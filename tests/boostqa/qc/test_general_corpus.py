"""The general corpus through the same QC: document filters, decontamination, dedup against itself and BoostQA items."""

from __future__ import annotations

import pyarrow as pa

from boostqa.benchmarks.loader import load_items
from boostqa.lake import layout
from boostqa.lake.commits import commit_shard
from boostqa.lake.parquet import parquet_bytes
from boostqa.lake.tables import GENERAL_SCHEMA, QA_SCHEMA
from boostqa.qc.run import run_qc
from tests.boostqa.qc.planted import planted_items
from tests.conftest import MemoryStore, lake_rows

_TEXT = ("The river delta formed over thousands of years as sediment carried from the mountains settled where the "
         "water slowed near the coast, building wide plains of fertile soil that farmers later drained for fields")


def _doc(doc_id: str, text: str, language: str = "en") -> dict[str, object]:
    return {"doc_id": f"web:{doc_id}", "source": "web", "text": text, "language": language, "topic": None,
            "license": "cc-by", "chars": len(text)}


def test_documents_are_filtered_decontaminated_and_deduplicated_against_items_and_each_other(
        memory_store: MemoryStore) -> None:
    benchmarks = load_items(splits="all")
    item = next(p.row for p in planted_items(benchmarks) if p.row["item_id"] == "la-trip-000")
    memory_store.put_bytes(layout.qa_prefix("synthesize_a") + layout.part_name(0), parquet_bytes(pa.Table.from_pylist(
        [{n: item.get(n) for n in QA_SCHEMA.names} | {"run_id": "synthesize_a"}], schema=QA_SCHEMA)))
    commit_shard(memory_store, layout.qa_prefix("synthesize_a"), 0)
    assert run_qc(memory_store, "synthesize_a", benchmark_items=benchmarks).kept == 1

    words = _TEXT.split(" ")
    near = " ".join([*words[:-1], "crops"])
    bench = next(b for b in benchmarks if b.language == "en" and len(b.question.split()) > 20)
    docs = [_doc("original", _TEXT), _doc("z-near-copy", near), _doc("item-copy", str(item["question"]).upper()),
            _doc("leak", f"Practice sheet. {bench.question} Answers at the back."),
            _doc("looping", " ".join(["buy cheap shoes now"] * 20)),
            _doc("other", "Volcanic islands rise where magma escapes through the crust, and their black sand beaches "
                          "erode quickly under the constant pounding of the ocean waves during winter storms")]
    memory_store.put_bytes(layout.general_corpus_part("web"), parquet_bytes(pa.Table.from_pylist(docs,
                                                                                                  schema=GENERAL_SCHEMA)))
    result = run_qc(memory_store, layout.GENERAL_QC_RUN, benchmark_items=benchmarks, force=True)

    run = f"run_id={layout.GENERAL_QC_RUN}/"
    kept = {r["item_id"] for r in lake_rows(memory_store, layout.qc_table_prefix("kept") + run)}
    first = {r["item_id"]: r for r in lake_rows(memory_store, layout.qc_table_prefix("removals") + run)
             if r["rank"] == 1}
    assert kept == {"web:original", "web:other"}
    assert {k: (v["reason"], v["duplicate_of"]) for k, v in first.items()} == {
        "web:z-near-copy": ("near_duplicate", "web:original"),
        "web:leak": ("benchmark_contaminated", None),
        "web:item-copy": ("exact_duplicate", "la-trip-000"),  # a BoostQA item already indexed wins
        "web:looping": ("repeated_ngrams", None),
    }
    assert result.items == len(docs) and result.kept == 2
    # The documents join the index: a later synthesis run's copy of a document is a duplicate of it.
    copy = item | {"item_id": "b-doc", "run_id": "synthesize_b", "question": _TEXT}
    memory_store.put_bytes(layout.qa_prefix("synthesize_b") + layout.part_name(0), parquet_bytes(pa.Table.from_pylist(
        [{n: copy.get(n) for n in QA_SCHEMA.names}], schema=QA_SCHEMA)))
    commit_shard(memory_store, layout.qa_prefix("synthesize_b"), 0)
    assert run_qc(memory_store, "synthesize_b", benchmark_items=benchmarks).reasons == {"exact_duplicate": 1}


def test_dbt_reads_the_general_corpus_decisions_of_the_run_qc_writes() -> None:
    from pathlib import Path

    import yaml

    dbt_project = Path(__file__).resolve().parents[3] / "dbt_project" / "dbt_project.yml"
    dbt_vars = yaml.safe_load(dbt_project.read_text())["vars"]
    assert dbt_vars["general_qc_run"] == layout.GENERAL_QC_RUN
