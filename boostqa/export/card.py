"""The dataset card (README.md) of an exported mixture: what is in it, how much, from where, under which terms."""

from __future__ import annotations

from typing import Any


def _table(title: str, counts: dict[str, int]) -> list[str]:
    lines = [f"| {title} | samples |", "| --- | --- |"]
    lines += [f"| {key} | {value:,} |" for key, value in counts.items()]
    return lines + [""]


def dataset_card(manifest: dict[str, Any]) -> str:
    """A Hugging Face dataset card: YAML header naming the parquet files, then counts, tokens and lineage."""
    counts = manifest["counts"]
    files = [p["path"] for p in manifest["parquet"]]
    header = ["---", "configs:", "- config_name: default", "  data_files:", "  - split: train", "    path:"]
    header += [f"    - {f}" for f in files]
    header += ["license: other", "language:", "- en", "- zh", "task_categories:", "- text-generation", "---", ""]
    body = [
        f"# BoostQA training mixture `{manifest['mixture_version']}`",
        "",
        "Synthesized, QC'd BoostQA question-answer items (STEM multi-grade and high-difficulty) mixed with a "
        "general corpus, shuffled deterministically, for LLM mid-training. Produced by BoostQA Warehouse.",
        "",
        f"- samples: {counts['samples']:,} ({', '.join(f'{k} {v:,}' for k, v in counts['by_source'].items())})",
        f"- tokens (target tokenizer, EOS included): {manifest['tokens']:,} "
        f"({', '.join(f'{k} {v:,}' for k, v in counts['tokens_by_source'].items())})",
        f"- packed: {sum(s['sequences'] for s in manifest['packed']['shards']):,} sequences of "
        f"{manifest['packed']['seq_len']} tokens in `packed/` (see `manifest.json`)",
        f"- tokenizer sha256: `{manifest['tokenizer']['sha256']}`",
        f"- synthesis runs: {', '.join(manifest['synthesis_runs']) or 'none'}",
        "",
        "## Composition",
        "",
        *_table("source", counts["by_source"]),
        *_table("discipline", counts["by_discipline"]),
        *_table("difficulty", counts["by_difficulty"]),
        *_table("strategy", counts["by_strategy"]),
        "## Lineage",
        "",
        "`lineage.parquet` maps every sample (`sample_id`, `item_id`) to its parquet shard and row and to the "
        "packed shard, sequence and token offset where it starts; the warehouse exposes it as "
        "`fct_mixture_lineage`. Every item id leads back to its seed, plan job, prompts and LLM requests.",
        "",
        "## License notes",
        "",
        "BoostQA items are model outputs generated from seed questions: their terms follow the seed sources' "
        "licenses (the `license` column of the seeds) and the terms of the generator and refiner models. The "
        "general-corpus part follows its source's license (the embedded edition is CC-BY-4.0, written by the "
        "project). Check both before redistributing.",
        "",
    ]
    return "\n".join(header + body)
