"""Sample keys each S3 role's code writes, reads, lists and deletes, built by the code that builds them."""

from __future__ import annotations

from datetime import date

from boostqa.annotate.task import STAGE as ANNOTATE
from boostqa.export.mixture import SELECTION_NAME
from boostqa.ingest.validate import INGEST_STAGE
from boostqa.lake import layout
from boostqa.lake.bootstrap import ensure_schema_parts
from boostqa.launch.cluster import ClusterResources
from boostqa.synthesize.stage import STAGE as SYNTHESIZE
from boostqa_dev.checkout import PROJECT_ROOT
from tests.conftest import MemoryStore

DAY, RUN, SOURCE, PART = date(2026, 1, 2), "r1", "mmlu", layout.part_name(0)
VERSION = "v1"
TOKENIZER = "0" * 64  # a tokenizer's sha256


def bootstrap_keys() -> list[str]:
    """The empty typed parts the warehouse's prepare_lake task writes (really written, into a memory store)."""
    return sorted(ensure_schema_parts(MemoryStore()))


def trainer_prefix() -> str:
    """The prefix the training Job's `aws s3 sync` lists and reads (ClusterResources.mixture_uri)."""
    uri = ClusterResources().mixture_uri
    return uri.removeprefix("s3://").split("/", 1)[1]


# Keys written outside boostqa/lake/layout.py: (file, the literal that builds the key there). test_s3_policies fails
# when a literal disappears, so a moved prefix cannot leave these samples (and the policies) behind.
LITERAL_PRODUCERS = {
    "boostqa/report/html.py": ['key = f"reports/{report_id}/index.html"'],
    "dbt_project/models/marts/mixture/export_training_mixture.sql": [
        '"/mixtures/" ~ env_var(\'BOOSTQA_MIXTURE_VERSION\', var(\'mixture_version\')) ~ "/selection.parquet"'],
    "dbt_project/models/marts/planning/export_generation_plan.sql": [
        '"/plans/plan_id=" ~ env_var(\'BOOSTQA_PLAN_ID\', var(\'plan_id\'))'],
}


def literal_sources() -> dict[str, str]:
    """The text of each file that builds keys by literal."""
    return {path: (PROJECT_ROOT / path).read_text() for path in LITERAL_PRODUCERS}


def _quarantine(stage: str) -> str:
    return f"{layout.QUARANTINE}/{stage}/run_id={RUN}/{PART}"


WRITES: dict[str, list[str]] = {
    "ingest": [layout.raw_seed_prefix(SOURCE, DAY) + PART, layout.seeds_manifest_key(SOURCE, DAY),
               layout.quarantine_prefix(INGEST_STAGE, layout.ingest_run_id(DAY), SOURCE) + PART],
    "annotate": [layout.annotations_prefix(RUN) + PART, layout.shard_marker(layout.annotations_prefix(RUN), 0),
                 _quarantine(ANNOTATE), layout.ledger_prefix(ANNOTATE, RUN) + PART, layout.annotation_worklist(RUN),
                 layout.annotation_shards(RUN), layout.annotation_run_marker(RUN),
                 layout.budget_record_key(ANNOTATE, RUN)],
    "synthesis": [layout.synthesis_jobs_snapshot(RUN), layout.qa_prefix(RUN) + PART,
                  layout.shard_marker(layout.qa_prefix(RUN), 0), _quarantine(SYNTHESIZE),
                  layout.ledger_prefix(SYNTHESIZE, RUN) + PART, layout.budget_record_key(SYNTHESIZE, RUN),
                  layout.solves_prefix(RUN) + PART],
    "qc": [*(layout.qc_bucket_part(table, RUN, 0) for table in layout.QC_TABLES), layout.qc_marker(RUN)],
    "warehouse": [layout.plan_object("p1", "generation_plan.parquet"),
                  layout.plan_object("p1", "synthesis_jobs.parquet"), f"mixtures/{VERSION}/{SELECTION_NAME}",
                  layout.plan_object("p1", "deficiency_probe.parquet"), layout.latest_pointer("plans"),
                  *bootstrap_keys()],
    "export": [f"mixtures/{VERSION}/manifest.json", f"mixtures/{VERSION}/README.md", layout.latest_pointer("mixtures"),
               f"mixtures/{VERSION}/packed/shard-00000.bin", f"mixtures/{VERSION}/parquet/{PART}",
               layout.mixture_lineage_part(VERSION), layout.general_corpus_part("fineweb"),
               layout.token_counts_part(TOKENIZER, VERSION)],
    "trainer": [],
    "midtrain": [layout.training_metrics_part("midtrain_20260101"), layout.training_samples_part("midtrain_20260101"),
                 layout.latest_pointer("training"), layout.study_data_prefix(RUN) + "plan.json",
                 layout.study_data_prefix(RUN) + "data/control-d8192/packed/shard-00000.bin",
                 layout.scaling_cells_part(RUN), layout.anneal_part("anneal_arms", RUN),
                 layout.anneal_part("anneal_documents", RUN)],
    "eval": [layout.eval_part(table, "llama3-8b-boostqa", "mmlu") for table in layout.EVAL_TABLES],
    "report": ["reports/2026-01-02/index.html"],
}

DELETES: dict[str, list[str]] = {
    "ingest": [layout.seeds_manifest_key(SOURCE, DAY), layout.raw_seed_prefix(SOURCE, DAY) + layout.part_name(7),
               layout.quarantine_prefix(INGEST_STAGE, layout.ingest_run_id(DAY), SOURCE) + layout.part_name(7)],
    "qc": [layout.qc_marker(RUN), *(layout.qc_bucket_part(table, "r0", 5) for table in layout.QC_TABLES)],
    "export": [f"mixtures/{VERSION}/manifest.json", f"mixtures/{VERSION}/packed/shard-00009.bin"],
}

READS: dict[str, list[str]] = {
    "annotate": [layout.raw_seed_prefix(SOURCE, DAY) + PART, layout.annotations_prefix(RUN) + PART,
                 layout.shard_marker(layout.annotations_prefix(RUN), 0), _quarantine(ANNOTATE),
                 layout.annotation_worklist(RUN), layout.annotation_shards(RUN), layout.annotation_run_marker(RUN),
                 layout.ledger_prefix(ANNOTATE, RUN) + PART],
    "synthesis": [layout.plan_object("p1", "synthesis_jobs.parquet"), layout.synthesis_jobs_snapshot(RUN),
                  layout.latest_pointer("plans"), layout.ledger_prefix(SYNTHESIZE, RUN) + PART,
                  layout.shard_marker(layout.qa_prefix(RUN), 0)],
    "qc": [layout.qa_prefix(RUN) + PART, layout.qc_bucket_part("index", "r0", 0),
           layout.qc_bucket_part("index_keys", "r0", 0), layout.qc_marker(RUN)],
    # the lake tables dbt reads, and the deficiency probes of the new and the latest plan (publish_plan's guard)
    "warehouse": [*bootstrap_keys(), layout.plan_object("p1", "deficiency_probe.parquet")],
    # the selection; and what the token count reads: kept items, their runs' parts, documents, earlier counts
    "export": [f"mixtures/{VERSION}/{SELECTION_NAME}", layout.qc_bucket_part("kept", RUN, 0),
               layout.qa_prefix(RUN) + PART, layout.general_corpus_part("fineweb"),
               layout.token_counts_part(TOKENIZER, "v0")],
    # a study's run syncs its blend's folder (boostqa_airflow/operators/study.py, launch_kwargs)
    "trainer": [f"{trainer_prefix()}manifest.json", f"{trainer_prefix()}packed/shard-00000.bin",
                layout.study_data_prefix(RUN) + "data/control-d8192/heldout/boostqa.npy"],
    "midtrain": [layout.latest_pointer("mixtures"), f"mixtures/{VERSION}/{SELECTION_NAME}",
                 layout.general_corpus_part("fineweb")],
    "eval": [layout.latest_pointer("training")],
}

# Prefixes the code lists: read_prefix/list_keys calls, and prefixes whose keys it probes for absence
# (get_bytes_or_none), where S3 answers 404 rather than 403 only to a caller that may list the bucket.
LISTS: dict[str, list[str]] = {
    "ingest": [layout.raw_seed_prefix(SOURCE, DAY),
               layout.quarantine_prefix(INGEST_STAGE, layout.ingest_run_id(DAY), SOURCE)],
    "annotate": [f"{layout.RAW_SEEDS}/", f"{layout.ANNOTATIONS}/", f"{layout.QUARANTINE}/{ANNOTATE}/",
                 layout.annotations_prefix(RUN), layout.annotation_worklist(RUN), layout.annotation_shards(RUN),
                 layout.annotation_run_marker(RUN), layout.ledger_stage_prefix(ANNOTATE),
                 layout.stage_quarantine_prefix(ANNOTATE, RUN), layout.ledger_prefix(ANNOTATE, RUN)],
    "synthesis": [layout.plan_object("p1", ""), layout.synthesis_jobs_snapshot(RUN), layout.qa_prefix(RUN),
                  layout.latest_pointer("plans"), layout.ledger_stage_prefix(SYNTHESIZE)],
    "qc": [layout.qa_prefix(RUN), *(layout.qc_table_prefix(t) for t in ("done", "kept", "index", "removals"))],
    "export": [f"mixtures/{VERSION}/", layout.qc_table_prefix("kept"), layout.qa_prefix(RUN), f"{layout.RAW_GENERAL}/",
               layout.token_counts_prefix(TOKENIZER)],
    "trainer": [trainer_prefix(), layout.study_data_prefix(RUN) + "data/control-d8192/"],
    "midtrain": [layout.latest_pointer("mixtures"), f"mixtures/{VERSION}/{SELECTION_NAME}", f"{layout.RAW_GENERAL}/"],
    "eval": [layout.latest_pointer("training")],
}

# The Ray jobs (infra/k8s/ray-cluster.yaml) run the QC and mixture-export stages' code: the `ray` role's samples are
# those two roles' samples, so its policy follows theirs (test_s3_policies checks it grants exactly their union).
RAY_STAGE_ROLES = ("qc", "export")
for _table in (WRITES, DELETES, READS, LISTS):
    _table["ray"] = [key for role in RAY_STAGE_ROLES for key in _table.get(role, [])]
