"""A mirror of the benchmarks' Hub repositories (a folder or an S3 prefix): their data files read without network.

A mirror holds each benchmark's Hub dataset repository under its Hub id, data files where the Hub keeps them. For one
config and split, any of these layouts is read:

- ``<id>/<config>/<split>-00000-of-00001.parquet`` (``push_to_hub``, most repositories; shards in name order),
- ``<id>/data/<split>-00000-of-00001.parquet`` for the ``default`` config (``push_to_hub`` without a config name),
- ``<id>/<config>/<split>/0000.parquet`` (the Hub's parquet conversion, ``refs/convert/parquet``),
- ``<id>/<config>/<split>.jsonl`` (``Dataset.to_json``), or any of the above with ``.jsonl`` for ``.parquet``.

``huggingface-cli download <id> --repo-type dataset --local-dir <mirror>/<id>`` makes such a copy; ``aws s3 sync``
moves it to a prefix. An ``s3://`` mirror is read with the lake's credentials and endpoint.
"""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterable, Mapping
from pathlib import PurePosixPath
from typing import Any, Literal

import pyarrow.fs as pafs
import pyarrow.parquet as pq

from boostqa.benchmarks.registry import BenchmarkSpec
from boostqa.errors import ConfigError
from boostqa.lake.arrow_fs import arrow_filesystem
from boostqa.lake.store import LakeConfig

log = logging.getLogger(__name__)
MirrorLayout = Literal["hub", "converted", "jsonl"]
# <split>.parquet, <split>-00000-of-00003.parquet (older datasets add -<hash>), <split>.jsonl; and <split>/0000.parquet
_FLAT = re.compile(r"^(?P<split>[A-Za-z0-9_.]+?)(?:-\d{5}-of-\d{5}(?:-[0-9a-f]+)?)?\.(?P<ext>parquet|jsonl)$")
_NESTED = re.compile(r"^(?P<split>[A-Za-z0-9_.]+)/\d+\.(?P<ext>parquet|jsonl)$")
# one layout per config and split, in this order: a copy holding two (shards and a conversion) is read once
LAYOUT_ORDER = (("flat", "parquet"), ("nested", "parquet"), ("flat", "jsonl"), ("nested", "jsonl"))


class BenchmarkMirror:
    """The data files of the benchmarks' Hub repositories under one root, read (and written) through pyarrow."""

    def __init__(self, root: str, filesystem: pafs.FileSystem, base: str) -> None:
        self.root = root
        self.fs = filesystem
        self.base = base.rstrip("/")

    def _folders(self, spec: BenchmarkSpec, config: str) -> list[str]:
        folders = [f"{self.base}/{spec.hf_path}/{config}"]
        return folders + [f"{self.base}/{spec.hf_path}/data"] if config == "default" else folders

    def files(self, spec: BenchmarkSpec, config: str, split: str) -> list[tuple[str, str]]:
        """(path, extension) of the data files of one config and split, shards in order; [] when there are none.

        The first layout of ``LAYOUT_ORDER`` that has files wins, so no row is read twice.
        """
        for folder in self._folders(spec, config):
            found: dict[tuple[str, str], list[tuple[str, str]]] = {}
            for info in self.fs.get_file_info(pafs.FileSelector(folder, recursive=True, allow_not_found=True)):
                if info.type != pafs.FileType.File:
                    continue
                relative = str(PurePosixPath(info.path).relative_to(folder))
                for kind, pattern in (("flat", _FLAT), ("nested", _NESTED)):
                    match = pattern.match(relative)
                    if match and match["split"] == split:
                        found.setdefault((kind, match["ext"]), []).append((info.path, match["ext"]))
                        break
            for layout in LAYOUT_ORDER:
                if layout in found:
                    return sorted(found[layout])
        return []

    def rows(self, spec: BenchmarkSpec, config: str, split: str) -> list[dict[str, Any]]:
        """Every row of one config and split, in file order (so item ids match the Hub's row order).

        Raises:
            ConfigError: the mirror has no data file for it; the message names where it looked.
        """
        files = self.files(spec, config, split)
        if not files:
            raise ConfigError(
                f"benchmark mirror {self.root} has no {split!r} data of {spec.hf_path} config {config!r}: looked "
                f"for {spec.hf_path}/{config}/{split}-00000-of-00001.parquet (or {split}/0000.parquet, or .jsonl"
                f"{f', or {spec.hf_path}/data/' if config == 'default' else ''}); mirror the repository with "
                f"`huggingface-cli download {spec.hf_path} --repo-type dataset --local-dir <mirror>/{spec.hf_path}`")
        rows: list[dict[str, Any]] = []
        for path, ext in files:
            with self.fs.open_input_file(path) as handle:
                data = handle.read()
            if ext == "parquet":
                rows.extend(pq.read_table(io.BytesIO(data)).to_pylist())
            else:
                rows.extend(json.loads(line) for line in data.decode("utf-8").splitlines() if line.strip())
        return rows

    def write(self, spec: BenchmarkSpec, config: str, split: str, rows: Iterable[Mapping[str, Any]],
              layout: MirrorLayout = "hub") -> str:
        """Write one config and split as ``datasets`` does (``to_parquet`` / ``to_json``); returns the file's path."""
        import datasets  # noqa: PLC0415 - heavy; only mirror writers need it

        datasets.disable_progress_bars()
        folder = self._folders(spec, config)[-1]  # the ``data/`` folder for the default config, as push_to_hub
        name = {"hub": f"{split}-00000-of-00001.parquet", "converted": f"{split}/0000.parquet",
                "jsonl": f"{split}.jsonl"}[layout]
        buffer = io.BytesIO()
        table = datasets.Dataset.from_list([dict(r) for r in rows])
        if layout == "jsonl":
            table.to_json(buffer, force_ascii=False)
        else:
            table.to_parquet(buffer)
        path = f"{folder}/{name}"
        if isinstance(self.fs, pafs.LocalFileSystem):  # S3 has no folders to make
            self.fs.create_dir(path.rsplit("/", 1)[0], recursive=True)
        with self.fs.open_output_stream(path) as out:
            out.write(buffer.getvalue())
        return path


def open_mirror(root: str, lake: LakeConfig | None = None) -> BenchmarkMirror:
    """The mirror at ``root``: a local folder, or ``s3://bucket/prefix`` read with the lake's credentials.

    Raises:
        ConfigError: ``root`` is empty, another URI scheme, or an S3 prefix without the lake's connection.
    """
    if not root:
        raise ConfigError("benchmark source 'mirror' needs the mirror's folder or s3:// prefix")
    if root.startswith("s3://"):
        if lake is None:
            raise ConfigError(f"benchmark mirror {root} is on S3, which is read with the lake's connection; "
                              "none was given")
        return BenchmarkMirror(root, arrow_filesystem(lake), root.removeprefix("s3://"))
    if "://" in root:
        raise ConfigError(f"benchmark mirror {root}: expected a folder or an s3:// prefix")
    return BenchmarkMirror(root, pafs.LocalFileSystem(), str(PurePosixPath(root)))
