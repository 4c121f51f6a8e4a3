"""The lake contract: every table's arrow schema, where its parts live and which dbt source reads them.

Stages import their schemas from here; this module imports no stage. ``LAKE_TABLES`` names each table dbt reads with
the glob of its source's ``external_location`` (a test keeps the two equal) and whether the warehouse bootstraps an
empty typed part for it, so dbt's glob matches before the stage has ever run.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from boostqa.lake import layout
from boostqa.schemas import AnnotationRecord, LlmQuarantineRecord


def _strings(*names: str) -> list[tuple[str, pa.DataType]]:
    return [(name, pa.string()) for name in names]


# --- ingest: raw seeds and the rows that failed validation ---
SEED_SCHEMA = pa.schema([
    *_strings("seed_id", "source", "source_row_id"), ("row_number", pa.int64()),
    ("question", pa.string()), ("options", pa.list_(pa.string())), *_strings("answer", "subject_hint"),
    ("difficulty_hint", pa.int8()), *_strings("language", "license"), ("ingest_date", pa.date32()),
    *_strings("run_id", "schema_version"),
])
QUARANTINE_SCHEMA = pa.schema([
    *_strings("run_id", "stage", "source"), ("ingest_date", pa.date32()), ("row_number", pa.int64()),
    *_strings("source_row_id", "reason", "detail", "raw_record", "schema_version", "source_file"),
    ("source_line", pa.int64()),
])

# --- annotate: labels, unusable LLM outputs, the frozen work list ---
_ANNOTATION_INTEGERS = {"difficulty": pa.int8(), "sample_index": pa.int16()}
ANNOTATION_SCHEMA = pa.schema([(name, _ANNOTATION_INTEGERS.get(name, pa.string()))
                               for name in AnnotationRecord.model_fields])
LLM_QUARANTINE_SCHEMA = pa.schema(_strings(*LlmQuarantineRecord.model_fields))
WORKLIST_SCHEMA = pa.schema([("seed_id", pa.string()), ("question", pa.string()), ("options", pa.list_(pa.string())),
                             ("language", pa.string())])

# --- LLM spend: the token ledger and each run's budget decision ---
LEDGER_SCHEMA = pa.schema([
    *_strings("run_id", "role", "model", "item_id", "request_id", "prompt_version"),
    ("prompt_tokens", pa.int64()), ("completion_tokens", pa.int64()), ("latency_ms", pa.float64()),
    ("cache_hit", pa.bool_()), ("status", pa.string()), ("attempts", pa.int32()),
])
BUDGET_SCHEMA = pa.schema([
    ("stage", pa.string()), ("run_id", pa.string()), ("run_day", pa.date32()),
    ("checked_at", pa.timestamp("us", "UTC")), ("price_version", pa.string()),
    ("run_budget_tokens", pa.int64()), ("run_budget_usd", pa.float64()),
    ("day_budget_tokens", pa.int64()), ("day_budget_usd", pa.float64()),
    ("jobs", pa.int64()), ("tokens_per_job", pa.float64()),
    ("usage_source", pa.string()), ("usage_detail", pa.string()),
    ("projected_tokens", pa.int64()), ("projected_usd", pa.float64()),
    ("committed_run_tokens", pa.int64()), ("committed_run_usd", pa.float64()),
    ("committed_day_tokens", pa.int64()), ("committed_day_usd", pa.float64()),
    ("is_accepted", pa.bool_()), ("reason", pa.string()),
])

# --- synthesize: QA items and rejected jobs ---
QA_SCHEMA = pa.schema([
    *_strings("item_id", "run_id", "plan_id", "strategy", "seed_id", "discipline_id", "category_id", "language"),
    ("target_difficulty", pa.int8()), ("verified_difficulty", pa.int8()),
    ("question", pa.string()), ("options", pa.list_(pa.string())),
    *_strings("draft_answer", "draft_option", "refined_answer", "refined_option"),
    ("answer_agreement", pa.bool_()), ("refine_decision", pa.string()), ("reasoning", pa.string()),
    *_strings("generator_model", "refiner_model", "annotator_model", "generator_prompt_version",
              "refiner_prompt_version", "verify_prompt_version"),
    ("temperature", pa.float64()), ("top_p", pa.float64()), ("sampling_seed", pa.int32()),
    *_strings("generator_request_id", "refiner_request_id", "verify_request_id"),
    ("prompt_tokens", pa.int64()), ("completion_tokens", pa.int64()),
])
REJECT_SCHEMA = pa.schema([
    *_strings("item_id", "run_id", "plan_id", "strategy", "seed_id", "discipline_id"),
    ("target_difficulty", pa.int8()), ("verified_difficulty", pa.int8()),
    *_strings("step", "reason", "detail", "raw_output", "model", "request_id"),
    ("replica", pa.int32()),  # the job's replica (sampling seed): the next plan numbers new jobs after it
])

# k sampled solver answers per synthesized item, graded: its solve rate and empirical band (boostqa/synthesize/solve.py)
SOLVE_SCHEMA = pa.schema([
    *_strings("item_id", "run_id", "discipline_id"),
    ("target_difficulty", pa.int8()), ("labelled_difficulty", pa.int8()),
    ("samples", pa.int16()), ("graded", pa.int16()), ("solved", pa.int16()), ("solve_rate", pa.float64()),
    ("empirical_difficulty", pa.int8()), *_strings("solver_model", "solve_prompt_version"),
])

# --- QC: kept items, every removal with its reason, the cross-run dedup index ---
KEPT_SCHEMA = pa.schema(_strings("item_id", "run_id", "exact_key"))
REMOVAL_SCHEMA = pa.schema([
    *_strings("item_id", "run_id", "step", "reason"), ("rank", pa.int16()),
    ("detail", pa.string()), ("duplicate_of", pa.string()), ("similarity", pa.float64()),
    ("benchmark", pa.string()), ("benchmark_item_id", pa.string()),
])
INDEX_SCHEMA = pa.schema([
    *_strings("item_id", "run_id", "exact_key", "index_fingerprint"), ("shingles", pa.list_(pa.uint64())),
])

# --- export: the general corpus, token counts of the candidates and each mixture's lineage ---
GENERAL_SCHEMA = pa.schema([
    *_strings("doc_id", "source", "text", "language", "topic", "license"), ("chars", pa.int64()),
])
TOKEN_COUNT_SCHEMA = pa.schema([  # text_md5: of the training text; null for BoostQA items (never edited)
    *_strings("tokenizer_sha256", "run_id", "sample_id", "source", "item_id", "text_md5"), ("tokens", pa.int64()),
])
LINEAGE_SCHEMA = pa.schema([
    *_strings("mixture_version", "sample_id", "source", "item_id", "parquet_shard"), ("parquet_row", pa.int64()),
    ("packed_shard", pa.int32()), ("packed_sequence", pa.int64()), ("token_offset", pa.int32()),
    ("tokens", pa.int32()),
])

# --- training: per-step metrics and the samples record, published from the trainer's files ---
TRAINING_METRICS_SCHEMA = pa.schema([
    *_strings("run_id", "config", "mixture_version"), ("step", pa.int64()),
    ("loss", pa.float64()), ("lr", pa.float64()), ("tokens", pa.int64()), ("seconds", pa.float64()),
    ("tokens_per_s", pa.float64()), ("samples", pa.int64()),
])
TRAINING_SAMPLES_SCHEMA = pa.schema([  # training/samples.py SAMPLES_SCHEMA, with the run id filled in
    ("run_id", pa.string()), ("step", pa.int64()), ("batch_position", pa.int32()), ("epoch", pa.int64()),
    ("mixture_version", pa.string()), ("manifest_sha256", pa.string()), ("sequence_index", pa.int64()),
    ("packed_shard", pa.int32()), ("packed_sequence", pa.int64()), ("seq_len", pa.int32()),
])

# --- studies: each trained arm of a scaling sweep (boostqa/studies/collect.py) ---
SCALING_CELL_SCHEMA = pa.schema([
    *_strings("run_id", "cell_id", "training_run_id", "arm", "model_size", "base_id", "base_model", "mixture_version"),
    ("hidden_size", pa.int32()), ("layers", pa.int32()), ("parameters", pa.int64()),
    ("non_embedding_parameters", pa.int64()), ("base_tokens", pa.int64()), ("boostqa_tokens", pa.int64()),
    ("general_tokens", pa.int64()), ("tokens", pa.int64()), ("steps", pa.int64()), ("boostqa_passes", pa.float64()),
    ("train_seconds", pa.float64()), ("wall_seconds", pa.float64()), ("loss_last", pa.float64()),
    ("heldout_boostqa_before", pa.float64()), ("heldout_boostqa_after", pa.float64()),
    ("heldout_general_before", pa.float64()), ("heldout_general_after", pa.float64()),
])

# --- studies: each arm of an anneal probe, and the documents it trained on (candidate) and measured on (held out) ---
ANNEAL_ARM_SCHEMA = pa.schema([
    *_strings("run_id", "arm", "training_run_id", "eval_model_id", "mixture_version", "reference_version",
              "slice_discipline"), ("slice_difficulty", pa.int32()),
    *_strings("slice_strategy", "base_model"), ("candidate_share", pa.float64()), ("tokens", pa.int64()),
    ("candidate_tokens", pa.int64()), ("candidate_passes", pa.float64()), ("steps", pa.int64()),
    ("wall_seconds", pa.float64()), ("loss_last", pa.float64()),
    ("heldout_boostqa_before", pa.float64()), ("heldout_boostqa_after", pa.float64()),
    ("heldout_general_before", pa.float64()), ("heldout_general_after", pa.float64()),
])
ANNEAL_DOCUMENT_SCHEMA = pa.schema([
    *_strings("run_id", "arm", "use", "heldout_set", "sample_id", "item_id", "discipline_id"),
    ("difficulty", pa.int32()), ("strategy", pa.string()), ("tokens", pa.int64()),
    ("loss_before", pa.float64()), ("loss_after", pa.float64()),
])

# --- eval: per-item results and per-benchmark scores of each evaluated model ---
# Who was evaluated: the model's name, its training run (checkpoint) and mixture, and its content identity.
_EVALUATED = [("model_id", pa.string()), ("eval_run_id", pa.string()), ("evaluated_at", pa.timestamp("us", tz="UTC")),
              *_strings("checkpoint_id", "mixture_version", "model_sha256")]
ITEM_RESULT_SCHEMA = pa.schema([
    *_EVALUATED,
    ("benchmark", pa.string()), ("item_id", pa.string()),
    ("config", pa.string()), ("discipline_id", pa.string()), ("difficulty", pa.int32()), ("language", pa.string()),
    ("task_type", pa.string()), ("num_fewshot", pa.int32()), ("correct", pa.bool_()), ("correct_norm", pa.bool_()),
    ("predicted", pa.string()), ("gold", pa.string()), ("choice_logprobs", pa.list_(pa.float64())),
    ("output", pa.string()),
])
SCORE_SCHEMA = pa.schema([
    *_EVALUATED,
    ("benchmark", pa.string()), ("metric", pa.string()),
    ("value", pa.float64()), ("items", pa.int64()), ("num_fewshot", pa.int32()), ("model_path", pa.string()),
])


@dataclass(frozen=True)
class LakeTable:
    """A table dbt reads from the lake.

    Its source, its parts' glob under the bucket, its schema, the folder of its empty typed bootstrap part (None
    where the stage that writes it runs before any dbt build), and the rule saying which marker commits a part
    (``boostqa/lake/commits.py``; dbt's staging model names the same rule).
    """

    source: str
    name: str
    glob: str
    schema: pa.Schema
    bootstrap_folder: str | None
    commit: str


_RUN = f"run_id={layout.BOOTSTRAP_RUN}/"
_ANNOTATE_SHARD = f"shard_marker:{layout.ANNOTATIONS}"  # boostqa/lake/commits.py: which marker commits a part
_SYNTHESIS_SHARD = f"shard_marker:{layout.QA}"
_NESTED = f"model_id={layout.BOOTSTRAP_RUN}/benchmark={layout.BOOTSTRAP_RUN}/"  # real parts' depth


def _by_run(source: str, name: str, root: str, schema: pa.Schema, commit: str, stage: str | None = None
            ) -> LakeTable:
    """A table with one folder per run under ``root``.

    With ``stage``, the runs sit under ``stage=<stage>/`` folders and the bootstrap part under that stage's.
    """
    level, bootstrap_level = ("stage=*/", f"stage={stage}/") if stage else ("", "")
    return LakeTable(source, name, f"{root}/{level}run_id=*/*.parquet", schema, f"{root}/{bootstrap_level}{_RUN}",
                     commit)


LAKE_TABLES: tuple[LakeTable, ...] = (
    LakeTable("seeds", "questions", f"{layout.RAW_SEEDS}/source=*/ingest_date=*/*.parquet", SEED_SCHEMA, None,
              "seed_manifest"),
    # Its empty part carries the current schema, so columns added later (source_file, source_line) exist for dbt
    # before the first ingest that writes them.
    LakeTable("seeds", "quarantined_rows", f"{layout.QUARANTINE}/ingest/run_id=*/source=*/*.parquet",
              QUARANTINE_SCHEMA, f"{layout.QUARANTINE}/ingest/{_RUN}source={layout.BOOTSTRAP_RUN}/",
              "ingest_quarantine_manifest"),
    _by_run("annotations", "labels", layout.ANNOTATIONS, ANNOTATION_SCHEMA, _ANNOTATE_SHARD),
    _by_run("annotations", "invalid_outputs", f"{layout.QUARANTINE}/annotate", LLM_QUARANTINE_SCHEMA, _ANNOTATE_SHARD),
    _by_run("llm", "ledger", layout.LEDGER, LEDGER_SCHEMA, "ledger_shard_marker", stage="annotate"),
    _by_run("llm", "budgets", layout.LLM_BUDGETS, BUDGET_SCHEMA, "object", stage="synthesize"),
    _by_run("qa", "items", layout.QA, QA_SCHEMA, _SYNTHESIS_SHARD),
    _by_run("qa", "rejects", f"{layout.QUARANTINE}/synthesize", REJECT_SCHEMA, _SYNTHESIS_SHARD),
    _by_run("qa", "solves", layout.SOLVES, SOLVE_SCHEMA, _SYNTHESIS_SHARD),
    _by_run("qc", "kept", f"{layout.QC}/kept", KEPT_SCHEMA, "qc_marker"),
    _by_run("qc", "removals", f"{layout.QC}/removals", REMOVAL_SCHEMA, "qc_marker"),
    LakeTable("general", "documents", f"{layout.RAW_GENERAL}/*/*.parquet", GENERAL_SCHEMA,
              f"{layout.RAW_GENERAL}/{_RUN}", "object"),
    _by_run("mixtures", "lineage", layout.MIXTURE_LINEAGE, LINEAGE_SCHEMA, "mixture_manifest"),
    LakeTable("mixtures", "token_counts", f"{layout.MIXTURE_TOKEN_COUNTS}/tokenizer=*/run_id=*/*.parquet",
              TOKEN_COUNT_SCHEMA, f"{layout.token_counts_prefix(layout.BOOTSTRAP_RUN)}{_RUN}", "object"),
    _by_run("training", "metrics", layout.TRAINING_METRICS, TRAINING_METRICS_SCHEMA, "object"),
    _by_run("training", "samples", layout.TRAINING_SAMPLES, TRAINING_SAMPLES_SCHEMA, "object"),
    _by_run("studies", "scaling_cells", layout.SCALING_CELLS, SCALING_CELL_SCHEMA, "object"),
    _by_run("studies", "anneal_arms", layout.ANNEAL_ARMS, ANNEAL_ARM_SCHEMA, "object"),
    _by_run("studies", "anneal_documents", layout.ANNEAL_DOCUMENTS, ANNEAL_DOCUMENT_SCHEMA, "object"),
    LakeTable("eval", "items", f"{layout.EVAL}/items/model_id=*/*/*.parquet", ITEM_RESULT_SCHEMA,
              f"{layout.EVAL}/items/{_NESTED}", "object"),
    LakeTable("eval", "scores", f"{layout.EVAL}/scores/model_id=*/*/*.parquet", SCORE_SCHEMA,
              f"{layout.EVAL}/scores/{_NESTED}", "object"),
)
