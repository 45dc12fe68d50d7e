"""Where installed blueprints live: the blueprint bucket, under an immutable version prefix.

Because a version prefix never changes once installed, a template read once can be kept
for the life of the Lambda container.
"""

from __future__ import annotations

from . import aws
from .errors import UpstreamError
from .settings import Settings

_cache: dict[tuple[str, str], bytes] = {}


def key(settings: Settings, name: str, prefix: str | None = None) -> str:
    """The blueprint ``name`` under ``prefix`` (default: the installed version's)."""
    prefix = settings.blueprint_prefix if prefix is None else prefix
    return f"{prefix}/{name}" if prefix else name


def url(settings: Settings, name: str) -> str:
    """The HTTPS URL CloudFormation reads a blueprint from."""
    return f"https://{settings.blueprint_bucket}.s3.{settings.region}.amazonaws.com/{key(settings, name)}"


def read(settings: Settings, name: str, prefix: str | None = None) -> bytes:
    where = (settings.blueprint_bucket, key(settings, name, prefix))
    if where not in _cache:
        try:
            body = aws.client("s3").get_object(Bucket=where[0], Key=where[1])["Body"].read()
        except Exception as exc:
            # Only a missing key means "not installed"; a throttled, failed or refused read says
            # so, and a passing failure is retryable (see errors.retryable).
            code = aws.error_code(exc)
            if code in aws.MISSING:
                raise UpstreamError(f"blueprint {name} is not installed in s3://{where[0]}/{where[1]}") from exc
            raise UpstreamError(f"could not read blueprint {name} from s3://{where[0]}/{where[1]}: {exc}") from exc
        _cache[where] = body
    return _cache[where]


def forget() -> None:
    _cache.clear()
