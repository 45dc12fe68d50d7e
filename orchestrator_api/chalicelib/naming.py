"""Deterministic names: derived from the request, never random.

A resubmitted request maps to the same stack, the same jobs and the same resources, so it
is a no-op or an update. Names of resources CloudFormation must replace on change carry a
short hash of the values that force the replacement; job names carry a hash of the config
and the optional ``run_id``, so changing either starts a new run.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from .settings import Settings

HASH_LEN = 8


def digest(value: Any, length: int = HASH_LEN) -> str:
    """A short, stable hash of any JSON-serialisable value."""
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:length]


def stack_infix(text: str) -> str:
    """``text`` made safe for a stack name; a hash keeps two different inputs apart."""
    lowered = text.strip().lower()
    safe = re.sub(r"[^a-z0-9-]", "-", lowered)
    return safe if safe == lowered else f"{safe}-{digest(text, 4)}"


def stack_name(settings: Settings, infix: str, suffix: str) -> str:
    """``<prefix>-<infix>-<suffix>``, lower case: the original solution's scheme."""
    return f"{settings.stack_prefix}-{stack_infix(infix)}-{suffix}".lower()


def name_of_stack_id(pipeline_id: str) -> str:
    """A stack's name from its ARN (``arn:...:stack/<name>/<uuid>``), or the name itself."""
    if pipeline_id.startswith("arn:") and "/" in pipeline_id:
        return pipeline_id.split("/")[1]
    return pipeline_id


def pipeline_stack_name(stack: str) -> str:
    return f"{stack}-codepipeline"


def stage_stack_set_name(stack: str, stage: str) -> str:
    """A promoted pipeline's stack set of one stage (multi_account_codepipeline.yaml names it so)."""
    return f"{stack}-{stage}"


def with_hash(base: str, value: Any) -> str:
    return f"{base}-{digest(value)}"


def job_name(request: Any) -> str:
    """The name of a training, tuning or AutoML job: base name + hash of the config."""
    base = request.job_name or request.model_name
    config = request.normalized()
    return with_hash(base, config)


STATE_MACHINE_NAME_MAX = 80


def state_machine_name(stack: str) -> str:
    """``<stack>-run``, shortened with a hash when the stack name is long (the limit is 80)."""
    suffix = "-run"
    if len(stack) + len(suffix) <= STATE_MACHINE_NAME_MAX:
        return stack + suffix
    keep = STATE_MACHINE_NAME_MAX - len(suffix) - HASH_LEN - 1
    return f"{stack[:keep]}-{digest(stack)}{suffix}"


def bounded_name(base: str, kind: str, value: Any, limit: int = 63) -> str:
    """``<base>-<kind>-<hash of value>`` within ``limit`` characters (the base is cut first)."""
    tail = f"-{kind}-{digest(value)}"
    return base[: limit - len(tail)].rstrip("-") + tail


# Where a pipeline's bundles live in the assets bucket: one folder per blueprint stack.
BUNDLE_FOLDER = "mlops_provisioned_pipelines"
BUNDLE_KEY_HASH = 16
_BUNDLE_FILE = re.compile(rf"[0-9a-f]{{{BUNDLE_KEY_HASH}}}\.zip")


def bundle_prefix(stack: str) -> str:
    """The folder holding every bundle of the pipeline that deploys ``stack`` (and its marker)."""
    return f"{BUNDLE_FOLDER}/{stack}/"


def bundle_key(stack: str, sha256: str) -> str:
    """The key of one bundle: named by its content, so a key is written once and never changes."""
    return f"{bundle_prefix(stack)}{sha256[:BUNDLE_KEY_HASH]}.zip"


def content_addressed(key: str) -> bool:
    """True for a key :func:`bundle_key` made; False for the older, rewritten ``template.zip``."""
    return bool(_BUNDLE_FILE.fullmatch(key.rsplit("/", 1)[-1]))


def deletion_marker(stack: str) -> str:
    """The object a delete writes before it removes anything, and removes last."""
    return f"{bundle_prefix(stack)}DELETING"
