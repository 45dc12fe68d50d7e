"""Lines of every object under an ``s3://bucket/prefix``, streamed (the caller brings the client).

The library imports no AWS SDK: the Lambda and ``mlops drift`` pass a boto3 S3 client.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any


def split(uri: str) -> tuple[str, str]:
    """``s3://bucket/prefix`` -> ``(bucket, prefix)``."""
    if not uri.startswith("s3://") or not uri[5:].split("/", 1)[0]:
        raise ValueError(f"{uri!r} is not an s3://bucket/prefix location")
    bucket, _, prefix = uri[5:].partition("/")
    return bucket, prefix


def keys(s3: Any, uri: str) -> Iterator[str]:
    """Keys under ``uri`` in key order."""
    bucket, prefix = split(uri)
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            yield item["Key"]


def lines(s3: Any, uri: str) -> Iterator[str]:
    """Each line of each object under ``uri``, one object in memory at a time at most."""
    bucket, _ = split(uri)
    for key in keys(s3, uri):
        body = s3.get_object(Bucket=bucket, Key=key)["Body"]
        for raw in body.iter_lines():
            yield raw.decode("utf-8", errors="replace")


def folders(s3: Any, uri: str) -> Iterator[str]:
    """``s3://`` URIs of the folders directly under ``uri`` (which ends with a slash)."""
    bucket, prefix = split(uri)
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix, Delimiter="/"):
        for common in page.get("CommonPrefixes", []):
            yield f"s3://{bucket}/{common['Prefix']}"


def objects(s3: Any, uri: str) -> Iterator[tuple[str, str, int]]:
    """``(bucket, key, size)`` of each object under ``uri``, in key order."""
    bucket, prefix = split(uri)
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            yield bucket, item["Key"], int(item.get("Size", 0))


def object_lines(s3: Any, found: Iterable[tuple[str, str] | list[str] | tuple[str, str, int]]) -> Iterator[str]:
    """Each line of each ``(bucket, key, ...)`` object, one object's stream at a time."""
    for bucket, key, *_ in found:
        for raw in s3.get_object(Bucket=bucket, Key=key)["Body"].iter_lines():
            yield raw.decode("utf-8", errors="replace")


def slices(found: list[tuple[str, str, int]], budget: int) -> list[list[tuple[str, str, int]]]:
    """Consecutive runs of objects of at most ``budget`` bytes each (an object larger than the
    budget is a slice of its own): the work of one worker each."""
    out: list[list[tuple[str, str, int]]] = []
    size = 0
    for item in found:
        if not out or (size + item[2] > budget and out[-1]):
            out.append([])
            size = 0
        out[-1].append(item)
        size += item[2]
    return out
