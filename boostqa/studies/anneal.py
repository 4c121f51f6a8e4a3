"""The anneal probe's plan: a candidate slice annealed into a reference mix from one fixed base, against a control.

From a fixed base checkpoint, the ``candidate`` arm anneals on ``candidate_share`` (30 %) candidate data - a mixture
version's BoostQA items, or one slice of them (a discipline, a difficulty, a strategy) - and the rest reference mix;
the ``control`` arm on the reference mix alone, at the same tokens. Both decay the learning rate to zero. The
reference mix is the staged general corpus, plus a reference mixture version's BoostQA items when one is named.
Without a named base the probe pre-trains its own tiny base once and every later probe on the same data reuses it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, ClassVar

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import Field

from boostqa.errors import ConfigError
from boostqa.export.packing import load_target_tokenizer
from boostqa.lake.store import ObjectStore
from boostqa.studies.blend import Document, Pools, build_pools, write_blend
from boostqa.studies.config import StudyRunConfig
from boostqa.studies.grid import SIZE
from boostqa.studies.runs import (
    boostqa_rows,
    general_rows,
    launch,
    open_study_folder,
    run_dir,
    save_plan,
    tiny_model,
    write_heldout,
)

ARMS = ("candidate", "control")
CANDIDATE_ITEMS = "candidate_items.parquet"


class AnnealRunConfig(StudyRunConfig):
    """What one anneal probe may vary (the ``anneal_probe`` DAG's params)."""

    stage: ClassVar[str] = "anneal probe"

    reference_version: str = Field("", pattern=r"^([A-Za-z0-9][A-Za-z0-9_.=-]{0,127})?$", description="a mixture "
                                   "version whose BoostQA items join the reference mix (empty: general text alone)")
    slice_discipline: str = Field("", pattern=r"^[a-z0-9_]*$", description="anneal only this discipline's items")
    slice_difficulty: int | None = Field(None, ge=1, le=5, description="anneal only this difficulty's items")
    slice_strategy: str = Field("", pattern=r"^[a-z0-9_]*$", description="anneal only this strategy's items")
    candidate_share: float = Field(0.3, gt=0, lt=1, description="share of the candidate arm's tokens that are "
                                   "candidate data (the rest is reference mix)")
    tokens: int = Field(32768, ge=1, description="tokens each arm anneals on")
    base_model: str = Field("", pattern=r"^[A-Za-z0-9_./+=-]*$", description="HF folder of the fixed base "
                            "checkpoint; empty: the probe's own tiny base (base_size, base_tokens), made once")
    base_size: str = Field("64x2", pattern=SIZE.pattern, description="hidden x layers of the probe's own base")
    base_tokens: int = Field(65536, ge=1, description="general tokens the probe's own base is pre-trained on")

    def in_slice(self, doc: Document) -> bool:
        """Whether a BoostQA item belongs to the candidate slice."""
        return ((not self.slice_discipline or doc.discipline_id == self.slice_discipline)
                and (self.slice_difficulty is None or doc.difficulty == self.slice_difficulty)
                and (not self.slice_strategy or doc.strategy == self.slice_strategy))


def _by_hash(docs: list[Document]) -> list[Document]:
    """A fixed order independent of where the documents came from (sources interleave)."""
    return sorted(docs, key=lambda d: hashlib.sha256(d.sample_id.encode()).hexdigest())


def _pools(store: ObjectStore, config: AnnealRunConfig, mixture_version: str, tokenizer: Any) -> tuple[Pools, list[
        Document], list[Document]]:
    """The version's pools (its held-out items measure every bucket), the candidate slice and the reference mix."""
    pools = build_pools(boostqa_rows(store, mixture_version) + general_rows(store), tokenizer,
                        config.heldout_fraction)
    candidate = [d for d in pools.train.get("boostqa", []) if config.in_slice(d)]
    reference = list(pools.train.get("general", []))
    if config.reference_version == mixture_version:
        raise ConfigError(f"reference_version {mixture_version} is the candidate's own version: the probe would "
                          "compare it with itself")
    if config.reference_version:
        # versions share most items: the candidate's own items stay out of the control, or it trains on them too
        own = {d.item_id for d in candidate}
        reference += [d for d in build_pools(boostqa_rows(store, config.reference_version), tokenizer,
                                             config.heldout_fraction).train.get("boostqa", [])
                      if d.item_id not in own]
    if not candidate or not reference:
        raise ConfigError(f"mixture {mixture_version} has {len(candidate)} training items in the slice and the "
                          f"reference mix {len(reference)} documents: the probe needs both")
    return pools, candidate, _by_hash(reference)


def _base(config: AnnealRunConfig, folder: Path, pools: Pools, tokenizer: Any, mixture_version: str,
          training_dir: Path) -> tuple[list[dict[str, Any]], list[str], str]:
    """The pre-training launch of the probe's own base (none when named or already made), its weights, its name."""
    if config.base_model:
        return [], ["model.source=hf", f"model.path={config.base_model}"], config.base_model
    # general text only: no mixture version in its manifest, so a later probe (another version) can resume it
    blend = write_blend(folder, "pretrain", {"general": (pools.train["general"], config.base_tokens)}, tokenizer,
                        config.seq_len, "")
    write_heldout(folder / "pretrain", pools, config.seq_len, config.heldout_docs)
    data = json.loads(blend.manifest.read_text())["packed"]["shards"]
    recipe = [config.base_size, config.seq_len, config.micro_batch_size, config.lr, config.train_config,
              config.nproc_per_node]
    digest = hashlib.sha256(json.dumps([[s["sha256"] for s in data], recipe]).encode()).hexdigest()[:8]
    base_run = f"anneal_base.{config.base_size}-b{config.base_tokens}-{digest}"  # same data and recipe: same base
    weights = ["model.source=hf", f"model.path={run_dir(training_dir, base_run) / 'hf'}"]
    status = run_dir(training_dir, base_run) / "status.json"
    if status.exists() and json.loads(status.read_text()).get("state") == "succeeded":
        return [], weights, base_run
    hidden, layers = (int(v) for v in config.base_size.split("x"))
    return [launch(base_run, blend, config, tiny_model(hidden, layers), training_dir, {"base_id": base_run})], \
        weights, base_run


def prepare_anneal(store: ObjectStore, config: AnnealRunConfig, probe_run_id: str, mixture_version: str,
                   tokenizer_dir: Path, training_dir: Path) -> dict[str, Any]:
    """Write the probe's data (locally and to the lake) and its plan; returns the plan."""
    folder, saved = open_study_folder(training_dir, probe_run_id)
    if saved is not None:
        return saved
    tokenizer = load_target_tokenizer(tokenizer_dir)
    pools, candidate, reference = _pools(store, config, mixture_version, tokenizer)
    data = folder / "data"
    bases, weights, base_name = _base(config, data, pools, tokenizer, mixture_version, training_dir)
    share = round(config.candidate_share * config.tokens)
    parts = {"candidate": {"candidate": (candidate, share), "reference": (reference, config.tokens - share)},
             "control": {"reference": (reference, config.tokens)}}
    arms: list[dict[str, Any]] = []
    trained: list[Document] = []
    for arm, blend_parts in parts.items():
        blend = write_blend(data, arm, blend_parts, tokenizer, config.seq_len, mixture_version)
        trained = blend.documents.get("candidate", trained)
        write_heldout(data / arm, pools, config.seq_len, config.heldout_docs)
        meta = {"arm": arm, "candidate_tokens": blend.tokens.get("candidate", 0),
                "candidate_passes": blend.passes.get("candidate", 0.0)}
        arms.append(launch(f"{probe_run_id}.{arm}", blend, config, weights, training_dir, meta,
                           extra=["optim.min_lr_ratio=0.0"]))  # annealed: the learning rate decays to zero
    pq.write_table(pa.Table.from_pylist([{"sample_id": d.sample_id, "item_id": d.item_id,
                                          "discipline_id": d.discipline_id, "difficulty": d.difficulty,
                                          "strategy": d.strategy, "tokens": len(d.tokens) + 1} for d in trained]),
                   folder / CANDIDATE_ITEMS)
    evals = [{"model_id": f"{probe_run_id}.{a['arm']}", "hf_folder": str(Path(a["output_dir"]) / "hf"),
              "checkpoint_id": a["run_id"], "mixture_version": mixture_version} for a in arms]
    plan = {"probe_run_id": probe_run_id, "mixture_version": mixture_version, "config": config.model_dump(),
            "launch": config.launch_settings(), "base_model": base_name, "bases": bases, "arms": arms,
            "evals": evals, "candidate_items": len(trained), "candidate_pool": len(candidate),
            "reference_documents": len(reference)}
    save_plan(store, folder, probe_run_id, plan)
    return plan
