"""The checkout's layout as settings: the paths the library leaves to its deployment, set for a run from here."""

from __future__ import annotations

import os
from pathlib import Path

from boostqa.settings import get_settings

# infra/boostqa_dev/checkout.py -> the repository root (the dev stack only ever runs from a checkout).
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def checkout_env(root: Path = PROJECT_ROOT) -> dict[str, str]:
    """``BOOSTQA_*`` values pointing the library at this checkout: state folder, dbt project, venvs, templates."""
    return {
        "BOOSTQA_STATE_DIR": str(root / ".state"),
        "BOOSTQA_DBT_PROJECT_DIR": str(root / "dbt_project"),
        "BOOSTQA_LLM_SERVER__VENV": str(root / ".venv-vllm"),
        "BOOSTQA_TRAINER__VENV": str(root / ".venv-train"),
        "BOOSTQA_TRAINER__CODE_DIR": str(root),
        # Shared by every state folder (tests use private ones): DeepSpeed compiles its CPU op once, at install.
        "BOOSTQA_TRAINER__TORCH_EXTENSIONS_DIR": str(root / ".state" / "torch_extensions"),
        "BOOSTQA_TRAINER__KUBERNETES_TEMPLATE": str(root / "infra" / "k8s" / "training-job.yaml"),
        "BOOSTQA_TRAINER__SLURM_TEMPLATE": str(root / "infra" / "slurm" / "train.sbatch"),
    }


def is_checkout(root: Path = PROJECT_ROOT) -> bool:
    """True when this package runs from a checkout (a wheel install has no dags/ or dbt_project/ beside it)."""
    return (root / "dags").is_dir() and (root / "dbt_project" / "dbt_project.yml").is_file()


def use_checkout_defaults() -> None:
    """Put the checkout's values into this process's environment where it has none.

    An explicit ``BOOSTQA_*`` wins. Settings read from now on, and every child process (dbt, Airflow, the
    trainer), see them.

    Outside a checkout nothing is set: the environment must then hold what the settings require.
    """
    if not is_checkout():
        return
    for name, value in checkout_env().items():
        os.environ.setdefault(name, value)
    get_settings.cache_clear()
