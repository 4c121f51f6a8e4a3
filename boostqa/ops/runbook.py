"""The runbook's incidents and which of them each DAG's alerts point to (one table, checked against docs)."""

from __future__ import annotations

# anchor (a heading of docs/runbook.md, as GitHub slugs it) -> title
INCIDENTS: dict[str, str] = {
    "1-vllm-server-down": "vLLM server down",
    "2-429-storms-and-llm-timeouts": "429 storms and LLM timeouts",
    "3-s3-outage": "S3 outage",
    "4-duckdb-lock": "DuckDB lock",
    "5-disk-full": "Disk full",
    "6-bad-seed-source": "Bad seed source",
    "7-training-oom-or-preemption": "Training OOM or preemption",
    "8-eval-regression": "Eval regression",
    "9-stuck-dag-run": "Stuck DAG run",
    "10-secret-rotation": "Secret rotation",
    "11-ray-cluster-down-or-a-ray-job-failing": "Ray cluster down or a Ray job failing",
}

_EVERY_STAGE = ["3-s3-outage", "5-disk-full", "9-stuck-dag-run", "10-secret-rotation"]

# dag_id -> the incidents most likely behind one of its failures, most likely first.
DAG_INCIDENTS: dict[str, list[str]] = {
    "seed_ingest": ["6-bad-seed-source", *_EVERY_STAGE],
    "seed_annotate": ["1-vllm-server-down", "2-429-storms-and-llm-timeouts", *_EVERY_STAGE],
    "warehouse_build": ["4-duckdb-lock", *_EVERY_STAGE],
    "qa_synthesis": ["1-vllm-server-down", "2-429-storms-and-llm-timeouts", "11-ray-cluster-down-or-a-ray-job-failing",
                     "4-duckdb-lock", *_EVERY_STAGE],
    "mixture_export": ["11-ray-cluster-down-or-a-ray-job-failing", "4-duckdb-lock", *_EVERY_STAGE],
    "midtrain": ["7-training-oom-or-preemption", *_EVERY_STAGE],
    "scaling_sweep": ["7-training-oom-or-preemption", "5-disk-full", "4-duckdb-lock", "3-s3-outage",
                      "9-stuck-dag-run"],
    "anneal_probe": ["7-training-oom-or-preemption", "8-eval-regression", "5-disk-full", "4-duckdb-lock",
                     "3-s3-outage", "9-stuck-dag-run"],
    "benchmark_eval": ["8-eval-regression", "1-vllm-server-down", "4-duckdb-lock", *_EVERY_STAGE],
}


def runbook_links(dag_id: str, base_url: str) -> list[tuple[str, str]]:
    """(title, url) of the incidents to check first when ``dag_id`` fails; the runbook's top for unknown DAGs."""
    anchors = DAG_INCIDENTS.get(dag_id)
    if not anchors:
        return [("Runbook", base_url)]
    return [(INCIDENTS[anchor], f"{base_url}#{anchor}") for anchor in anchors]
