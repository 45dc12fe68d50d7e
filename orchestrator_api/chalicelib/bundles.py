"""Pipeline bundles in the assets bucket: written once under a content-named key, read through
the key a pipeline stack names, and removed, with the deletion marker, only by a finished delete.

Keys (:mod:`.naming`): ``mlops_provisioned_pipelines/<blueprint stack>/<sha256, 16 hex>.zip``
for bundles, ``.../DELETING`` for the marker a delete writes before it removes anything.
A key's content never changes, so writing one that exists is a no-op rather than a race.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from . import aws
from .errors import UpstreamError
from .packaging import Bundle

SHA_METADATA = "bundle-sha256"
PREFIX_METADATA = "blueprint-prefix"  # the blueprints the bundle was made from


@dataclass(frozen=True)
class Read:
    """One read of a bundle: its bytes and metadata, or why it could not be read."""

    body: bytes | None
    metadata: dict[str, str]
    problem: str = ""


@dataclass
class Named:
    """The bundle a pipeline stack names (``key`` None: it names none), read at most once."""

    bucket: str
    key: str | None
    _read: Read | None = field(default=None, repr=False)

    @property
    def where(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    def read(self) -> Read:
        if self._read is None:
            self._read = self._fetch()
        return self._read

    def _fetch(self) -> Read:
        if not self.key:
            return Read(None, {}, "the pipeline stack names no bundle")
        try:
            answer = aws.client("s3").get_object(Bucket=self.bucket, Key=self.key)
            return Read(bytes(answer["Body"].read()), dict(answer.get("Metadata") or {}))
        except Exception as exc:
            reason = aws.error_code(exc) or type(exc).__name__
            return Read(None, {}, f"the deployed bundle {self.where} could not be read ({reason})")


def put(bucket: str, key: str, bundle: Bundle, blueprint_prefix: str) -> bool:
    """Write ``bundle`` under its content-named ``key`` unless it is there; True when written.

    The write is conditional (IfNoneMatch), so an existing object, which holds the same bytes,
    is never replaced and its S3 event not sent again.
    """
    try:
        return aws.put_if_unchanged(
            bucket,
            key,
            bundle.zip_bytes,
            None,
            ContentType="application/zip",
            Metadata={SHA_METADATA: bundle.sha256, PREFIX_METADATA: blueprint_prefix},
        )
    except Exception as exc:
        raise UpstreamError(f"could not write the pipeline bundle s3://{bucket}/{key}: {exc}") from exc


# --- the deletion marker -----------------------------------------------------------------


def being_deleted(bucket: str, marker: str) -> bool:
    """True while a delete of the pipeline has started and not finished."""
    try:
        return aws.head_object(bucket, marker) is not None
    except Exception as exc:
        raise UpstreamError(f"could not read s3://{bucket}/{marker}: {exc}") from exc


def read_marker(bucket: str, marker: str) -> dict[str, Any] | None:
    """What the delete recorded when it started, or None when no delete runs."""
    try:
        body = aws.client("s3").get_object(Bucket=bucket, Key=marker)["Body"].read()
    except Exception as exc:
        if aws.error_code(exc) in aws.MISSING:
            return None
        raise UpstreamError(f"could not read s3://{bucket}/{marker}: {exc}") from exc
    try:
        loaded = json.loads(body)
    except ValueError:
        loaded = None
    return loaded if isinstance(loaded, dict) else {}


def mark(bucket: str, marker: str, record: dict[str, Any]) -> dict[str, Any]:
    """Write the marker (what to delete, and since when) and return what it holds."""
    record = {**record, "since": datetime.now(UTC).isoformat(timespec="seconds")}
    try:
        aws.client("s3").put_object(
            Bucket=bucket, Key=marker, Body=json.dumps(record, sort_keys=True).encode(), ContentType="application/json"
        )
    except Exception as exc:
        raise UpstreamError(f"could not mark the pipeline as being deleted (s3://{bucket}/{marker}): {exc}") from exc
    return record


def remove_all(bucket: str, prefix: str, marker: str) -> list[str]:
    """Remove every key under ``prefix``, the marker last; the keys removed."""
    s3 = aws.client("s3")
    try:
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        keys = sorted(o["Key"] for page in pages for o in page.get("Contents", []) if o["Key"] != marker)
        for key in [*keys, marker]:
            s3.delete_object(Bucket=bucket, Key=key)
    except Exception as exc:
        raise UpstreamError(f"could not remove the bundles under s3://{bucket}/{prefix}: {exc}") from exc
    return keys
