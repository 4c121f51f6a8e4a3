"""The lake contract agrees with dbt: every table's glob is its source's external_location, and every source over
the lake is a table of the contract."""

from __future__ import annotations

import re
from datetime import date
from fnmatch import fnmatch

import yaml

from boostqa.lake import layout
from boostqa.lake.commits import COMMIT_RULES, marker_globs
from boostqa.lake.tables import LAKE_TABLES
from boostqa_dev.checkout import PROJECT_ROOT

_GLOB = re.compile(r"read_parquet\('s3://\{\{ env_var\('BOOSTQA_LAKE_BUCKET', 'boostqa'\) \}\}/([^']+)'")


def dbt_source_globs() -> dict[tuple[str, str], str]:
    """(source, table) -> the glob under the bucket that dbt's external_location reads."""
    globs = {}
    for path in sorted((PROJECT_ROOT / "dbt_project" / "models" / "staging").glob("*/_*__sources.yml")):
        for source in yaml.safe_load(path.read_text())["sources"]:
            for table in source["tables"]:
                location = table["config"]["meta"]["external_location"]
                match = _GLOB.search(location)
                assert match, f"{path.name}: {source['name']}.{table['name']} reads {location!r}"
                globs[(source["name"], table["name"])] = match.group(1)
    return globs


def test_every_lake_table_is_the_dbt_source_that_reads_it() -> None:
    contract = {(t.source, t.name): t.glob for t in LAKE_TABLES}
    assert len(contract) == len(LAKE_TABLES)  # one entry per source table
    assert contract == dbt_source_globs()


def test_every_bootstrap_part_lies_under_its_tables_glob() -> None:
    for table in LAKE_TABLES:
        if table.bootstrap_folder is None:
            continue
        key = table.bootstrap_folder + layout.part_name(0)
        assert fnmatch(key, table.glob), (table.name, key, table.glob)
        assert layout.BOOTSTRAP_RUN in table.bootstrap_folder
        # as deep as real parts: one folder level per '/' of the glob, so dbt's glob sees it
        assert key.count("/") == table.glob.count("/")


_COMMITTED = re.compile(r"committed_rows\('(\w+)', '(\w+)', '([^']+)'\)")


def test_every_lake_read_in_dbt_goes_through_its_tables_commit_rule() -> None:
    contract = {(t.source, t.name): t.commit for t in LAKE_TABLES}
    read: dict[tuple[str, str], set[str]] = {}
    for path in (PROJECT_ROOT / "dbt_project" / "models").rglob("*.sql"):
        text = path.read_text()
        assert not re.search(r"select \* from \{\{ source\(", text), f"{path.name} reads a lake source unguarded"
        for source, table, rule in _COMMITTED.findall(text):
            read.setdefault((source, table), set()).add(rule)
    assert set(read) == set(contract), "every lake table is read through committed_rows"
    assert {key: {rule} for key, rule in contract.items()} == read


def test_every_rule_needing_filenames_has_them_and_every_rule_is_known() -> None:
    for table in LAKE_TABLES:
        assert table.commit in COMMIT_RULES, table
        if table.commit == "object":
            assert table.name in {"budgets", "documents", "token_counts", "metrics", "samples", "items", "scores",
                                  "scaling_cells", "anneal_arms", "anneal_documents"}
    locations = {}
    for path in sorted((PROJECT_ROOT / "dbt_project" / "models" / "staging").glob("*/_*__sources.yml")):
        for source in yaml.safe_load(path.read_text())["sources"]:
            for table in source["tables"]:
                locations[(source["name"], table["name"])] = table["config"]["meta"]["external_location"]
    for table in LAKE_TABLES:
        needs = table.commit != "object"
        assert needs <= ("filename = true" in locations[(table.source, table.name)]), table.name


def test_marker_globs_name_the_markers_the_writers_put() -> None:
    assert fnmatch(layout.shard_marker(layout.qa_prefix("r1"), 3), marker_globs("shard_marker:qa")[0])
    assert fnmatch(layout.shard_marker(layout.annotations_prefix("r1"), 0), marker_globs("ledger_shard_marker")[0])
    assert fnmatch(layout.qc_marker("r1"), marker_globs("qc_marker")[0])
    assert fnmatch(layout.seeds_manifest_key("mmlu", date(2026, 1, 2)), marker_globs("seed_manifest")[0])
    assert fnmatch(layout.mixture_prefix("v1") + "manifest.json", marker_globs("mixture_manifest")[0])
    assert marker_globs("object") == []
