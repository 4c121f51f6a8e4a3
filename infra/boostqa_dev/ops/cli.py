"""``boostqa ops``: one-shot commands a production deployment runs (pool import file, lake initialisation)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import typer
from rich.console import Console

from boostqa.errors import BoostqaError

if TYPE_CHECKING:
    from boostqa.benchmarks.mirror import MirrorLayout
    from boostqa.lake.store import LakeConfig

ops_app = typer.Typer(help="Deployment chores: Airflow pools, lake initialisation (docker-compose.yaml's "
                           "airflow-init runs them; on Kubernetes run them once, see infra/README.md), "
                           "benchmark mirrors, and read-only SQL on the marts.", no_args_is_help=True)
err = Console(stderr=True)


@ops_app.command("pools")
def pools(
    slots: Annotated[list[str] | None, typer.Option("--slots", help="NAME=SLOTS, repeatable")] = None,
    output: Annotated[Path | None, typer.Option(help="write here instead of stdout")] = None,
) -> None:
    """Print the pools the DAGs use as `airflow pools import` JSON, sized by --slots."""
    from boostqa_dev.ops.pools import parse_slots, pool_document

    try:
        text = json.dumps(pool_document(parse_slots(slots or [])), indent=2)
    except BoostqaError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(code=1) from exc
    if output is None:
        typer.echo(text)
    else:
        output.write_text(text + "\n")


def _env_lake(endpoint: str | None, bucket: str, region: str) -> LakeConfig:
    """The lake's connection from the AWS variables (what a deployment's one-shot jobs get)."""
    from pydantic import SecretStr

    from boostqa.lake.store import LakeConfig

    try:
        return LakeConfig(endpoint_url=endpoint, bucket=bucket, region=region,
                          access_key=os.environ["AWS_ACCESS_KEY_ID"],
                          secret_key=SecretStr(os.environ["AWS_SECRET_ACCESS_KEY"]))
    except KeyError as exc:
        err.print(f"[red]error:[/] set {exc.args[0]} (the lake's credentials)")
        raise typer.Exit(code=1) from exc


@ops_app.command("init-lake")
def init_lake(
    endpoint: Annotated[str | None, typer.Option(help="S3 endpoint URL (omit for AWS)")] = None,
    bucket: Annotated[str, typer.Option(help="the lake bucket")] = "boostqa",
    region: Annotated[str, typer.Option()] = "us-east-1",
    timeout_s: Annotated[float, typer.Option(help="how long to wait for the endpoint")] = 120.0,
) -> None:
    """Create the lake bucket if missing and write the empty schema parts dbt's sources need (idempotent).

    Credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.
    """
    from boostqa.lake.bootstrap import ensure_schema_parts
    from boostqa.lake.store import ObjectStore
    from boostqa_dev.stack.ports import wait_until

    store = ObjectStore(_env_lake(endpoint, bucket, region))
    try:
        wait_until(store.ensure_bucket, f"bucket {bucket!r} at {endpoint or 'AWS'}", timeout_s, "the S3 service log")
        written = ensure_schema_parts(store)
    except BoostqaError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(code=1) from exc
    typer.echo(f"lake ready: s3://{bucket} ({len(written)} schema parts written)")


MirrorRoot = Annotated[str, typer.Argument(metavar="MIRROR", help="a folder, or s3://bucket/prefix (signed with "
                                                                  "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)")]
Endpoint = Annotated[str | None, typer.Option(help="S3 endpoint URL of an s3:// mirror (omit for AWS)")]


def _mirror_lake(root: str, endpoint: str | None) -> LakeConfig | None:
    return _env_lake(endpoint, root.removeprefix("s3://").split("/")[0], "us-east-1") if root.startswith(
        "s3://") else None


@ops_app.command("check-mirror")
def check_mirror(root: MirrorRoot, endpoint: Endpoint = None) -> None:
    """Read the 12 benchmarks from a Hub-layout mirror as QC and eval will; print the rows of each split.

    Fails, naming the file it looked for, when any config or split production loads is missing.
    """
    from rich.table import Table

    from boostqa.benchmarks.loader import BenchmarkSource, load_items
    from boostqa.benchmarks.registry import BENCHMARKS

    try:
        items = load_items(BenchmarkSource(kind="mirror", mirror=root), splits="all",
                           lake=_mirror_lake(root, endpoint))
    except BoostqaError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(code=1) from exc
    table = Table("benchmark", "Hub id", "scored split", "rows", "few-shot split", "rows")
    for spec in BENCHMARKS:
        rows = {split: sum(1 for i in items if i.benchmark == spec.name and i.split == split)
                for split in (spec.eval_split, spec.fewshot_split)}
        table.add_row(spec.name, spec.hf_path, spec.eval_split, str(rows[spec.eval_split]),
                      spec.fewshot_split or "-", str(rows[spec.fewshot_split]) if spec.fewshot_split else "-")
    Console(width=160).print(table)
    typer.echo(f"mirror {root}: {len(items)} benchmark items")


@ops_app.command("mirror-editions")
def mirror_editions(
    root: MirrorRoot, endpoint: Endpoint = None,
    layout: Annotated[str, typer.Option(help="hub, converted (refs/convert/parquet) or jsonl")] = "hub",
) -> None:
    """Write our small benchmark editions as a Hub-layout mirror (to try the mirror path end to end)."""
    from boostqa.benchmarks.loader import mirror_editions as write_editions
    from boostqa.benchmarks.mirror import open_mirror

    if layout not in ("hub", "converted", "jsonl"):
        raise typer.BadParameter(f"layout must be hub, converted or jsonl, not {layout!r}")
    try:
        written = write_editions(open_mirror(root, _mirror_lake(root, endpoint)), cast("MirrorLayout", layout))
    except BoostqaError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(code=1) from exc
    typer.echo(f"mirror {root}: {written} rows of our editions written")


@ops_app.command("sql")
def sql(query_text: Annotated[str, typer.Argument(metavar="QUERY", help="a read-only query, any schema")]) -> None:
    """Query the warehouse's published snapshot (never blocks dbt, never meets its lock) and print a table."""
    from rich.table import Table

    from boostqa.settings import get_settings
    from boostqa.warehouse import query, warehouse_snapshot
    from boostqa_dev.stack.seaweedfs import lake_config

    settings = get_settings()
    path = settings.warehouse_path
    try:
        with warehouse_snapshot(path) as snapshot:
            rows = query(snapshot, query_text, lake_config(settings))  # staging views read the lake
    except Exception as exc:  # a SQL error is the operator's typo: show it plainly
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(code=1) from exc
    table = Table(*(rows[0].keys() if rows else ["(no rows)"]))
    for row in rows:
        table.add_row(*(str(v) for v in row.values()))
    Console(width=200).print(table)
