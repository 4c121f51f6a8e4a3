"""Connection ids, pools and defaults the DAGs refer to (re-exported from the stack's single definition)."""

from __future__ import annotations

from boostqa.stack.names import (
    ALERTS_CONN_ID,
    DBT_POOL,
    EVAL_POOL,
    LLM_CONN_IDS,
    LLM_POOLS,
    POOLS,
    S3_CONN_ID,
    WAREHOUSE_CONN_ID,
)

OWNER = "boostqa"

__all__ = [
    "ALERTS_CONN_ID",
    "DBT_POOL",
    "EVAL_POOL",
    "LLM_CONN_IDS",
    "LLM_POOLS",
    "OWNER",
    "POOLS",
    "S3_CONN_ID",
    "WAREHOUSE_CONN_ID",
]
