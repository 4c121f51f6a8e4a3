"""A Hub-layout mirror built from our editions reads back as the editions, for QC's decontamination and for eval."""

from __future__ import annotations

import io
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from boostqa.benchmarks.loader import BenchmarkSource, load_items, mirror_editions
from boostqa.benchmarks.mirror import MirrorLayout, open_mirror
from boostqa.benchmarks.registry import get_benchmark
from boostqa.errors import ConfigError
from boostqa.eval.tasks import EvalTaskSettings, load_docs
from boostqa.qc.decontaminate import benchmark_decontaminator
from boostqa.qc.records import QcConfig
from boostqa.qc.stage import QualityControl

LOCAL = load_items(splits="all")


def _mirror(tmp_path: Path, layout: MirrorLayout = "hub") -> BenchmarkSource:
    assert mirror_editions(open_mirror(str(tmp_path)), layout) == len(LOCAL)
    return BenchmarkSource(kind="mirror", mirror=str(tmp_path))


@pytest.mark.parametrize("layout", ["hub", "converted", "jsonl"])
def test_a_mirror_of_the_editions_reads_back_as_the_editions(tmp_path: Path, layout: MirrorLayout) -> None:
    source = _mirror(tmp_path, layout)
    assert load_items(source, splits="all") == LOCAL  # same ids (row order kept), fields and buckets
    assert len({i.benchmark for i in LOCAL}) == 12
    expected = {"hub": "cais/mmlu/college_biology/test-00000-of-00001.parquet",
                "converted": "cais/mmlu/college_biology/test/0000.parquet",
                "jsonl": "cais/mmlu/college_biology/test.jsonl"}[layout]
    assert (tmp_path / expected).is_file()


def test_files_are_the_ones_datasets_writes_where_the_hub_keeps_them(tmp_path: Path) -> None:
    _mirror(tmp_path)
    # push_to_hub puts a repository's only config, "default", under data/
    table = pq.read_table(tmp_path / "tau/commonsense_qa/data/validation-00000-of-00001.parquet")
    assert b"huggingface" in (table.schema.metadata or {})  # datasets' features travel in the file
    assert table.num_rows == len([i for i in LOCAL if i.benchmark == "commonsense_qa"])
    # every subject production loads has a file, empty where our edition holds none of it
    assert len(list((tmp_path / "cais/mmlu").glob("*/test-00000-of-00001.parquet"))) == 57
    assert pq.read_table(tmp_path / "cais/mmlu/anatomy/test-00000-of-00001.parquet").num_rows == 0


def test_shards_are_read_in_order(tmp_path: Path) -> None:
    source = _mirror(tmp_path)
    folder = tmp_path / "openai/gsm8k/main"
    whole = pq.read_table(folder / "test-00000-of-00001.parquet")
    (folder / "test-00000-of-00001.parquet").unlink()
    half = whole.num_rows // 2
    pq.write_table(whole.slice(half), folder / "test-00001-of-00002.parquet")
    pq.write_table(whole.slice(0, half), folder / "test-00000-of-00002.parquet")
    assert load_items(source, ["gsm8k"]) == [i for i in LOCAL if i.benchmark == "gsm8k" and i.split == "test"]


def test_a_missing_subject_fails_naming_it_rather_than_narrowing_the_checks(tmp_path: Path) -> None:
    source = _mirror(tmp_path)
    for path in (tmp_path / "cais/mmlu/anatomy").iterdir():
        path.unlink()
    with pytest.raises(ConfigError, match=r"no 'test' data of cais/mmlu config 'anatomy'.*huggingface-cli download"):
        load_items(source, ["mmlu"])
    with pytest.raises(ConfigError, match="no 'test' data"):
        benchmark_decontaminator(source=source)


def test_decontamination_and_eval_docs_from_the_mirror_match_the_editions(tmp_path: Path) -> None:
    source = _mirror(tmp_path)
    mmlu = next(i for i in LOCAL if i.benchmark == "mmlu" and len(i.question.split()) >= 16)
    from_mirror = QualityControl(QcConfig(benchmark_source="mirror", benchmark_mirror=str(tmp_path))).decontaminator
    local = benchmark_decontaminator()
    assert len(from_mirror) == len(local) == len(LOCAL)
    hit = from_mirror.find(f"Rewrite this: {mmlu.question}")
    assert hit is not None and hit == local.find(f"Rewrite this: {mmlu.question}")
    assert hit.benchmark_item_id == mmlu.item_id
    settings = EvalTaskSettings(limit=3)
    for name in ("mmlu", "ceval", "arc_easy", "gsm8k", "math"):
        assert load_docs(name, settings, source) == load_docs(name, settings), name


def test_a_source_names_its_mirror_exactly_when_it_is_one() -> None:
    with pytest.raises(ValueError, match="needs the mirror's folder"):
        BenchmarkSource(kind="mirror")
    with pytest.raises(ValueError, match="only it takes one"):
        QcConfig(benchmark_source="local", benchmark_mirror="/data/hub")
    with pytest.raises(ConfigError, match="read with the lake's connection; none was given"):
        load_items(BenchmarkSource(kind="mirror", mirror="s3://bucket/hub"))
    with pytest.raises(ConfigError, match="expected a folder or an s3:// prefix"):
        load_items(BenchmarkSource(kind="mirror", mirror="https://huggingface.co/datasets"))
    assert str(BenchmarkSource(kind="mirror", mirror="/m")) == "mirror /m"


def test_an_empty_mirror_file_reads_as_no_rows(tmp_path: Path) -> None:
    mirror = open_mirror(str(tmp_path))
    spec = get_benchmark("piqa")
    path = mirror.write(spec, "default", "validation", [])
    assert path.endswith("ybisk/piqa/data/validation-00000-of-00001.parquet")
    assert mirror.rows(spec, "default", "validation") == []
    assert pq.read_table(io.BytesIO(Path(path).read_bytes())).num_rows == 0


def test_hash_suffixed_shards_are_read_and_a_second_layout_is_not_read_twice(tmp_path: Path) -> None:
    source = _mirror(tmp_path)
    folder = tmp_path / "openai/gsm8k/main"
    (folder / "test-00000-of-00001.parquet").rename(folder / "test-00000-of-00001-5e6b2b6d1a4f0a1c.parquet")
    (folder / "test").mkdir()  # the parquet conversion beside the shards: the same rows again
    pq.write_table(pq.read_table(folder / "test-00000-of-00001-5e6b2b6d1a4f0a1c.parquet"), folder / "test/0000.parquet")
    assert load_items(source, ["gsm8k"]) == [i for i in LOCAL if i.benchmark == "gsm8k" and i.split == "test"]
