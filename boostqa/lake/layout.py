"""Bucket layout of the lake: every key a stage writes is built here and nowhere else."""

from __future__ import annotations

from datetime import date

RAW_SEEDS = "raw/seeds"
RAW_GENERAL = "raw/general"
QUARANTINE = "quarantine"
BOOTSTRAP_RUN = "_bootstrap"  # run id of the empty typed parts that keep dbt's globs valid
MANIFEST_NAME = "_manifest.json"


def ingest_run_id(ingest_date: date) -> str:
    """Run id of a seed ingest: one per logical date, so a rerun of the date replaces its own output."""
    return f"ingest_{ingest_date.isoformat()}"


def raw_seed_prefix(source: str, ingest_date: date) -> str:
    """Partition folder of one source's seeds for one ingest date (trailing slash)."""
    return f"{RAW_SEEDS}/source={source}/ingest_date={ingest_date.isoformat()}/"


def quarantine_prefix(stage: str, run_id: str, source: str) -> str:
    """Quarantine folder of one source in one run of a stage (trailing slash)."""
    return f"{QUARANTINE}/{stage}/run_id={run_id}/source={source}/"


def stage_quarantine_root(stage: str) -> str:
    """Quarantine folder of every run of an LLM stage (trailing slash)."""
    return f"{QUARANTINE}/{stage}/"


def stage_quarantine_prefix(stage: str, run_id: str) -> str:
    """Quarantine folder of one run of an LLM stage (``annotate``, ``synthesize``): its unusable outputs."""
    return f"{stage_quarantine_root(stage)}run_id={run_id}/"


def part_name(index: int) -> str:
    """File name of the index-th parquet part."""
    return f"part-{index:05d}.parquet"


def seeds_manifest_key(source: str, ingest_date: date) -> str:
    """Manifest of a raw seed partition; written last, so its presence marks the partition complete."""
    return raw_seed_prefix(source, ingest_date) + MANIFEST_NAME


ANNOTATIONS = "annotations"
LEDGER = "llm/ledger"


def annotations_prefix(run_id: str) -> str:
    """Annotation parts of one annotate run (trailing slash)."""
    return f"{ANNOTATIONS}/run_id={run_id}/"


def ledger_prefix(stage: str, run_id: str) -> str:
    """Token-ledger parts of one stage's run (trailing slash)."""
    return f"{LEDGER}/stage={stage}/run_id={run_id}/"


def shard_marker(prefix: str, shard: int) -> str:
    """Completion marker of one shard: written after all of the shard's objects."""
    return f"{prefix}_SUCCESS.{shard:05d}"


QA = "qa"
SOLVES = "calibration/solves"
SYNTHESIS = "synthesis"
PLANS = "plans"
MIXTURES = "mixtures"
ANNOTATE_WORKLISTS = "annotate/worklists"


def plan_object(plan_id: str, name: str) -> str:
    """An object the warehouse exports for a plan (``generation_plan.parquet``, ``synthesis_jobs.parquet``)."""
    return f"{PLANS}/plan_id={plan_id}/{name}"


def latest_pointer(kind: str) -> str:
    """The small object naming the newest complete version of ``plans``, ``mixtures`` or ``training`` (runs).

    Written after the version's own objects, so a reader that follows it never sees a half-written version.
    """
    return f"{kind}/latest.json"


MIXTURE_LINEAGE = f"{MIXTURES}/lineage"


def mixture_lineage_part(mixture_version: str) -> str:
    """Where each sample of a mixture version landed in its shards (for dbt's lineage marts)."""
    return f"{MIXTURE_LINEAGE}/run_id={mixture_version}/{part_name(0)}"


MIXTURE_TOKEN_COUNTS = f"{MIXTURES}/token_counts"


def token_counts_prefix(tokenizer_sha256: str) -> str:
    """Token counts of the mixture's candidates with one tokenizer, every run's (trailing slash)."""
    return f"{MIXTURE_TOKEN_COUNTS}/tokenizer={tokenizer_sha256}/"


def token_counts_part(tokenizer_sha256: str, run_id: str) -> str:
    """The samples one count run counted with a tokenizer (those no earlier run had; replaced on a rerun)."""
    return f"{token_counts_prefix(tokenizer_sha256)}run_id={run_id}/{part_name(0)}"


def general_corpus_part(source: str) -> str:
    """One general-corpus source's documents, staged for the mixture (replaced on restaging)."""
    return f"{RAW_GENERAL}/source={source}/{part_name(0)}"


def mixture_prefix(mixture_version: str) -> str:
    """Objects of one mixture version (trailing slash); never rewritten once its manifest exists."""
    return f"{MIXTURES}/{mixture_version}/"


def annotation_worklist(run_id: str) -> str:
    """The seeds an annotate run works on, frozen at its start so a resumed run rebuilds the same shards."""
    return f"{ANNOTATE_WORKLISTS}/run_id={run_id}/seeds.parquet"


def annotation_shards(run_id: str) -> str:
    """The shard boundaries over an annotate run's work list (JSON), written once after the list: the run is frozen."""
    return f"{ANNOTATE_WORKLISTS}/run_id={run_id}/shards.json"


def annotation_run_marker(run_id: str) -> str:
    """An annotate run's summary (JSON), written after every shard's marker: its presence marks the run complete."""
    return f"{annotations_prefix(run_id)}_SUCCESS"


def synthesis_jobs_snapshot(run_id: str) -> str:
    """The jobs a synthesis run works on, frozen at its start so a resumed run rebuilds the same shards."""
    return f"{SYNTHESIS}/run_id={run_id}/jobs.parquet"


def qa_prefix(run_id: str) -> str:
    """Synthesized QA parts of one synthesis run (trailing slash)."""
    return f"{QA}/run_id={run_id}/"


def solves_prefix(run_id: str) -> str:
    """Solve-rate parts of one synthesis run (trailing slash): committed by the run's ``qa`` shard markers."""
    return f"{SOLVES}/run_id={run_id}/"


QC = "qc"
QC_TABLES = ("kept", "removals", "index", "index_keys")


GENERAL_QC_RUN = "general_corpus"  # the QC run of the staged general corpus (every source), redone per staging


def qc_items_prefix(run_id: str) -> str:
    """Where the items of a QC run are: a synthesis run's QA parts, or the staged general corpus (trailing slash)."""
    return f"{RAW_GENERAL}/" if run_id == GENERAL_QC_RUN else qa_prefix(run_id)


def qc_bucket_part(table: str, run_id: str, bucket: int) -> str:
    """One bucket's part of a QC table for a synthesis run.

    QC writes a run's tables in hash buckets of item ids, ``index_keys`` in buckets of LSH keys; bucket 0's part is
    always written, so a run always has one.
    """
    return f"{QC}/{table}/run_id={run_id}/{part_name(bucket)}"


def qc_table_prefix(table: str) -> str:
    """Folder of one QC table across runs (trailing slash)."""
    return f"{QC}/{table}/"


def qc_marker(run_id: str) -> str:
    """Written after a run's QC parts: its presence marks the run's QC complete."""
    return f"{QC}/done/run_id={run_id}/_SUCCESS"


TRAINING_METRICS = "training/metrics"


def training_metrics_part(run_id: str) -> str:
    """The per-step metrics of one training run, published from its ``metrics.parquet`` for dbt."""
    return f"{TRAINING_METRICS}/run_id={run_id}/{part_name(0)}"


EVAL = "eval"
EVAL_TABLES = ("items", "scores")


def eval_part(table: str, model_id: str, benchmark: str) -> str:
    """One benchmark's results for one model.

    ``items`` (per-item correctness, labelled with discipline and difficulty) or ``scores`` (the benchmark's metrics).
    Re-evaluating a model replaces them.
    """
    return f"{EVAL}/{table}/model_id={model_id}/benchmark={benchmark}/{part_name(0)}"


# --- LLM spend guard (boostqa/llm/budget.py, projection.py) ---
LLM_BUDGETS = "llm/budgets"


def ledger_stage_prefix(stage: str) -> str:
    """Token-ledger parts of every run of one stage (trailing slash)."""
    return f"{LEDGER}/stage={stage}/"


def budget_record_key(stage: str, run_id: str) -> str:
    """The budget record of one run: caps, projection and the pre-flight decision (one row, for dbt)."""
    return f"{LLM_BUDGETS}/stage={stage}/run_id={run_id}/{part_name(0)}"


# --- What the model saw (training/samples.py -> boostqa/launch/metrics.py -> fct_checkpoint_samples) ---
TRAINING_SAMPLES = "training/samples"


def training_samples_part(run_id: str) -> str:
    """The samples record of one training run, published from its ``samples_seen.parquet`` for dbt.

    Per optimizer step, the packed sequences it read.
    """
    return f"{TRAINING_SAMPLES}/run_id={run_id}/{part_name(0)}"


# --- Research studies (boostqa/studies): their packed data and one row per trained arm, for dbt ---
STUDIES = "studies"
SCALING_CELLS = f"{STUDIES}/scaling_cells"
ANNEAL_ARMS = f"{STUDIES}/anneal_arms"
ANNEAL_DOCUMENTS = f"{STUDIES}/anneal_documents"


def study_data_prefix(run_id: str) -> str:
    """The packed blends and held-out sets one study run trained and scored on (trailing slash)."""
    return f"{STUDIES}/data/run_id={run_id}/"


def scaling_cells_part(run_id: str) -> str:
    """The trained arms of one scaling sweep: size, base, tokens, compute, wall time and held-out losses."""
    return f"{SCALING_CELLS}/run_id={run_id}/{part_name(0)}"


def anneal_part(table: str, run_id: str) -> str:
    """One anneal probe's rows: ``anneal_arms`` (one per arm) or ``anneal_documents`` (trained and held out)."""
    return f"{STUDIES}/{table}/run_id={run_id}/{part_name(0)}"
