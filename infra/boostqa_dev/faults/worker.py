"""The process a kill row SIGKILLs: one stage's library call, as the Airflow task runs it, in a worker of its own.

``python -m boostqa_dev.faults.worker`` reads its spec as JSON on stdin (``{"stage": "ingest" | "qc" | "annotate" |
"synthesize" | "export", "lake": {...}, ...}``), so the lake's secret never shows in a process listing.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import date

from boostqa.ingest.config import SourceConfig
from boostqa.ingest.runner import ingest_source
from boostqa.lake.store import LakeConfig, ObjectStore
from boostqa.qc.config import QcRunConfig
from boostqa.qc.run import run_qc


def main(spec: dict[str, object]) -> None:
    """Run the stage ``spec`` names against the lake it names."""
    store = ObjectStore(LakeConfig.model_validate(spec["lake"]))
    if spec["stage"] == "ingest":
        source = SourceConfig.model_validate(spec["source"])
        day = date.fromisoformat(str(spec["day"]))
        ingest_source(source, day, store, rows_per_part=int(str(spec["rows_per_part"])), decontaminator=None)
    elif spec["stage"] == "qc":
        run_qc(store, str(spec["run_id"]), QcRunConfig.model_validate({}).qc_config())
    elif spec["stage"] == "annotate":
        _annotate(store, spec)
    elif spec["stage"] == "synthesize":
        _synthesize(store, spec)
    elif spec["stage"] == "export":  # in this process, as on a worker without a Ray cluster
        from boostqa.jobs.spec import JobSpec, LakeLocation
        from boostqa.jobs.stages import export_job

        export_job(store, JobSpec(stage="export", run_id=str(spec["run_id"]), lake=LakeLocation.of(store.config),
                                  params=dict(spec["params"])), on_ray=False)  # type: ignore[call-overload]
    else:
        raise SystemExit(f"unknown stage {spec['stage']!r}")


def _annotate(store: ObjectStore, spec: dict[str, object]) -> None:
    """Every shard of a frozen annotate run against ``base_url``, replaying ``cache``, then the run's summary."""
    from pathlib import Path

    from boostqa.annotate.finish import finish_run
    from boostqa.annotate.runner import annotate_shard
    from boostqa.annotate.task import AnnotationTask
    from boostqa.annotate.taxonomy import load_taxonomy
    from boostqa.annotate.worklist import load_frozen
    from boostqa.llm.cache import ResponseCache
    from boostqa.llm.client import LlmClient
    from boostqa.llm.transport import OpenAiTransport
    from boostqa.llm.types import LlmEndpoint

    run_id = str(spec["run_id"])
    endpoint = LlmEndpoint(role="annotator", base_url=str(spec["base_url"]), model=str(spec["model"]))
    client = LlmClient(endpoint, OpenAiTransport(), ResponseCache(Path(str(spec["cache"]))), run_id="faults")
    task = AnnotationTask(load_taxonomy())
    results = [annotate_shard(store, run_id, shard, task, client) for shard in load_frozen(store, run_id).shard_ids()]
    finish_run(store, run_id, results)


def _synthesize(store: ObjectStore, spec: dict[str, object]) -> None:
    """Every shard of a frozen synthesis run, the three roles on ``base_url``, replaying ``cache``."""
    from pathlib import Path

    from boostqa.annotate.taxonomy import load_taxonomy
    from boostqa.llm.cache import ResponseCache
    from boostqa.llm.client import LlmClient
    from boostqa.llm.transport import OpenAiTransport
    from boostqa.llm.types import LlmEndpoint
    from boostqa.synthesize.config import SynthesisRunConfig
    from boostqa.synthesize.runner import Roles
    from boostqa.synthesize.stage import shard_indexes, synthesize_shard

    run_id, size = str(spec["run_id"]), int(str(spec["shard_size"]))
    config = SynthesisRunConfig.model_validate({"shard_size": size, "plain_text": True})  # a small local model
    cache = ResponseCache(Path(str(spec["cache"])))
    endpoints = [LlmEndpoint.model_validate({"role": role, "base_url": spec["base_url"], "model": spec["model"]})
                 for role in ("generator", "annotator", "refiner")]
    roles = Roles(*(LlmClient(endpoint, OpenAiTransport(), cache, run_id=run_id) for endpoint in endpoints))
    synthesizer = config.synthesizer(load_taxonomy())
    for shard in shard_indexes(int(str(spec["jobs"])), size):
        synthesize_shard(store, run_id, shard, size, synthesizer, roles)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    main(json.loads(sys.stdin.read()))
