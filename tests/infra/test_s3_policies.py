"""The S3 policies in infra/s3 have IAM's shape and grant each role exactly what its code does, no more."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from boostqa.lake.commits import marker_globs
from boostqa.lake.tables import LAKE_TABLES
from boostqa_dev.checkout import PROJECT_ROOT
from tests.infra import lake_keys
from tests.infra.k8s_docs import walk
from tests.infra.s3_policy import (
    BUCKET_ARN,
    POLICY_DIR,
    allowed,
    can,
    can_list,
    load_policy,
    resources,
    roles,
    statements,
)

SCHEMA = json.loads((Path(__file__).parent / "iam_policy.schema.json").read_text())
ROLES = roles()
ACTIONS = {"s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket", "s3:AbortMultipartUpload"}
DENY_ONLY = {"s3:DeleteObjectVersion", "s3:PutObjectAcl"}
BOOTSTRAP = set(lake_keys.bootstrap_keys())
ALL_WRITTEN = sorted({k for keys in lake_keys.WRITES.values() for k in keys} - BOOTSTRAP)


def test_there_is_one_policy_per_role_and_code_samples_for_each() -> None:
    assert ROLES == sorted(lake_keys.WRITES), "each policy needs its role's sample keys in tests/infra/lake_keys.py"


@pytest.mark.parametrize("role", ROLES)
def test_policy_matches_the_iam_document_schema(role: str) -> None:
    raw = json.loads((POLICY_DIR / f"{role}.json").read_text())
    jsonschema.Draft202012Validator(SCHEMA).validate(raw)


def test_the_iam_schema_rejects_wildcards_principals_and_wrong_versions() -> None:
    validator = jsonschema.Draft202012Validator(SCHEMA)
    good = json.loads((POLICY_DIR / "report.json").read_text())
    for broken in ({**good, "Version": "2008-10-17"},
                   {**good, "Statement": [{**good["Statement"][0], "Action": "s3:*"}]},
                   {**good, "Statement": [{**good["Statement"][0], "Resource": "*"}]},
                   {**good, "Statement": [{**good["Statement"][0], "Principal": "*"}]},
                   {**good, "Statement": [{**good["Statement"][0], "Effect": "allow"}]}):
        assert not validator.is_valid(broken)


@pytest.mark.parametrize("role", ROLES)
def test_no_wildcard_action_or_resource_and_every_listing_is_prefix_scoped(role: str) -> None:
    for statement in load_policy(role)["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert set(actions) <= ACTIONS | (DENY_ONLY if statement["Effect"] == "Deny" else set()), actions
        for resource in resources(statement):
            assert resource != "*" and resource.startswith(BUCKET_ARN), f"{role}: {resource} is not our bucket"
            if statement["Effect"] == "Allow":  # a Deny may cover the whole bucket; an Allow names a prefix
                assert not resource.removeprefix(f"{BUCKET_ARN}/").startswith("*"), f"{role}: {resource}"
        if "s3:ListBucket" in actions:
            assert resources(statement) == [BUCKET_ARN]
            assert statement["Condition"]["StringLike"]["s3:prefix"], f"{role} lists without a prefix condition"
        elif statement["Effect"] == "Allow":
            assert all(r.startswith(f"{BUCKET_ARN}/") for r in resources(statement)), "object action on bucket ARN"


def test_the_evaluator_lets_an_explicit_deny_win_and_matches_wildcards_across_slashes() -> None:
    policy = {"Version": "2012-10-17", "Statement": [
        {"Sid": "A", "Effect": "Allow", "Action": "s3:Put*", "Resource": f"{BUCKET_ARN}/m/*"},
        {"Sid": "D", "Effect": "Deny", "Action": ["s3:PutObject"], "Resource": f"{BUCKET_ARN}/m/*/secret"}]}
    assert allowed(policy, "s3:PutObject", f"{BUCKET_ARN}/m/a/b/c")
    assert not allowed(policy, "s3:PutObject", f"{BUCKET_ARN}/m/a/b/secret")
    assert not allowed(policy, "s3:GetObject", f"{BUCKET_ARN}/m/a")
    assert not allowed(policy, "s3:PutObject", f"{BUCKET_ARN}/n/a")


@pytest.mark.parametrize("role", ROLES)
def test_role_may_write_read_list_and_delete_what_its_code_does(role: str) -> None:
    for key in lake_keys.WRITES[role]:
        assert can(role, "s3:PutObject", key), f"{role} cannot write {key}, which its code writes"
    for key in lake_keys.READS.get(role, []):
        assert can(role, "s3:GetObject", key), f"{role} cannot read {key}, which its code reads"
    for prefix in lake_keys.LISTS.get(role, []):
        assert can_list(role, prefix), f"{role} cannot list {prefix}, which its code lists or probes"
    for key in lake_keys.DELETES.get(role, []):
        assert can(role, "s3:DeleteObject", key), f"{role} cannot delete {key}, which its code replaces"


@pytest.mark.parametrize("role", ROLES)
def test_role_may_write_and_delete_nothing_its_code_does_not(role: str) -> None:
    mine = set(lake_keys.WRITES[role])
    for key in ALL_WRITTEN:
        assert can(role, "s3:PutObject", key) == (key in mine), f"{role} write {key}"
        if can(role, "s3:DeleteObject", key):  # only its own outputs, and only where its code replaces them
            assert key in mine and role in lake_keys.DELETES, f"{role} may delete {key}"


@pytest.mark.parametrize("role", ROLES)
def test_every_write_grant_is_used_by_the_code(role: str) -> None:
    """No grant on a prefix the code never writes: policies cannot drift from boostqa/lake/layout.py."""
    for statement in statements(role, "Allow", "s3:PutObject"):
        for resource in resources(statement):
            alone = {"Statement": [{**statement, "Resource": [resource]}]}
            used = [k for k in lake_keys.WRITES[role] if allowed(alone, "s3:PutObject", f"{BUCKET_ARN}/{k}")]
            assert used, f"{role}: {resource} matches no key the code writes"


def test_keys_built_outside_the_layout_module_are_still_built_that_way() -> None:
    sources = lake_keys.literal_sources()
    for path, literals in lake_keys.LITERAL_PRODUCERS.items():
        for literal in literals:
            assert literal in sources[path], f"{path} no longer builds {literal}: update lake_keys and infra/s3"


def test_the_warehouse_reads_every_lake_table_dbt_declares() -> None:
    globs = [re.search(r"s3://\{\{[^}]*\}\}/([^']+)'", value).group(1)
             for path in sorted((PROJECT_ROOT / "dbt_project" / "models").rglob("_*__sources.yml"))
             for key, value in walk(yaml.safe_load(path.read_text())) if key == "external_location"]
    assert len(globs) >= 10, "found too few dbt sources: has the sources' YAML layout changed?"
    for glob in globs:
        prefix = glob.split("*", 1)[0]
        assert can_list("warehouse", prefix), f"dbt lists {prefix} but the warehouse role may not"
        assert can("warehouse", "s3:GetObject", glob.replace("*", "x")), f"the warehouse role cannot read {glob}"
    for table in LAKE_TABLES:  # the markers that commit its parts, found by listing (DuckDB's glob)
        for marker in marker_globs(table.commit):
            assert can_list("warehouse", marker.split("*", 1)[0]), f"dbt lists {marker} but the warehouse may not"


def test_ingest_writes_raw_only_and_never_synthesis_or_mixtures() -> None:
    assert can("ingest", "s3:PutObject", "raw/seeds/source=mmlu/ingest_date=2026-01-02/part-00000.parquet")
    for key in ("synth/run_id=r1/part.parquet", "qa/run_id=r1/part-00000.parquet", "mixtures/v1/manifest.json",
                "annotations/run_id=r1/part-00000.parquet", "plans/plan_id=p1/generation_plan.parquet"):
        assert not can("ingest", "s3:PutObject", key), key
    assert not can_list("ingest", "mixtures/")


def test_the_trainer_only_reads_the_exported_mixture() -> None:
    prefix = lake_keys.trainer_prefix()
    assert prefix.startswith("mixtures/") and can("trainer", "s3:GetObject", prefix + "manifest.json")
    for key in [*ALL_WRITTEN, *BOOTSTRAP, prefix + "manifest.json", "checkpoints/run/model.pt"]:
        for action in ("s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"):
            assert not can("trainer", action, key), f"trainer may {action} {key}"
    for key in ("raw/seeds/source=mmlu/part-00000.parquet", "qa/run_id=r1/part-00000.parquet", "eval/items/x"):
        assert not can("trainer", "s3:GetObject", key)
    assert not can_list("trainer", "") and not can_list("trainer", "raw/")


def test_the_export_cannot_overwrite_the_selection_dbt_wrote_even_though_it_owns_mixtures() -> None:
    selection = f"mixtures/{lake_keys.VERSION}/selection.parquet"
    assert can("export", "s3:PutObject", f"mixtures/{lake_keys.VERSION}/manifest.json")
    assert not can("export", "s3:PutObject", selection) and not can("export", "s3:DeleteObject", selection)
    assert can("export", "s3:GetObject", selection) and can("warehouse", "s3:PutObject", selection)


def test_the_ray_role_grants_exactly_what_the_qc_and_export_roles_grant_together() -> None:
    """The Ray jobs run QC and the mixture export: their one identity may do what those two roles may, no more."""
    keys = sorted({k for table in (lake_keys.WRITES, lake_keys.READS, lake_keys.DELETES) for keys in table.values()
                   for k in keys} | BOOTSTRAP | {f"mixtures/{lake_keys.VERSION}/selection.parquet", "checkpoints/x"})
    for key in keys:
        for action in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject"):
            union = any(can(role, action, key) for role in lake_keys.RAY_STAGE_ROLES)
            assert can("ray", action, key) == union, f"ray {action} {key}: the qc and export roles say {union}"
    for prefix in sorted({p for prefixes in lake_keys.LISTS.values() for p in prefixes} | {"", "raw/", "eval/"}):
        union = any(can_list(role, prefix) for role in lake_keys.RAY_STAGE_ROLES)
        assert can_list("ray", prefix) == union, f"ray list {prefix}: the qc and export roles say {union}"


def test_roles_without_listing_cannot_list() -> None:
    for role in set(ROLES) - set(lake_keys.LISTS) - {"warehouse"}:
        assert not statements(role, "Allow", "s3:ListBucket"), f"{role} lists nothing in its code"
