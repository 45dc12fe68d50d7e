"""SageMaker instance types with local NVMe storage, and the volume-key rule they bring.

Nitro instances with local instance storage encrypt it with a hardware module, and SageMaker
refuses a KMS key for their volumes: CreateTrainingJob (``ResourceConfig.VolumeKmsKeyId``),
CreateHyperParameterTuningJob, CreateTransformJob (``TransformResources.VolumeKmsKeyId``),
CreateProcessingJob and monitoring schedules (``ClusterConfig.VolumeKmsKeyId``) and
CreateEndpointConfig (``KmsKeyId``) all fail with such an instance type. So a request that
gives both is refused when it arrives, naming both fields, rather than failing its pipeline.

:data:`LOCAL_STORAGE_FAMILIES` lists the families SageMaker offers with instance storage; a
family whose attribute letters include ``d`` (EC2's naming: "d: instance store volumes", as
in m5d, c6id, g4dn, p4de) counts too, so a new ``*d`` family is covered before it is listed.
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import Problem
from .fields import STAGES, StageValues

LOCAL_STORAGE_FAMILIES = frozenset(
    {
        # general purpose, compute and memory optimised, with local NVMe SSDs
        "m5d", "m6id", "m6gd", "c5d", "c6id", "c6gd", "r5d", "r6id", "r6gd", "x2idn",
        # accelerated computing: every one of these carries NVMe instance storage
        "g4dn", "g5", "g6", "g6e", "gr6", "p3dn", "p4d", "p4de", "p5", "p5e", "p5en",
        "trn1", "trn1n", "trn2", "dl1",
    }
)  # fmt: skip
_FAMILY = re.compile(r"ml\.([a-z0-9-]+)\.[a-z0-9]+")
_ATTRIBUTES = re.compile(r"[a-z]+[0-9]+([a-z]*)")


def family(instance_type: str) -> str:
    """``ml.g4dn.xlarge`` -> ``g4dn`` ('' for anything else)."""
    match = _FAMILY.fullmatch(instance_type)
    return match.group(1) if match else ""


def has_local_storage(instance_type: str) -> bool:
    name = family(instance_type)
    if name in LOCAL_STORAGE_FAMILIES:
        return True
    attributes = _ATTRIBUTES.fullmatch(name)
    return bool(attributes and "d" in attributes.group(1))


def _per_stage(value: Any) -> list[tuple[str | None, Any]]:
    if isinstance(value, StageValues):
        return [(stage, getattr(value, stage)) for stage in STAGES]
    return [(None, value)]


def volume_key_problems(request: Any, pairs: tuple[tuple[str, str], ...]) -> list[Problem]:
    """A problem on each field of every (instance type field, KMS key field) pair SageMaker would refuse."""
    found: list[Problem] = []
    for instance_field, key_field in pairs:
        instances = getattr(request, instance_field, None)
        keys = getattr(request, key_field, None)
        if instances is None or keys is None:
            continue
        staged = isinstance(instances, StageValues) or isinstance(keys, StageValues)
        instance_of = dict(_per_stage(instances))
        key_of = dict(_per_stage(keys))
        for stage in STAGES if staged else (None,):
            instance = instance_of.get(stage, instance_of.get(None))
            key = key_of.get(stage, key_of.get(None))
            if not key or not isinstance(instance, str) or not has_local_storage(instance):
                continue
            where_instance = f"{instance_field}.{stage}" if isinstance(instances, StageValues) else instance_field
            where_key = f"{key_field}.{stage}" if isinstance(keys, StageValues) else key_field
            why = (
                f"{where_instance} {instance} has local NVMe instance storage, which the instance encrypts itself; "
                f"SageMaker refuses a volume KMS key ({where_key}) with it"
            )
            found.append(Problem(where_key, f"{why}: leave {key_field} out or choose an instance type without "
                                            "local storage"))  # fmt: skip
            found.append(Problem(where_instance, f"{why}: choose an instance type without local storage (such as "
                                                 f"ml.m5.xlarge) or leave {key_field} out"))  # fmt: skip
    return found
