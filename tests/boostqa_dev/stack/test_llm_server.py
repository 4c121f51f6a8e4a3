"""The vLLM service command line: dtype choice by CPU features, compact structured output."""

from __future__ import annotations

from pathlib import Path

import pytest

from boostqa_dev.stack.llm_server import resolve_dtype, service
from tests.conftest import isolated_settings


@pytest.mark.parametrize(("flags", "expected"), [
    ("fpu sse avx2 fma", "float32"),
    ("avx2 avx512f avx512_bf16", "bfloat16"),
    ("avx2 amx_bf16 amx_tile", "bfloat16"),
])
def test_auto_dtype_uses_bf16_only_with_native_support(tmp_path: Path, flags: str, expected: str) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(f"processor : 0\nflags : {flags}\n")
    assert resolve_dtype("auto", cpuinfo) == expected


def test_explicit_dtype_and_unreadable_cpuinfo(tmp_path: Path) -> None:
    assert resolve_dtype("bfloat16", tmp_path / "missing") == "bfloat16"
    assert resolve_dtype("auto", tmp_path / "missing") == "float32"


def test_service_argv_carries_dtype_and_compact_json(tmp_path: Path) -> None:
    base = isolated_settings(tmp_path)
    settings = base.model_copy(update={"llm_server": base.llm_server.model_copy(update={"dtype": "float32"})})
    argv = service(settings).argv
    assert argv[argv.index("--dtype") + 1] == "float32"
    assert "disable_any_whitespace" in argv[argv.index("--structured-outputs-config") + 1]
    assert "--no-enable-chunked-prefill" in argv  # per-request seeds crash the CPU engine otherwise
