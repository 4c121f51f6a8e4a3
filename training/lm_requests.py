"""The model side of benchmark evaluation: answer a requests file with an HF folder, writing a responses file.

The requests ask for log-likelihoods and greedy generations. boostqa builds the requests and scores the responses; this
process only runs the model (torch lives here, never in boostqa).

    python -m training.lm_requests --model .state/models/hf --requests req.jsonl --out resp.jsonl

Log-likelihoods follow lm-evaluation-harness's HF backend: context and continuation are encoded as
``enc(context + continuation)`` split at ``len(enc(context))`` (trailing context spaces move to the
continuation), no special tokens, the input is the whole sequence minus its last token, and a request
reports the summed log-probability of the continuation tokens and whether greedy decoding would produce them.

The model runs on CUDA when there is a GPU (``--device auto``), in bf16 there (``--dtype auto``; fp32 on the CPU),
with the largest batch that fits its memory (``--batch-size auto``: tried from 64 down, halving on out-of-memory,
as lm-eval's auto batch size does); the CPU is the default wherever there is no GPU.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, StoppingCriteria, StoppingCriteriaList


class StopOnStrings(StoppingCriteria):
    """Per sequence: stop once the generated text contains a stop string.

    transformers' own ``stop_strings`` needs a byte-level BPE vocabulary; this works with any tokenizer.
    """

    def __init__(self, tokenizer: Any, stops: list[str], prompt_length: int) -> None:
        self.tokenizer, self.stops, self.prompt_length = tokenizer, stops, prompt_length

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor, **kwargs: Any) -> torch.BoolTensor:
        """One flag per sequence: whether its generated text holds a stop string."""
        texts = self.tokenizer.batch_decode(input_ids[:, self.prompt_length :], skip_special_tokens=True)
        return torch.tensor([any(stop in text for stop in self.stops) for text in texts], dtype=torch.bool,
                            device=input_ids.device)


def encode_pair(tokenizer: Any, context: str, continuation: str) -> tuple[list[int], list[int]]:
    """Token ids of context and continuation, split the way lm-eval splits them."""
    spaces = len(context) - len(context.rstrip())
    if spaces:
        context, continuation = context[:-spaces], context[-spaces:] + continuation
    whole = tokenizer.encode(context + continuation, add_special_tokens=False)
    context_ids = tokenizer.encode(context, add_special_tokens=False)
    return context_ids, whole[len(context_ids):]


def _progress(done: int, total: int, started: float, what: str) -> None:
    if done == total or done % 64 == 0:
        rate = done / max(time.perf_counter() - started, 1e-9)
        print(f"[lm_requests] {what} {done}/{total} ({rate:.1f}/s)", file=sys.stderr, flush=True)


@torch.no_grad()
def loglikelihoods(model: Any, tokenizer: Any, requests: list[dict[str, Any]], max_length: int,
                   batch_size: int) -> dict[str, dict[str, Any]]:
    """Request id -> {logprob, is_greedy, tokens}.

    Requests whose model input is the same (one-token continuations of one context) share one forward pass.
    """
    targets: dict[tuple[int, ...], list[tuple[str, list[int]]]] = {}
    for request in requests:
        context_ids, continuation_ids = encode_pair(tokenizer, request["context"], request["continuation"])
        whole = (context_ids + continuation_ids)[-(max_length + 1):]
        targets.setdefault(tuple(whole[:-1]), []).append((request["request_id"], continuation_ids))
    inputs = sorted(targets, key=len, reverse=True)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    results: dict[str, dict[str, Any]] = {}
    started = time.perf_counter()
    for start in range(0, len(inputs), batch_size):
        batch = inputs[start : start + batch_size]
        width = len(batch[0])
        ids = torch.full((len(batch), width), pad, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for row, sequence in enumerate(batch):
            ids[row, : len(sequence)] = torch.tensor(sequence)
            mask[row, : len(sequence)] = 1
        logits = model(input_ids=ids.to(model.device), attention_mask=mask.to(model.device)).logits
        logprobs = torch.log_softmax(logits.float(), dim=-1).cpu()
        for row, sequence in enumerate(batch):
            for request_id, continuation in targets[sequence]:
                n = len(continuation)
                rows = logprobs[row, len(sequence) - n : len(sequence)]
                wanted = torch.tensor(continuation)
                results[request_id] = {
                    "request_id": request_id, "tokens": n,
                    "logprob": float(rows.gather(1, wanted[:, None]).sum()),
                    "is_greedy": bool((rows.argmax(dim=-1) == wanted).all()),
                }
        _progress(min(start + batch_size, len(inputs)), len(inputs), started, "log-likelihood inputs")
    return results


@torch.no_grad()
def generations(model: Any, tokenizer: Any, requests: list[dict[str, Any]], max_length: int,
                batch_size: int) -> dict[str, dict[str, Any]]:
    """Request id -> {text}: greedy continuation, cut at the first stop sequence."""
    tokenizer.padding_side = tokenizer.truncation_side = "left"  # generation appends on the right; keep the end
    results: dict[str, dict[str, Any]] = {}
    started = time.perf_counter()
    ordered = sorted(requests, key=lambda r: len(r["context"]), reverse=True)
    for start in range(0, len(ordered), batch_size):
        batch = ordered[start : start + batch_size]
        budget = max(r["max_new_tokens"] for r in batch)
        encoded = tokenizer([r["context"] for r in batch], return_tensors="pt", padding=True,
                            add_special_tokens=False, truncation=True, max_length=max_length - budget
                            ).to(model.device)
        stops = sorted({s for r in batch for s in r["until"]})
        stopping = StoppingCriteriaList([StopOnStrings(tokenizer, stops, encoded["input_ids"].shape[1])])
        output = model.generate(**encoded, max_new_tokens=budget, do_sample=False, stopping_criteria=stopping,
                                pad_token_id=tokenizer.pad_token_id)
        for row, request in enumerate(batch):
            text = tokenizer.decode(output[row, encoded["input_ids"].shape[1]:], skip_special_tokens=True)
            for stop in request["until"]:
                text = text.split(stop)[0]
            results[request["request_id"]] = {"request_id": request["request_id"], "text": text}
        _progress(min(start + batch_size, len(ordered)), len(ordered), started, "generations")
    return results


CPU_BATCH = 8
MAX_AUTO_BATCH = 64


def pick_device(device: str) -> torch.device:
    """``auto``: the GPU when there is one, else the CPU; ``cuda`` without a GPU is refused."""
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda, but torch sees no GPU here (use auto or cpu)")
    return torch.device(device)


def pick_dtype(dtype: str, device: torch.device) -> torch.dtype:
    """``auto``: bf16 on a GPU that supports it (fp16 on one that does not), fp32 on the CPU."""
    if dtype == "auto":
        if device.type != "cuda":
            return torch.float32
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[dtype]


def auto_batch_size(model: Any, width: int, device: torch.device, largest: int = MAX_AUTO_BATCH) -> int:
    """The largest batch (a power of two up to ``largest``) whose forward at ``width`` tokens fits the GPU's memory.

    Tried from the top, halving on out-of-memory (lm-eval's approach); the CPU has no such limit worth probing.
    """
    if device.type != "cuda":
        return CPU_BATCH
    size = largest
    while size > 1:
        try:
            with torch.no_grad():
                model(input_ids=torch.zeros((size, width), dtype=torch.long, device=device))
            break
        except torch.cuda.OutOfMemoryError:
            size //= 2
        finally:
            torch.cuda.empty_cache()
    print(f"[lm_requests] batch size {size} (auto, {width} tokens)", file=sys.stderr, flush=True)
    return size


def run(model_dir: Path, requests_path: Path, out_path: Path, batch_size: int | None = CPU_BATCH,
        device: str = "auto", dtype: str = "auto") -> int:
    """Answer every request of ``requests_path`` into ``out_path`` (written atomically); returns the count.

    ``batch_size`` None: the largest that fits the device (:func:`auto_batch_size`).
    """
    # every core unless OMP_NUM_THREADS says otherwise (a process sharing the cores, e.g. beside a vLLM server)
    torch.set_num_threads(max(1, int(os.environ.get("OMP_NUM_THREADS") or os.cpu_count() or 1)))
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    where = pick_device(device)
    precision = pick_dtype(dtype, where)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=precision).to(where).eval()
    max_length = int(getattr(model.config, "max_position_embeddings", 2048))
    requests = [json.loads(line) for line in requests_path.read_text(encoding="utf-8").splitlines() if line]
    print(f"[lm_requests] {len(requests)} requests on {where} in {str(precision).removeprefix('torch.')}",
          file=sys.stderr, flush=True)
    if batch_size is None:
        widths = [len(tokenizer.encode(r["context"] + r.get("continuation", ""), add_special_tokens=False))
                  + int(r.get("max_new_tokens", 0)) for r in requests]
        batch_size = auto_batch_size(model, min(max(widths, default=1), max_length), where)
    answered = loglikelihoods(model, tokenizer, [r for r in requests if r["kind"] == "loglikelihood"], max_length,
                              batch_size)
    answered |= generations(model, tokenizer, [r for r in requests if r["kind"] == "generate"], max_length,
                            batch_size)
    partial = out_path.with_name(out_path.name + ".partial")
    with partial.open("w", encoding="utf-8") as handle:
        for request in requests:
            handle.write(json.dumps(answered[request["request_id"]], ensure_ascii=False) + "\n")
    os.replace(partial, out_path)
    return len(requests)


def main(argv: list[str] | None = None) -> None:
    """Command line: --model DIR --requests FILE --out FILE [--batch-size N|auto] [--device D] [--dtype T]."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--requests", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--batch-size", default=str(CPU_BATCH), help="a number, or auto (largest that fits)")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    parser.add_argument("--dtype", choices=("auto", "float32", "bfloat16", "float16"), default="auto")
    args = parser.parse_args(argv)
    batch_size = None if args.batch_size == "auto" else int(args.batch_size)
    count = run(args.model, args.requests, args.out, batch_size, args.device, args.dtype)
    print(f"[lm_requests] answered {count} requests -> {args.out}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
