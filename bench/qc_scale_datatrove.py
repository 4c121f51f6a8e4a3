"""P9's anchor: datatrove's MinHash dedup of a run's items, read from the same lake, on the same cores."""

from __future__ import annotations

import contextlib
import os
import struct
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from datatrove.data import Document
from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.dedup.minhash import (
    MinhashConfig,
    MinhashDedupBuckets,
    MinhashDedupCluster,
    MinhashDedupSignature,
)
from datatrove.pipeline.readers import ParquetReader
from datatrove.utils.hashing import HashConfig
from s3fs import S3FileSystem

from bench.dedup import Words
from boostqa.lake import layout
from boostqa.lake.read import read_object
from boostqa.lake.store import LakeConfig, ObjectStore
from boostqa.qc.minhash import MinHashConfig
from boostqa.qc.text import item_text


class QaItems(ParquetReader):
    """A run's QA parts as datatrove documents whose text is what QC's near dedup compares: question and options."""

    def read_file(self, filepath: str) -> Iterator[Document]:
        with self.data_folder.open(filepath, "rb") as handle, pq.ParquetFile(handle) as parts:
            for batch in parts.iter_batches(batch_size=self.batch_size, columns=["item_id", "question", "options"]):
                for row in batch.to_pylist():
                    yield Document(text=item_text(row["question"], row["options"]), id=row["item_id"])


@dataclass(frozen=True)
class DatatroveRun:
    """datatrove's wall time over its three stages, its workers, and the item ids it removed."""

    seconds: float
    workers: int
    removed: pa.Array


def datatrove_dedup(store: ObjectStore, run_id: str, config: MinHashConfig, workers: int) -> DatatroveRun:
    """Signatures (one task per part), buckets (one per band) and clusters, ``workers`` processes at a time.

    The signature stage reads the run's parts from the lake over S3 (as QC's workers do); its output and logs go to a
    local temporary folder. One task per part, so task r's removal indexes are rows of the r-th part by key.
    """
    lake, prefix = store.config, layout.qa_prefix(run_id)
    keys = sorted(k for k in store.list_keys(prefix) if k.endswith(".parquet"))
    dt_config = MinhashConfig(n_grams=config.shingle_size, num_buckets=config.bands, hashes_per_bucket=config.rows,
                              hash_config=HashConfig(precision=64))
    with tempfile.TemporaryDirectory(prefix="bench-qc-datatrove-") as tmp, _stderr_to_devnull():
        work = Path(tmp)
        reader = QaItems((f"s3://{lake.bucket}/{prefix}", _s3(lake)), glob_pattern="*.parquet", batch_size=2048)
        stages = [
            ([reader, MinhashDedupSignature(output_folder=str(work / "sigs"), config=dt_config, language=Words())],
             len(keys)),
            ([MinhashDedupBuckets(input_folder=str(work / "sigs"), output_folder=str(work / "buckets"),
                                  config=dt_config)], config.bands),
            ([MinhashDedupCluster(input_folder=str(work / "buckets"), output_folder=str(work / "remove"),
                                  config=dt_config)], 1),
        ]
        started = time.perf_counter()
        for index, (pipeline, tasks) in enumerate(stages):
            LocalPipelineExecutor(pipeline=pipeline, tasks=tasks, workers=min(workers, tasks),
                                  logging_dir=str(work / f"logs{index}")).run()
        seconds = time.perf_counter() - started
        removed = [_removed_ids(store, key, work / "remove" / f"{rank:06d}.remove") for rank, key in enumerate(keys)]
    return DatatroveRun(seconds=seconds, workers=workers, removed=pa.concat_arrays(removed) if removed else
                        pa.array([], pa.string()))


@contextlib.contextmanager
def _stderr_to_devnull() -> Iterator[None]:
    """File descriptor 2 to /dev/null: each datatrove task process adds an INFO log sink on stderr, and they are
    processes (inheriting the descriptor), so redirecting ``sys.stderr`` alone would not silence them."""
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as sink:
            os.dup2(sink.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _removed_ids(store: ObjectStore, key: str, removals: Path) -> pa.Array:
    """The item ids of one part's rows that datatrove's removal file names."""
    data = removals.read_bytes() if removals.exists() else b""
    rows = np.fromiter((value for (value,) in struct.iter_unpack("<I", data)), dtype=np.int64)
    ids = read_object(store, key, columns=["item_id"]).column("item_id").combine_chunks()
    return ids.take(pa.array(rows, pa.int64()))


def _s3(lake: LakeConfig) -> S3FileSystem:
    return S3FileSystem(key=lake.access_key, secret=lake.secret_key.get_secret_value(),
                        client_kwargs={"endpoint_url": lake.endpoint_url, "region_name": lake.region})
