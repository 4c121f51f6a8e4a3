"""The one small error hierarchy of the core library."""

from __future__ import annotations


class BoostqaError(Exception):
    """Base class for every error raised on purpose by boostqa."""


class ConfigError(BoostqaError):
    """A configuration value is wrong; retrying will not help (operators fail without retry)."""


class StackError(BoostqaError):
    """An embedded-stack service could not be started, reached or stopped; the message names the fix."""


class SourceError(BoostqaError):
    """A seed source could not be fetched or parsed as a whole (row-level problems go to quarantine)."""


class EngineError(BoostqaError):
    """The Ray cluster cannot be reached or refused a request; usually transient, so orchestrators should retry."""


class LakeError(BoostqaError):
    """The object store cannot be reached or refuses us; usually transient, so orchestrators should retry."""


class RunPermanent(BoostqaError):
    """A failure every retry would meet again (credentials, permissions, a missing model or bucket): fail at once.

    Operators fail such a task without retries; the message names the connection and what to check.
    """


class LakeDenied(LakeError, RunPermanent):
    """The object store refused these credentials for a bucket or key (403, a bad key or signature, no such bucket)."""


class RunIncomplete(BoostqaError):
    """A sharded run still has shards without a completion marker, so it cannot be marked complete."""
