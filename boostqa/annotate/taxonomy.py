"""Read the taxonomy from its single source of truth, CSVs shipped as package data (dbt seeds them from there)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from boostqa.package_data import resource_path

# dbt_project.yml lists this folder among its seed-paths: the library and the warehouse read the same files.
TAXONOMY_DIR = resource_path("taxonomy")


@dataclass(frozen=True)
class Taxonomy:
    """Disciplines with their categories, and the difficulty -> grade band scale."""

    version: str
    category_of: dict[str, str]
    discipline_names: dict[str, str]
    grade_band_of: dict[int, str]

    @property
    def discipline_ids(self) -> list[str]:
        """Discipline ids in file order (grouped by category)."""
        return list(self.category_of)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@cache
def load_taxonomy(directory: Path = TAXONOMY_DIR) -> Taxonomy:
    """Parse the taxonomy seeds once per process."""
    disciplines = _rows(directory / "taxonomy_disciplines.csv")
    bands = _rows(directory / "difficulty_bands.csv")
    versions = {r["taxonomy_version"] for r in disciplines + bands}
    if len(versions) != 1:
        raise ValueError(f"taxonomy files disagree on the version: {sorted(versions)}")
    return Taxonomy(
        version=versions.pop(),
        category_of={r["discipline_id"]: r["category_id"] for r in disciplines},
        discipline_names={r["discipline_id"]: r["discipline_name"] for r in disciplines},
        grade_band_of={int(r["difficulty"]): r["grade_band"] for r in bands},
    )
