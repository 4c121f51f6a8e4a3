"""The lake contract agrees with dbt: every table's glob is its source's external_location, and every source over
the lake is a table of the contract."""

from __future__ import annotations

import re
from fnmatch import fnmatch

import yaml

from boostqa.lake import layout
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
