"""Immutable versions in the lake: "latest" pointers to plans, mixtures and training runs.

A pointer is written last and followed by readers that were not handed an id.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Literal

from boostqa.errors import ConfigError
from boostqa.lake import layout
from boostqa.lake.store import ObjectStore
from boostqa.runs import check_id

Kind = Literal["plans", "mixtures", "training"]
UPSTREAM = {"plans": "warehouse_build", "mixtures": "mixture_export", "training": "midtrain"}


def write_pointer(store: ObjectStore, kind: Kind, version: str, **facts: Any) -> dict[str, Any]:
    """Point ``<kind>/latest.json`` at ``version`` (call only after every object of the version is written).

    ``facts`` (job counts, the manifest's sha256 ...) are stored beside the version for whoever follows the pointer.
    """
    pointer = {"version": check_id(version, f"{kind} version"), "written_at": datetime.now(UTC).isoformat(), **facts}
    store.put_bytes(layout.latest_pointer(kind), json.dumps(pointer, sort_keys=True).encode(), "application/json")
    return pointer


def read_pointer(store: ObjectStore, kind: Kind) -> dict[str, Any] | None:
    """The pointer's content, or None before the first version."""
    data = store.get_bytes_or_none(layout.latest_pointer(kind))
    return None if data is None else dict(json.loads(data))


def resolve_version(store: ObjectStore, kind: Kind, explicit: str | None = None) -> str:
    """``explicit`` when given (checked path-safe), else the version ``latest.json`` points at.

    Raises:
        ConfigError: no version was given and none has been published yet.
    """
    if explicit:
        return check_id(explicit, f"{kind} version")
    pointer = read_pointer(store, kind)
    if pointer is None:
        upstream = "warehouse_build" if kind == "plans" else "mixture_export"
        raise ConfigError(f"no {kind} version given and {store.config.uri(layout.latest_pointer(kind))} does not "
                        f"exist yet: run the {upstream} DAG first")
    return str(pointer["version"])
