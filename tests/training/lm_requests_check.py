"""Run in .venv-train by test_lm_requests.py: batched, deduplicated answers equal one-at-a-time answers."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

from training.lm_requests import CPU_BATCH, auto_batch_size, encode_pair, pick_device, pick_dtype, run
from training.lm_requests import main as main_cli

WORDS = ["<unk>", "</s>", "Question", ":", "Answer", "A", "B", "C", "the", "sky", "is", "blue", "green", "red",
         "grass", "\n", "1", "2", "3"]


def _model(folder: Path) -> None:
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(WORDS)}, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Punctuation()])
    PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="</s>", unk_token="<unk>").save_pretrained(folder)
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(WORDS), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=64)
    LlamaForCausalLM(config).save_pretrained(folder)


def main(work: Path) -> None:
    _model(work / "hf")
    contexts = ["Question : the sky is Answer :", "Question : the grass is", "the sky is blue the grass is"]
    requests = [{"request_id": f"{i}#{j}", "kind": "loglikelihood", "context": c, "continuation": f" {w}"}
                for i, c in enumerate(contexts) for j, w in enumerate(["A", "blue green", "red"])]
    requests.append({"request_id": "g", "kind": "generate", "context": "the sky is", "until": ["grass"],
                     "max_new_tokens": 6})
    (work / "req.jsonl").write_text("".join(json.dumps(r) + "\n" for r in requests))
    run(work / "hf", work / "req.jsonl", work / "resp.jsonl", batch_size=2)
    answers = {r["request_id"]: r for r in map(json.loads, (work / "resp.jsonl").read_text().splitlines())}
    model = LlamaForCausalLM.from_pretrained(work / "hf").eval()
    tokenizer = PreTrainedTokenizerFast.from_pretrained(work / "hf")
    for request in requests[:-1]:  # the reference: one request at a time, no padding
        context, continuation = encode_pair(tokenizer, request["context"], request["continuation"])
        ids = torch.tensor([context + continuation])
        with torch.no_grad():
            logprobs = torch.log_softmax(model(ids).logits[0, :-1], dim=-1)[-len(continuation):]
        expected = float(logprobs.gather(1, torch.tensor(continuation)[:, None]).sum())
        got = answers[request["request_id"]]
        assert abs(got["logprob"] - expected) < 1e-4, (request, got, expected)
        assert got["tokens"] == len(continuation)
    assert "grass" not in answers["g"]["text"]
    # Where there is no GPU the defaults are the CPU in fp32 and a fixed batch; --batch-size auto answers the same.
    assert pick_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert pick_dtype("auto", torch.device("cpu")) == torch.float32
    assert auto_batch_size(model, 16, torch.device("cpu")) == CPU_BATCH
    main_cli(["--model", str(work / "hf"), "--requests", str(work / "req.jsonl"), "--out", str(work / "auto.jsonl"),
              "--batch-size", "auto", "--device", "cpu", "--dtype", "auto"])
    auto = {r["request_id"]: r for r in map(json.loads, (work / "auto.jsonl").read_text().splitlines())}
    assert auto.keys() == answers.keys() and auto["g"] == answers["g"]
    assert all(abs(auto[k]["logprob"] - answers[k]["logprob"]) < 1e-4 for k in answers if k != "g")
    print("ok", len(answers))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
