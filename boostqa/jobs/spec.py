"""A stage job as data: which stage, which run, its params and where the lake is; rendered into one safe command."""

from __future__ import annotations

import json
import re
import shlex
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from boostqa.lake.store import LakeConfig

StageName = Literal["qc", "count_tokens", "export"]
# The driver prints this prefix and the job's JSON result as its last line; the submitter reads it from the logs.
RESULT_PREFIX = "BOOSTQA_JOB_RESULT "


class LakeLocation(BaseModel):
    """Where the lake is, without its credentials: a cluster signs requests with its own (a Secret in production)."""

    model_config = ConfigDict(frozen=True)

    endpoint_url: str | None = None
    bucket: str
    region: str = "us-east-1"

    @classmethod
    def of(cls, config: LakeConfig) -> LakeLocation:
        """The location part of a full lake configuration."""
        return cls(endpoint_url=config.endpoint_url, bucket=config.bucket, region=config.region)

    def with_credentials(self, access_key: str, secret_key: str) -> LakeConfig:
        """The full configuration, signed with the cluster's own credentials."""
        return LakeConfig(endpoint_url=self.endpoint_url, bucket=self.bucket, region=self.region,
                          access_key=access_key, secret_key=SecretStr(secret_key))


class JobSpec(BaseModel):
    """Everything a stage job needs; the same spec always names the same work (stages are idempotent per run)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    stage: StageName
    run_id: str = Field(min_length=1)
    lake: LakeLocation
    params: dict[str, Any] = Field(default_factory=dict, description="the stage's run config, as the DAG gave it")

    def entrypoint(self, python: str = "python") -> str:
        """The shell command Ray runs: the spec travels as one quoted JSON argument, never spliced into the line."""
        return shlex.join([python, "-m", "boostqa.jobs", self.model_dump_json()])

    def submission_id(self, attempt: str) -> str:
        """A Ray submission id unique to this spec and attempt (Ray allows letters, digits, ``-`` and ``_``)."""
        raw = f"boostqa-{self.stage}-{self.run_id}-{attempt}"
        return re.sub(r"[^A-Za-z0-9_-]", "_", raw)


def result_line(result: dict[str, Any]) -> str:
    """The driver's last line: the result marker and one line of JSON."""
    return RESULT_PREFIX + json.dumps(result, sort_keys=True)


def parse_result(logs: str) -> dict[str, Any] | None:
    """The result a driver printed, from its logs (the last marker wins), or None if it printed none."""
    for line in reversed(logs.splitlines()):
        if line.startswith(RESULT_PREFIX):
            return dict(json.loads(line.removeprefix(RESULT_PREFIX)))
    return None
