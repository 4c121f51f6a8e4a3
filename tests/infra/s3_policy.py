"""A tiny IAM evaluator for the S3 policies in infra/s3: Allow/Deny, * and ? wildcards, StringLike conditions."""

from __future__ import annotations

import json
from fnmatch import fnmatchcase
from functools import cache
from typing import Any

from boostqa.settings import LakeSettings
from boostqa_dev.checkout import PROJECT_ROOT

POLICY_DIR = PROJECT_ROOT / "infra" / "s3"
BUCKET = LakeSettings().bucket  # the default bucket the placeholder ${bucket} stands for
BUCKET_ARN = f"arn:aws:s3:::{BUCKET}"
Policy = dict[str, Any]


def roles() -> list[str]:
    """One role per policy file."""
    return sorted(p.stem for p in POLICY_DIR.glob("*.json"))


@cache
def load_policy(role: str, bucket: str = BUCKET) -> Policy:
    """The role's policy with ``${bucket}`` substituted (how deployment renders it too); callers must not mutate it."""
    text = (POLICY_DIR / f"{role}.json").read_text()
    return json.loads(text.replace("${bucket}", bucket))


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _condition_holds(condition: dict[str, dict[str, Any]], context: dict[str, str]) -> bool:
    for operator, tests in condition.items():
        if operator not in {"StringLike", "StringEquals"}:
            raise NotImplementedError(f"the test evaluator does not know condition operator {operator}")
        for key, patterns in tests.items():
            if key not in context:  # a condition on a key the request lacks does not match
                return False
            value = context[key]
            match = fnmatchcase if operator == "StringLike" else str.__eq__
            if not any(match(value, p) for p in _as_list(patterns)):
                return False
    return True


def _applies(statement: dict[str, Any], action: str, resource: str, context: dict[str, str]) -> bool:
    # IAM wildcards: * is any run of characters (slashes included), ? one character; fnmatch has the same two.
    return (any(fnmatchcase(action, a) for a in _as_list(statement["Action"]))
            and any(fnmatchcase(resource, r) for r in _as_list(statement["Resource"]))
            and _condition_holds(statement.get("Condition", {}), context))


def allowed(policy: Policy, action: str, resource: str, context: dict[str, str] | None = None) -> bool:
    """IAM's decision for one request: an explicit Deny wins, else any Allow, else the implicit deny."""
    decision = False
    for statement in policy["Statement"]:
        if _applies(statement, action, resource, context or {}):
            if statement["Effect"] == "Deny":
                return False
            decision = True
    return decision


def can(role: str, action: str, key: str) -> bool:
    """Whether ``role`` may do an object action on ``key`` of the bucket."""
    return allowed(load_policy(role), action, f"{BUCKET_ARN}/{key}")


def can_list(role: str, prefix: str) -> bool:
    """Whether ``role`` may list the bucket under ``prefix`` (ListObjectsV2 with Prefix)."""
    return allowed(load_policy(role), "s3:ListBucket", BUCKET_ARN, {"s3:prefix": prefix})


def statements(role: str, effect: str, action: str) -> list[dict[str, Any]]:
    """The statements of one effect that name ``action`` literally."""
    return [s for s in load_policy(role)["Statement"] if s["Effect"] == effect and action in _as_list(s["Action"])]


def resources(statement: dict[str, Any]) -> list[str]:
    """A statement's resources as a list."""
    return _as_list(statement["Resource"])
