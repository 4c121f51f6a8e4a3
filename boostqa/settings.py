"""Environment-sourced, non-secret defaults (``BOOSTQA_`` prefix), built on first use, never at import."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from boostqa.errors import ConfigError
from boostqa.package_data import resource_path

RESOURCES = resource_path()


class PortSettings(BaseModel):
    """Loopback ports of the embedded stack; change them when one is taken (``BOOSTQA_PORTS__S3=...``)."""

    s3: int = 8333
    seaweed_master: int = 9333
    seaweed_volume: int = 9340
    seaweed_filer: int = 8888
    seaweed_admin: int = 23646
    seaweed_metrics: int = 9327
    llm: int = 8000
    airflow_api: int = 8080
    dbt_docs: int = 8081
    ray_dashboard: int = 8265  # the Ray Jobs API (the boostqa_ray connection)
    ray_gcs: int = 6379
    ray_client: int = 10001
    ray_dashboard_agent: int = 52365


class LakeSettings(BaseModel):
    """Object-store defaults for the embedded SeaweedFS (production uses the ``boostqa_s3`` connection)."""

    bucket: str = "boostqa"
    region: str = "us-east-1"
    # Dev-only credentials of the embedded store; production secrets come from Airflow connections.
    access_key: str = "boostqa"
    secret_key: str = "boostqa-dev-secret"


class LlmServerSettings(BaseModel):
    """The embedded vLLM CPU server (``BOOSTQA_LLM_SERVER__*``); production points the role connections elsewhere."""

    enabled: bool = True
    venv: Path | None = Field(default=None, description="the vLLM CPU venv (the dev stack sets <checkout>/.venv-vllm)")
    served_model_name: str = "smollm2-135m-instruct"
    max_model_len: int = 2048
    kv_cache_gib: int = 1
    omp_threads_bind: str = "0-1"
    max_concurrency: int = Field(default=16, ge=1, description="requests per role in flight against this server "
                                 "(continuous batching: 16 gives about 1.4x the throughput of 4 on 2 cores)")
    dtype: str = Field(default="auto", description="auto: bfloat16 where the CPU has native bf16 (AVX512-BF16/AMX), "
                       "else float32 (emulated bf16 halves the token rate on AVX2-only CPUs)")
    startup_timeout_s: float = 300.0
    models_dir: Path | None = Field(default=None, description="converted-model cache (default: <state_dir>/models)")


class RaySettings(BaseModel):
    """The embedded Ray cluster (``BOOSTQA_RAY__*``); production points the ``boostqa_ray`` connection elsewhere."""

    enabled: bool = True
    num_cpus: int | None = Field(default=None, ge=1, description="CPUs the head offers to tasks (default: all)")
    object_store_mb: int = Field(default=512, ge=78, description="shared-memory object store (Ray's minimum is "
                                 "78 MB); blocks beyond it spill to <state_dir>/ray")
    startup_timeout_s: float = 180.0


class TrainerSettings(BaseModel):
    """The trainer's settings (``BOOSTQA_TRAINER__*``).

    What a cluster run asks for per node (Kubernetes Job, Slurm script; GPUs come from the DAG), the templates those
    launchers render, and where a local run finds the training code and venv.

    The paths have no default a library could know: the dev stack sets its checkout's, the Airflow image its own.
    """

    image: str = Field(default="boostqa/trainer:0.1.0", description="built from infra/docker/trainer.Dockerfile; "
                       "your registry's copy")
    cpus: int = Field(default=96, ge=1)
    memory: str = Field(default="1800Gi", description="Kubernetes quantity")
    kubernetes_template: Path | None = Field(default=None, description="the Job template the kubernetes launcher "
                                             "renders (infra/k8s/training-job.yaml)")
    slurm_template: Path | None = Field(default=None, description="the sbatch template the slurm launcher renders "
                                        "(infra/slurm/train.sbatch)")
    venv: Path | None = Field(default=None, description="the training venv (torch, DeepSpeed) of the local launcher "
                              "and of evaluating an HF folder (the dev stack: <checkout>/.venv-train)")
    code_dir: Path | None = Field(default=None, description="the folder holding training/, where those run")
    torch_extensions_dir: Path | None = Field(default=None, description="DeepSpeed's JIT-compiled ops of local runs "
                                              "(default: <state_dir>/torch_extensions)")


class BudgetSettings(BaseModel):
    """LLM spend budgets per stage, per run and per UTC day (``BOOSTQA_BUDGET__*``); unset = no cap.

    Tokens are prompt + completion tokens of calls that reached a server (cache replays are free); USD is priced
    with the ``llm_prices`` dbt seed. DAG params of the same names override these per run.
    """

    synthesize_run_tokens: int | None = Field(default=None, ge=0, description="tokens one synthesis run may spend")
    synthesize_run_usd: float | None = Field(default=None, ge=0, description="USD one synthesis run may spend")
    synthesize_day_tokens: int | None = Field(default=None, ge=0, description="tokens all synthesis runs started "
                                              "on one UTC day may spend together")
    synthesize_day_usd: float | None = Field(default=None, ge=0, description="USD all synthesis runs started on "
                                             "one UTC day may spend together")
    annotate_run_tokens: int | None = Field(default=None, ge=0)
    annotate_run_usd: float | None = Field(default=None, ge=0)
    annotate_day_tokens: int | None = Field(default=None, ge=0)
    annotate_day_usd: float | None = Field(default=None, ge=0)
    synthesize_prior_prompt_tokens_per_job: int = Field(default=2000, ge=0, description="projection when no run "
                                                        "of the stage has a ledger yet: prompt tokens per job")
    synthesize_prior_completion_tokens_per_job: int = Field(default=1500, ge=0)
    annotate_prior_prompt_tokens_per_job: int = Field(default=800, ge=0, description="per seed and sample")
    annotate_prior_completion_tokens_per_job: int = Field(default=100, ge=0)
    history_runs: int = Field(default=5, ge=1, description="latest runs of a stage the tokens per job are measured on")
    price_version: str | None = Field(default=None, description="price list of the llm_prices seed (default: the "
                                      "dbt var llm_price_version of dbt_project.yml)")
    default_usd_per_million_prompt_tokens: float | None = Field(default=None, ge=0, description="price of a model "
                                                                "without a row in the price list (unset: such a "
                                                                "model under a USD cap is a configuration error)")
    default_usd_per_million_completion_tokens: float | None = Field(default=None, ge=0)


class BoostqaSettings(BaseSettings):
    """All environment-driven defaults of the project."""

    model_config = SettingsConfigDict(env_prefix="BOOSTQA_", env_nested_delimiter="__", extra="ignore")

    # Required: a library has no folder of its own to write to (the dev stack sets <checkout>/.state, the image its
    # volume); a silent default would scatter caches and warehouses wherever a process happened to start.
    state_dir: Path = Field(description="LLM cache, warehouse file, local exports, the embedded stack's logs and PIDs")
    dbt_project_dir: Path | None = Field(default=None, description="the dbt project (it writes target/ there, so "
                                         "it cannot be package data): dbt runs, the price seed, cosmos")
    seed_sources: Path = Field(default=RESOURCES / "seed_sources.yaml", description="seed source config")
    ports: PortSettings = PortSettings()
    lake: LakeSettings = LakeSettings()
    llm_server: LlmServerSettings = LlmServerSettings()
    ray: RaySettings = RaySettings()
    trainer: TrainerSettings = TrainerSettings()
    budget: BudgetSettings = BudgetSettings()
    host: str = "127.0.0.1"
    training_root: Path | None = Field(default=None, description="folder Airflow and the training pods or nodes "
                                       "share (a volume, a cluster file system): checkpoints and the synced "
                                       "mixture of Kubernetes/Slurm runs; default: state_dir")
    runbook_url: str = Field(default="docs/runbook.md", description="where alerts link the runbook: set the URL "
                             "of docs/runbook.md in your repository host so links open from Slack or email")

    @property
    def warehouse_path(self) -> Path:
        """The DuckDB file dbt writes (dbt is its only writer)."""
        return self.state_dir / "warehouse" / "boostqa.duckdb"

    @property
    def served_model_dir(self) -> Path:
        """The embedded server's model as an HF folder (its converted cache): the default tokenizer and baseline."""
        return (self.llm_server.models_dir or self.state_dir / "models") / self.llm_server.served_model_name

    @property
    def training_dir(self) -> Path:
        """Where training runs write (``training_root``, else the state folder)."""
        return self.training_root or self.state_dir

    @property
    def airflow_home(self) -> Path:
        """AIRFLOW_HOME of the embedded stack (SQLite metadata DB)."""
        return self.state_dir / "airflow"

    @property
    def llm_base_url(self) -> str:
        """OpenAI-compatible base URL of the embedded LLM server."""
        return f"http://{self.host}:{self.ports.llm}/v1"

    @property
    def llm_cache_path(self) -> Path:
        """The engine's response cache (content-addressed; persisted across runs)."""
        return self.state_dir / "llm" / "response_cache.sqlite"

    @property
    def ray_address(self) -> str:
        """HTTP address of the embedded Ray cluster's Jobs API (its dashboard)."""
        return f"http://{self.host}:{self.ports.ray_dashboard}"

    @property
    def s3_endpoint(self) -> str:
        """HTTP endpoint of the embedded S3 API."""
        return f"http://{self.host}:{self.ports.s3}"


def require_path(value: Path | None, env_var: str) -> Path:
    """A path setting the caller cannot do without.

    Raises:
        ConfigError: it is unset (the message names its environment variable).
    """
    if value is None:
        raise ConfigError(f"{env_var} is not set: the dev stack sets it from the checkout (boostqa_dev.checkout), "
                          "a deployment in its environment (infra/docker/airflow.Dockerfile)")
    return value


@lru_cache(maxsize=1)
def get_settings() -> BoostqaSettings:
    """Return the process-wide settings, read from the environment on first call."""
    return BoostqaSettings()  # type: ignore[call-arg]  # state_dir comes from the environment (BOOSTQA_STATE_DIR)
