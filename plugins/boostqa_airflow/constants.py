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

# The run's date: its logical date (scheduled and `airflow dags test` runs), else the day it was triggered. Asset-
# triggered runs have no logical date in Airflow 3, so `{{ ds }}` would not render there.
_RUN_DAY = "(dag_run.logical_date or dag_run.run_after)"
RUN_DATE = "{{ " + _RUN_DAY + " | ds }}"
RUN_DATE_NODASH = "{{ " + _RUN_DAY + " | ds_nodash }}"

__all__ = [
    "RUN_DATE",
    "RUN_DATE_NODASH",
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
