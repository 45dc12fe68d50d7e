"""Install blueprints into the blueprint bucket, under an immutable version prefix.

Build time (``sam build``, ``blueprints/Makefile``): ``python installer.py --pack DIR`` writes
the payload: every blueprint template and each blueprint function zipped, byte-stable.

Deploy time: the control plane's custom resources call :func:`handler`, by ``Action``:
- ``install-blueprints`` puts the payload under ``blueprints/<version>-<content hash>/``
  and returns that ``Prefix``. A prefix is written once and never changed (conditional writes),
  so pipelines pinned to it keep working after the control plane is upgraded; a delete
  leaves it in place for the same reason.
- ``check-versioning`` fails unless the named bucket has versioning enabled (an
  existing assets bucket must be versioned for CodePipeline S3 sources).
- ``check-key-policy`` fails unless the installation's customer-managed key lets every party
  use it that must (see :func:`required_key_statements`), naming the statements to add.
- ``config-bucket-notifications`` subscribes the config handler to an existing config bucket
  (``ExistingConfigBucket``): SAM's S3 event takes only a bucket of its own template. The
  bucket's other notifications are kept (S3 replaces the whole configuration on every write);
  one that would overlap ours is refused by S3, so the install stops naming it. Removed again
  when the resource is deleted.

Uninstall (custom resources deleted with the control-plane stack; nothing on create/update):
- ``guard-uninstall`` fails while pipeline stacks exist, naming them, so the installation
  (and the deploy role their stacks are deleted with) stays until they are gone.
- ``empty-bucket-on-uninstall`` removes every object version of the blueprint bucket so that
  CloudFormation can delete it; a later install can then create it again under its name.
"""

from __future__ import annotations

import fnmatch
import hashlib
import io
import json
import sys
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

PAYLOAD = Path(__file__).resolve().parent / "payload"
MANIFEST = "manifest.json"
_EPOCH = (1980, 1, 1, 0, 0, 0)


# --- payload -------------------------------------------------------------------------------


def zip_directory(directory: Path) -> bytes:
    """A byte-stable zip of one function's source (tests excluded)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(directory.rglob("*.py")):
            relative = path.relative_to(directory)
            if "tests" in relative.parts or "__pycache__" in relative.parts:
                continue
            info = zipfile.ZipInfo(relative.as_posix(), date_time=_EPOCH)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    return buffer.getvalue()


def pack_files(source: Path) -> dict[str, bytes]:
    """Blueprint templates and zipped functions, by key relative to the version prefix."""
    files = {path.name: path.read_bytes() for path in sorted(source.glob("*.yaml"))}
    functions = source / "functions"
    if functions.is_dir():
        for directory in sorted(p for p in functions.iterdir() if p.is_dir() and not p.name.startswith("_")):
            files[f"functions/{directory.name}.zip"] = zip_directory(directory)
    return files


def read_payload(directory: Path = PAYLOAD) -> dict[str, bytes]:
    return {p.relative_to(directory).as_posix(): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def prefix_for(version: str, files: dict[str, bytes]) -> str:
    """``blueprints/<version>-<hash of the payload>``: a new payload gets a new prefix."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    return f"blueprints/{version}-{digest.hexdigest()[:12]}"


# --- install -------------------------------------------------------------------------------


class InstallError(Exception):
    pass


def _code(exc: BaseException) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


def install(s3: Any, bucket: str, version: str, files: dict[str, bytes]) -> str:
    """Write ``files`` under their version prefix once; return the prefix."""
    prefix = prefix_for(version, files)
    try:
        s3.head_object(Bucket=bucket, Key=f"{prefix}/{MANIFEST}")
        return prefix  # installed before: a prefix never changes
    except Exception as exc:
        if _code(exc) not in ("404", "NoSuchKey", "NotFound"):
            raise
    hashes = {name: hashlib.sha256(body).hexdigest() for name, body in files.items()}
    for name, body in sorted(files.items()):
        key = f"{prefix}/{name}"
        try:
            s3.put_object(Bucket=bucket, Key=key, Body=body, IfNoneMatch="*")
        except Exception as exc:
            if _code(exc) != "PreconditionFailed":
                raise
            existing = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            if hashlib.sha256(existing).hexdigest() != hashes[name]:
                raise InstallError(f"s3://{bucket}/{key} exists with other content; prefixes are immutable") from exc
    manifest = json.dumps({"version": version, "files": hashes}, indent=2, sort_keys=True).encode()
    s3.put_object(Bucket=bucket, Key=f"{prefix}/{MANIFEST}", Body=manifest, ContentType="application/json")
    return prefix


def check_versioning(s3: Any, bucket: str) -> None:
    status = s3.get_bucket_versioning(Bucket=bucket).get("Status")
    if status != "Enabled":
        raise InstallError(
            f"bucket {bucket} must have versioning enabled (it is {status or 'never enabled'}): "
            "CodePipeline S3 sources read object versions"
        )


# --- an existing config bucket's notification -------------------------------------------------

CONFIG_EVENT = "s3:ObjectCreated:*"


def _suffix_of(configuration: dict[str, Any]) -> tuple[str, str]:
    rules = {
        r["Name"].lower(): r["Value"] for r in configuration.get("Filter", {}).get("Key", {}).get("FilterRules", [])
    }
    return rules.get("prefix", ""), rules.get("suffix", "")


def overlapping(configuration: dict[str, Any], suffix: str) -> bool:
    """Whether S3 would refuse ours beside ``configuration`` (a shared event type, keys both match)."""
    if not any(e.startswith("s3:ObjectCreated:") for e in configuration.get("Events", [])):
        return False
    _, theirs = _suffix_of(configuration)  # ours has no prefix: any prefix of theirs overlaps
    return suffix.endswith(theirs) or theirs.endswith(suffix)


def config_notifications(
    s3: Any, bucket: str, function_arn: str, notification_id: str, suffix: str, remove: bool = False
) -> None:
    """Add (or remove) the config handler's notification on ``bucket``, keeping every other one."""
    current = s3.get_bucket_notification_configuration(Bucket=bucket)
    current.pop("ResponseMetadata", None)
    functions = [c for c in current.get("LambdaFunctionConfigurations", []) if c.get("Id") != notification_id]
    if not remove:
        kinds = ("LambdaFunctionConfigurations", "QueueConfigurations", "TopicConfigurations")
        others = [c for kind in kinds for c in current.get(kind, []) if c.get("Id") != notification_id]
        clash = [c.get("Id") or "(no id)" for c in others if overlapping(c, suffix)]
        if clash:
            raise InstallError(
                f"bucket {bucket} already sends object-created events for keys ending in {suffix} to another "
                f"destination ({', '.join(clash)}); S3 refuses overlapping notifications: narrow that "
                "notification's filter, or send the bucket's events to EventBridge and route them from there"
            )
        functions.append(
            {
                "Id": notification_id,
                "LambdaFunctionArn": function_arn,
                "Events": [CONFIG_EVENT],
                "Filter": {"Key": {"FilterRules": [{"Name": "suffix", "Value": suffix}]}},
            }
        )
    current["LambdaFunctionConfigurations"] = functions
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=current)


def required_key_statements(partition: str, account: str, stage_accounts: list[str]) -> list[dict[str, Any]]:
    """What the installation's key policy must allow, as statements to paste into it.

    - The account itself: IAM policies grant a key's use only when its key policy defers to
      the account (the default key policy does).
    - EventBridge: it publishes pipeline and job events to the encrypted topic, and SNS
      encrypts with the key on its behalf; IAM policies cannot grant a service principal this.
    - Each stage account: promoted stacks read the encrypted buckets and publish to the topic.
    """
    statements: list[dict[str, Any]] = [
        {
            "Sid": "AccountIamPoliciesDecide",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"},
            "Action": "kms:*",
            "Resource": "*",
        },
        {
            "Sid": "EventBridgePublishesToTheTopic",
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": ["kms:GenerateDataKey*", "kms:Decrypt"],
            "Resource": "*",
        },
    ]
    if stage_accounts:
        statements.append(
            {
                "Sid": "StageAccountsReadAndPublish",
                "Effect": "Allow",
                "Principal": {"AWS": [f"arn:{partition}:iam::{a}:root" for a in sorted(set(stage_accounts))]},
                "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey*"],
                "Resource": "*",
            }
        )
    return statements


def _as_list(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def _principals(statement: dict[str, Any], partition: str) -> set[str]:
    """Principals of a statement as ``AWS:<account>`` (account roots) and ``Service:<name>``."""
    principal = statement.get("Principal", {})
    if principal == "*":
        return {"*"}
    found = set()
    for kind, values in principal.items():
        for value in _as_list(values):
            if kind == "AWS" and value.isascii() and value.isdigit():
                value = f"arn:{partition}:iam::{value}:root"
            found.add(f"{kind}:{value}")
    return found


def missing_key_statements(
    policy: dict[str, Any], partition: str, account: str, stage_accounts: list[str]
) -> list[dict[str, Any]]:
    """The required statements that no Allow statement of ``policy`` covers (conditions aside)."""
    allows = [s for s in _as_list(policy.get("Statement")) if isinstance(s, dict) and s.get("Effect") == "Allow"]
    missing = []
    for needed in required_key_statements(partition, account, stage_accounts):
        for principal in _principals(needed, partition):
            for action in _as_list(needed["Action"]):
                covered = any(
                    ({"*", principal} & _principals(s, partition))
                    and any(fnmatch.fnmatchcase(action, a) for a in _as_list(s.get("Action")))
                    for s in allows
                )
                if not covered:
                    missing.append(needed)
                    break
            else:
                continue
            break
    return missing


def check_key_policy(kms: Any, key_arn: str, stage_accounts: list[str]) -> None:
    parts = key_arn.split(":")
    partition, account = parts[1], parts[4]
    policy = json.loads(kms.get_key_policy(KeyId=key_arn, PolicyName="default")["Policy"])
    missing = missing_key_statements(policy, partition, account, stage_accounts)
    if missing:
        raise InstallError(
            f"the key policy of {key_arn} lacks what the installation needs; add these statements: "
            + json.dumps(missing, separators=(",", ":"))
        )


# --- uninstall -----------------------------------------------------------------------------

LIVE_STACK_STATUSES = [
    "CREATE_IN_PROGRESS", "CREATE_COMPLETE", "CREATE_FAILED", "ROLLBACK_IN_PROGRESS", "ROLLBACK_FAILED",
    "ROLLBACK_COMPLETE", "DELETE_IN_PROGRESS", "DELETE_FAILED", "UPDATE_IN_PROGRESS",
    "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_COMPLETE", "UPDATE_FAILED", "UPDATE_ROLLBACK_IN_PROGRESS",
    "UPDATE_ROLLBACK_FAILED", "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE",
    "REVIEW_IN_PROGRESS", "IMPORT_IN_PROGRESS", "IMPORT_COMPLETE", "IMPORT_ROLLBACK_IN_PROGRESS",
    "IMPORT_ROLLBACK_FAILED", "IMPORT_ROLLBACK_COMPLETE",
]  # fmt: skip


def stack_is_going(cloudformation: Any, stack_id: str) -> bool:
    """True when the control-plane stack itself is being deleted (not updated or rolled back)."""
    try:
        stacks = cloudformation.describe_stacks(StackName=stack_id)["Stacks"]
    except Exception as exc:
        if "does not exist" in str(exc):
            return True
        raise
    return bool(stacks) and str(stacks[0]["StackStatus"]).startswith("DELETE")


def pipeline_stacks(cloudformation: Any, prefix: str, own_stack_id: str = "") -> list[str]:
    """Stacks a pipeline of this installation made: its pipeline stacks and the stacks they deployed."""
    pages = cloudformation.get_paginator("list_stacks").paginate(StackStatusFilter=LIVE_STACK_STATUSES)
    return sorted(
        s["StackName"]
        for page in pages
        for s in page["StackSummaries"]
        if s["StackName"].startswith(f"{prefix}-")
        and s["StackStatus"] != "DELETE_COMPLETE"
        and s["StackId"] != own_stack_id
    )


def guard_uninstall(cloudformation: Any, prefix: str, own_stack_id: str = "") -> None:
    left = pipeline_stacks(cloudformation, prefix, own_stack_id)
    if left:
        shown = ", ".join(left[:20]) + (f" and {len(left) - 20} more" if len(left) > 20 else "")
        raise InstallError(
            f"{len(left)} pipeline stack(s) still exist ({shown}): delete the pipelines first "
            "(mlops delete <pipeline id>, or DELETE /pipelines/{id}), then delete the installation again"
        )


def empty_bucket(s3: Any, bucket: str) -> int:
    """Delete every object version and delete marker; the number removed."""
    removed = 0
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        doomed = [
            {"Key": v["Key"], "VersionId": v["VersionId"]}
            for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
        ]
        for start in range(0, len(doomed), 1000):
            s3.delete_objects(Bucket=bucket, Delete={"Objects": doomed[start : start + 1000], "Quiet": True})
        removed += len(doomed)
    return removed


def _uninstall(event: dict[str, Any], s3: Any, cloudformation: Any) -> None:
    """The Delete of a custom resource: the uninstall actions act only when the stack is going."""
    props = event.get("ResourceProperties", {})
    action = props.get("Action")
    if action == "config-bucket-notifications":
        _config_notifications(s3 or _client("s3"), props, remove=True)
        return
    if action not in ("guard-uninstall", "empty-bucket-on-uninstall"):
        return  # installed prefixes stay: pipelines created from them still deploy from them
    cloudformation = cloudformation or _client("cloudformation")
    if not stack_is_going(cloudformation, event["StackId"]):
        return
    if action == "guard-uninstall":
        guard_uninstall(cloudformation, props["PipelinePrefix"], event["StackId"])
    else:
        empty_bucket(s3 or _client("s3"), props["BucketName"])


# --- custom resource -------------------------------------------------------------------------


def respond(event: dict[str, Any], status: str, physical_id: str, data: dict[str, str], reason: str = "") -> None:
    body = json.dumps(
        {
            "Status": status,
            "Reason": reason[:3000] or "see the function's log",
            "PhysicalResourceId": physical_id,
            "StackId": event["StackId"],
            "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"],
            "Data": data,
        }
    ).encode()
    request = urllib.request.Request(
        event["ResponseURL"], data=body, method="PUT", headers={"Content-Type": "", "Content-Length": str(len(body))}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        answer.read()


def create_model_registry(sagemaker: Any, group: str) -> None:
    """Create the model package group unless it exists (it is kept when the stack goes)."""
    try:
        sagemaker.describe_model_package_group(ModelPackageGroupName=group)
        return
    except Exception as exc:
        if _code(exc) not in ("ValidationException", "ResourceNotFound"):
            raise
    sagemaker.create_model_package_group(
        ModelPackageGroupName=group, ModelPackageGroupDescription="Models provisioned by the MLOps orchestrator."
    )


def _config_notifications(s3: Any, props: dict[str, Any], remove: bool = False) -> None:
    try:
        config_notifications(
            s3, props["BucketName"], props["FunctionArn"], props["NotificationId"], props["Suffix"], remove
        )
    except Exception as exc:
        if not (remove and _code(exc) == "NoSuchBucket"):  # a bucket deleted first has nothing to remove
            raise


def _client(service: str) -> Any:
    import boto3

    return boto3.client(service)


def handler(
    event: dict[str, Any],
    context: Any,
    s3: Any = None,
    sagemaker: Any = None,
    kms: Any = None,
    cloudformation: Any = None,
) -> None:
    props = event.get("ResourceProperties", {})
    physical_id = event.get("PhysicalResourceId") or event["LogicalResourceId"]
    try:
        if event["RequestType"] == "Delete":
            _uninstall(event, s3, cloudformation)
            respond(event, "SUCCESS", physical_id, {})
            return
        s3 = s3 or _client("s3")
        action = props.get("Action")
        if action == "install-blueprints":
            prefix = install(s3, props["BucketName"], props["Version"], read_payload(PAYLOAD))
            respond(event, "SUCCESS", f"{props['BucketName']}/{prefix}", {"Prefix": prefix})
        elif action == "check-versioning":
            check_versioning(s3, props["BucketName"])
            respond(event, "SUCCESS", props["BucketName"], {"BucketName": props["BucketName"]})
        elif action == "check-key-policy":
            check_key_policy(kms or _client("kms"), props["KeyArn"], _as_list(props.get("StageAccounts")))
            respond(event, "SUCCESS", props["KeyArn"], {})
        elif action == "config-bucket-notifications":
            _config_notifications(s3, props)
            respond(event, "SUCCESS", props["BucketName"], {"BucketName": props["BucketName"]})
        elif action in ("guard-uninstall", "empty-bucket-on-uninstall"):
            respond(event, "SUCCESS", physical_id, {})
        elif action == "create-model-registry":
            create_model_registry(sagemaker or _client("sagemaker"), props["GroupName"])
            respond(event, "SUCCESS", props["GroupName"], {"GroupName": props["GroupName"]})
        else:
            raise InstallError(f"unknown Action {action!r}")
    except Exception as exc:
        print(f"{event.get('RequestType')} {event.get('ResourceType')} failed: {exc!r}")
        respond(event, "FAILED", physical_id, {}, reason=str(exc))


def _pack(out: Path) -> None:
    for name, body in pack_files(Path(__file__).resolve().parent).items():
        target = out / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--pack":
        _pack(Path(sys.argv[2]))
    else:
        sys.exit("usage: python installer.py --pack OUT_DIR")
