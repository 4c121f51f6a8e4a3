"""Connection ids, pools and defaults the DAGs refer to (re-exported from the stack's single definition)."""

from __future__ import annotations

from boostqa.stack.names import DBT_POOL, EVAL_POOL, LLM_CONN_IDS, LLM_POOLS, POOLS, S3_CONN_ID, WAREHOUSE_CONN_ID

OWNER = "boostqa"
DEFAULT_RETRIES = 2

__all__ = [
    "DBT_POOL",
    "DEFAULT_RETRIES",
    "EVAL_POOL",
    "LLM_CONN_IDS",
    "LLM_POOLS",
    "OWNER",
    "POOLS",
    "S3_CONN_ID",
    "WAREHOUSE_CONN_ID",
]
