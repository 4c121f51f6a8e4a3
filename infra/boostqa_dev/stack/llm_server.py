"""The embedded LLM server: vLLM's CPU build (own venv) serving SmolLM2-135M-Instruct converted from its GGUF wheel."""

from __future__ import annotations

import fcntl
import logging
import shutil
import subprocess
from pathlib import Path

from boostqa.errors import StackError
from boostqa.settings import BoostqaSettings
from boostqa_dev.checkout import PROJECT_ROOT
from boostqa_dev.stack.ports import require_free, wait_until
from boostqa_dev.stack.process import ServiceProcess, read_pid, start

log = logging.getLogger(__name__)
CONVERTER = PROJECT_ROOT / "infra" / "llm" / "convert_gguf.py"


def _python(settings: BoostqaSettings) -> Path:
    venv = settings.llm_server.venv
    if venv is None or not (venv / "bin" / "python").exists():
        raise StackError(f"the vLLM venv {venv or '(BOOSTQA_LLM_SERVER__VENV unset)'} is missing: run `make install` "
                         "(or set BOOSTQA_LLM_SERVER__ENABLED=false to run without the local LLM server)")
    return venv / "bin" / "python"


def model_dir(settings: BoostqaSettings) -> Path:
    """Where the converted HF folder is cached (the library's ``served_model_dir``: the adapter's default model)."""
    return settings.served_model_dir


def ensure_model(settings: BoostqaSettings) -> Path:
    """Convert the GGUF weights once (about a minute); later calls return the cached folder."""
    target = model_dir(settings)
    if (target / "config.json").exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    # Several processes may share one models folder (the demo and test workers): one converts, the others wait.
    with (target.parent / f".{target.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (target / "config.json").exists():
            return target
        log_file = settings.state_dir / "logs" / "model_convert.log"
        log_file.parent.mkdir(parents=True, exist_ok=True)
        log.info("converting the SmolLM2 GGUF wheel into %s (once)", target)
        shutil.rmtree(target.with_name(target.name + ".partial"), ignore_errors=True)  # an interrupted conversion
        with log_file.open("w") as handle:
            done = subprocess.run([str(_python(settings)), str(CONVERTER), str(target)],  # noqa: S603
                                  stdout=handle, stderr=subprocess.STDOUT, check=False)
        if done.returncode != 0:
            raise StackError(f"model conversion failed; see {log_file}")
    return target


def resolve_dtype(requested: str, cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """``auto`` -> bfloat16 on CPUs with native bf16 instructions, float32 elsewhere; other values pass through."""
    if requested != "auto":
        return requested
    try:
        flags = cpuinfo.read_text(errors="replace")
    except OSError:
        return "float32"
    return "bfloat16" if ("avx512_bf16" in flags or "amx_bf16" in flags) else "float32"


# Compact JSON (no free whitespace between tokens) saves about 10 output tokens per structured reply.
STRUCTURED_OUTPUTS = '{"backend": "xgrammar", "disable_any_whitespace": true}'


def service(settings: BoostqaSettings) -> ServiceProcess:
    """The vLLM OpenAI-compatible API server process."""
    server = settings.llm_server
    # Status and stop need the spec without the venv: only `up` runs it, and it checks the venv first (_python).
    python = (server.venv or Path("/nonexistent-vllm-venv")) / "bin" / "python"
    argv = [
        str(python), "-m", "vllm.entrypoints.openai.api_server",
        "--model", str(model_dir(settings)), "--served-model-name", server.served_model_name,
        "--host", settings.host, "--port", str(settings.ports.llm),
        "--dtype", resolve_dtype(server.dtype), "--max-model-len", str(server.max_model_len), "--enforce-eager",
        "--structured-outputs-config", STRUCTURED_OUTPUTS,
        # vLLM 0.32 CPU: a seeded request whose token is discarded after a partial (chunked) prefill calls
        # get_offset() on a CPU torch.Generator and kills the engine; whole prefills keep per-request seeds working.
        "--no-enable-chunked-prefill",
    ]
    env = {
        "VLLM_CPU_KVCACHE_SPACE": str(server.kv_cache_gib),
        "VLLM_CPU_OMP_THREADS_BIND": server.omp_threads_bind,
        "HF_HUB_OFFLINE": "1",
        "VLLM_NO_USAGE_STATS": "1",
        "DO_NOT_TRACK": "1",
    }
    return ServiceProcess(name="vllm", argv=argv, state_dir=settings.state_dir, env=env)


def _healthy(settings: BoostqaSettings) -> bool:
    import httpx

    try:
        models = httpx.get(f"{settings.llm_base_url}/models", timeout=5)
    except httpx.HTTPError:
        return False
    return models.status_code == 200 and settings.llm_server.served_model_name in models.text


def up(settings: BoostqaSettings, wait: bool = True) -> str:
    """Convert the model if needed, start vLLM (if not running) and, unless ``wait`` is off, wait until it serves.

    ``wait_ready`` waits later: the stack prepares Airflow while vLLM loads.
    """
    _python(settings)
    ensure_model(settings)
    spec = service(settings)
    if read_pid(spec) is None:
        require_free(settings.host, {"llm": settings.ports.llm})
    pid = start(spec)
    if wait:
        wait_ready(settings)
    return f"pid {pid}, {settings.llm_base_url} serving {settings.llm_server.served_model_name}"


def wait_ready(settings: BoostqaSettings) -> None:
    """Wait until the started server serves the model. Raises StackError on timeout or when it dies."""
    spec = service(settings)
    wait_until(lambda: _healthy(settings), "vLLM server", settings.llm_server.startup_timeout_s, str(spec.log_file),
               alive=lambda: read_pid(spec) is not None)


def health(settings: BoostqaSettings) -> tuple[bool, str]:
    """(healthy, detail) of the LLM server."""
    if not settings.llm_server.enabled:
        return True, "disabled (BOOSTQA_LLM_SERVER__ENABLED=false); roles point elsewhere"
    pid = read_pid(service(settings))
    if pid is None:
        return False, "not running (start it: `boostqa stack up`)"
    if not _healthy(settings):
        return False, f"pid {pid} but {settings.llm_base_url}/models does not answer; see {service(settings).log_file}"
    return True, f"pid {pid}, {settings.llm_base_url} serving {settings.llm_server.served_model_name}"
