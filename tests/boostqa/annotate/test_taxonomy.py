"""The taxonomy has one copy: the library's package data, which dbt seeds through links, file by file."""

from __future__ import annotations

from boostqa.annotate.taxonomy import TAXONOMY_DIR
from boostqa_dev.checkout import PROJECT_ROOT

SEEDS = PROJECT_ROOT / "dbt_project" / "seeds" / "taxonomy"


def test_every_taxonomy_seed_links_to_the_package_data_and_nothing_is_copied() -> None:
    shipped = sorted(path.name for path in TAXONOMY_DIR.glob("*.csv"))
    seeded = sorted(path.name for path in SEEDS.glob("*.csv"))
    assert shipped == seeded and len(shipped) == 4
    for name in seeded:
        link = SEEDS / name
        assert link.is_symlink(), f"{link} is a copy: link it to {TAXONOMY_DIR / name}"
        assert link.resolve() == (TAXONOMY_DIR / name).resolve()
