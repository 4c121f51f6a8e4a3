"""Render lm-eval's own prompts for our local benchmark editions (run in ``.venv-train``; never imports boostqa).

    .venv-train/bin/python tests/integration/lm_eval_prompts.py plan.json out.json

``plan.json`` lists lm-eval tasks: ``{"tasks": [{"task", "data_files": {split: [paths]}, "num_fewshot": [n, ...],
"first_n": bool}], "descriptions": [task, ...]}``. Each task is lm-eval's shipped YAML (found by lm-eval's
``TaskManager``, ``include``s, ``process_docs`` and ``!function`` utils resolved by its own loader) with only the
dataset pointed at our jsonl files through the ``json`` builder; splits we have no file for are dropped. Its
requests come from ``ConfigurableTask.build_all_requests``, so the contexts and continuations are exactly the
ones lm-eval would send a model. ``first_n`` replaces a random few-shot sampler by lm-eval's ``first_n`` one: the
examples are then the first ones of the few-shot split, as ours are, and only how each is written is compared.
``out.json``: ``{"requests": {task: {n: [[doc_id, idx, arguments], ...]}}, "descriptions": {task: text}}``.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

import lm_eval.tasks
from lm_eval.api.task import ConfigurableTask
from lm_eval.tasks import TaskManager
from lm_eval.tasks._yaml_loader import load_yaml

# lm-eval's task folders we need: indexing only these takes a second, all 14k tasks half a minute
TASK_DIRS = ("mmlu/default", "cmmlu", "ceval", "arc", "hellaswag", "winogrande", "piqa", "openbookqa",
             "commonsense_qa", "gsm8k", "hendrycks_math")
SPLIT_KEYS = ("training_split", "validation_split", "test_split", "fewshot_split")


def task_manager() -> TaskManager:
    """lm-eval's task index over the shipped task folders of our benchmarks."""
    root = Path(lm_eval.tasks.__file__).parent
    return TaskManager(include_defaults=False, include_path=[str(root / d) for d in TASK_DIRS])


def shipped_config(manager: TaskManager, name: str) -> dict[str, Any]:
    """The task's config as lm-eval's factory loads it (includes merged, functions resolved)."""
    config = dict(load_yaml(manager.task_index[name].yaml_path, resolve_func=True))
    for key in ("tag", "group", "task_list"):
        config.pop(key, None)
    return config


def local_task(manager: TaskManager, name: str, data_files: dict[str, list[str]], first_n: bool
               ) -> ConfigurableTask:
    """lm-eval's task ``name`` reading our jsonl files instead of the Hub."""
    config = shipped_config(manager, name)
    for key in SPLIT_KEYS:
        if config.get(key) is not None and config[key] not in data_files:
            config[key] = None
    config |= {"dataset_path": "json", "dataset_name": None, "dataset_kwargs": {"data_files": data_files}}
    if first_n:
        config["fewshot_config"] = {**(config.get("fewshot_config") or {}), "sampler": "first_n"}
    return ConfigurableTask(config=config)


def requests(task: ConfigurableTask, num_fewshot: int) -> list[list[Any]]:
    """[doc_id, idx, arguments] of every request lm-eval builds with ``num_fewshot`` examples."""
    task.set_config(key="num_fewshot", value=num_fewshot)
    task.set_fewshot_seed(1234)
    task.build_all_requests(rank=0, world_size=1, cache_requests=False)
    return [[i.doc_id, i.idx, list(i.arguments) if isinstance(i.arguments, tuple) else i.arguments]
            for i in task.instances]


def main(plan_path: Path, out_path: Path) -> None:
    """Render every planned task and description into ``out_path``."""
    logging.disable(logging.WARNING)
    plan = json.loads(plan_path.read_text(encoding="utf-8"))
    manager = task_manager()
    rendered: dict[str, dict[int, list[list[Any]]]] = {}
    for entry in plan["tasks"]:
        task = local_task(manager, entry["task"], entry["data_files"], entry.get("first_n", False))
        rendered[entry["task"]] = {n: requests(task, n) for n in entry["num_fewshot"]}
    descriptions = {name: shipped_config(manager, name).get("description", "") for name in plan["descriptions"]}
    out_path.write_text(json.dumps({"requests": rendered, "descriptions": descriptions}, ensure_ascii=False),
                        encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
