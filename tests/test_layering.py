"""docs/architecture.md's layering, enforced: boostqa imports no orchestration or GPU stack; modules stay small."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from boostqa_dev.checkout import PROJECT_ROOT

FORBIDDEN = ("airflow", "cosmos", "dbt", "torch", "deepspeed", "boostqa_airflow", "training")


def _modules(package: str) -> list[str]:
    root = PROJECT_ROOT / package
    return [
        ".".join(path.relative_to(PROJECT_ROOT).with_suffix("").parts).removesuffix(".__init__")
        for path in sorted(root.rglob("*.py"))
    ]


def test_importing_all_of_boostqa_loads_no_orchestration_or_gpu_stack() -> None:
    code = (
        "import importlib, sys\n"
        f"for name in {_modules('boostqa')!r}: importlib.import_module(name)\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r}))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_import_linter_contracts_are_kept() -> None:
    lint = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(lint)], capture_output=True, text=True, cwd=PROJECT_ROOT, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dags_import_only_the_sdk_cosmos_and_the_adapter() -> None:
    allowed = ("airflow.sdk", "airflow.providers.standard", "cosmos", "boostqa_airflow", "__future__", "datetime")
    for path in (PROJECT_ROOT / "dags").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert node.module.startswith(allowed), f"{path.name} imports {node.module}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    assert alias.name.startswith(allowed), f"{path.name} imports {alias.name}"


def test_modules_are_small_and_say_their_role() -> None:
    for package in ("boostqa", "plugins/boostqa_airflow", "dags", "training"):
        for path in (PROJECT_ROOT / package).rglob("*.py"):
            source = path.read_text()
            assert len(source.splitlines()) <= 300, f"{path} is over 300 lines"
            assert ast.get_docstring(ast.parse(source)), f"{path} has no module docstring"


def test_the_dev_stack_modules_are_small_and_say_their_role_too() -> None:
    for path in (PROJECT_ROOT / "infra" / "boostqa_dev").rglob("*.py"):
        source = path.read_text()
        assert len(source.splitlines()) <= 300, f"{path} is over 300 lines"
        assert ast.get_docstring(ast.parse(source)), f"{path} has no module docstring"
