"""Local mode's identities: each component calls the emulator with its own role's credentials.

moto checks identity policies once ``INITIAL_NO_AUTH_ACTION_COUNT`` requests have passed
(``moto.settings``, read from the environment when moto is imported and read again on each
request; local mode runs the server in its own process and sets it to 0 after bootstrapping).
From then on every request must be SigV4-signed with keys moto knows (an IAM user's, or an
assumed role's), and moto looks for an Allow of the action in that principal's inline and
attached policies (``moto/iam/access_control.py``, moto 5.2.x).

What moto checks:
- the action, as ``<signing name>:<operation>`` (``sns:Publish``, ``states:StartExecution``);
  S3 operations map to IAM actions (HEAD of an object is ``s3:GetObject``, a versioned GET
  ``s3:GetObjectVersion``);
- the resource, for S3 only (``arn:aws:s3:::bucket`` or ``bucket/key``), STS AssumeRole and
  IAM calls naming a role; every other service is checked against ``*``;
- an explicit Deny whose Resource is ``*`` (or matches, for S3).

What moto does not check: resources of other services (a statement scoped to an ARN never
matches ``*``, so :func:`action_level` widens those statements to ``*`` before the role is
used); Conditions (ignored); ``NotResource``; permission boundaries; SCPs and session
policies; resource policies (bucket, topic, key, queue policies); cross-account access (a
stage account's role publishes to the orchestrator's topic as that account's admin);
``iam:PassRole``; the permissions a service needs on the caller's behalf (CloudFormation
creates a stack's resources without checking the deploy role; Step Functions' ``.sync``
rules); operation names that differ from IAM actions (``s3:HeadBucket`` for ListBucket).
Trust policies are not evaluated either: moto fails (500) on AssumeRole of a role trusted by
a service principal, so local mode issues role credentials from the emulator's STS backend
in-process, as the service would.

The emulator's own plumbing (bootstrap, reading function code, setting function layers the
emulator's CloudFormation drops, failure reasons) runs as an admin: the IAM user
``mlops-local-admin`` whose keys are ``local``/``local`` (so ``AWS_ACCESS_KEY_ID=local``
keeps working for users), and a role of that name in each stage account.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from mlops_cfn import Resolver, load

from .bootstrap import ACCOUNT
from .files import CONTROL_PLANE

ADMIN = "mlops-local-admin"
ADMIN_KEY = "local"
ADMIN_SECRET = "local"
# The emulator enforces the roles unless this is 0 (to tell a local failure that IAM causes
# from one it does not).
ENFORCE_ENV = "MLOPS_LOCAL_ENFORCE_IAM"
# The control-plane template whose roles local mode creates (a test points it at a changed copy).
TEMPLATE_ENV = "MLOPS_LOCAL_CONTROL_PLANE_TEMPLATE"
ALLOW_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
# Roles of the control plane that local mode creates from sam/template.yaml.
ORCHESTRATOR_ROLE = "OrchestratorFunctionRole"
DEPLOY_ROLE = "PipelineDeployRole"


def enforcement_wanted() -> bool:
    return os.environ.get(ENFORCE_ENV, "1").strip().lower() not in ("0", "false", "no", "off")


class AccessDenied(Exception):
    """A check local mode makes itself, for a call that does not reach the emulator's API."""


# --- policies as moto can check them ---------------------------------------------------


def _is_s3(action: str) -> bool:
    return action.lower().startswith("s3:")


def action_level(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` with each Allow's non-S3 actions on ``*``: what moto can match.

    moto compares resources only for S3 (and role ARNs of STS/IAM calls); for every other
    service the requested resource is ``*``, which a scoped ARN never matches. S3 actions
    keep their resources, so bucket and key scoping is still enforced. Deny statements are
    kept as written; null statements (``AWS::NoValue``) are dropped. The result is idempotent.
    """
    statements = document.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    out: list[dict[str, Any]] = []
    for statement in statements:
        if not statement:
            continue  # AWS::NoValue, which the emulator's CloudFormation leaves in the list as null
        if statement.get("Effect") != "Allow" or "Action" not in statement or statement.get("Resource") == "*":
            out.append(statement)
            continue
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        s3 = [a for a in actions if _is_s3(a)]
        others = [a for a in actions if not _is_s3(a)]
        if s3:
            out.append({**statement, "Action": s3})
        if others:
            kept = {k: v for k, v in statement.items() if k != "NotResource"}
            out.append({**kept, "Action": others, "Resource": "*"})
    return {**document, "Statement": out}


def _sign_empty_bodies_as_empty() -> None:
    """moto (5.2.x) recomputes a request's signature over its parsed parameters when the body is
    empty, which is right for form posts (it has consumed the form) but not for a GET, HEAD or
    DELETE without a body whose service parsed something else there (Lambda's GetFunction and
    ListFunctions: the headers): those failed with SignatureDoesNotMatch. Clients sign such a
    body as empty; the emulator in local mode is made to do the same."""
    from moto.iam.access_control import IAMRequestBase

    if getattr(IAMRequestBase, "_mlops_empty_bodies", False):
        return
    original = IAMRequestBase._create_aws_request

    def create(self: Any) -> Any:
        if not self._body and self._method in ("GET", "HEAD", "DELETE"):
            saved, self._data = self._data, b""
            try:
                return original(self)
            finally:
                self._data = saved
        return original(self)

    IAMRequestBase._create_aws_request = create  # type: ignore[method-assign]
    IAMRequestBase._mlops_empty_bodies = True  # type: ignore[attr-defined]


# --- the control plane's roles, from sam/template.yaml -----------------------------------


def _unresolved(name: str) -> str:
    """A reference local mode has no value for: an ARN no request names.

    Only S3 resources need exact values (moto matches no other service's); a bucket the
    orchestrator's role names must not be one of these.
    """
    return f"arn:aws:local:::unresolved/{name}"


# A role as local mode creates it: name, trust policy, inline policies by name.
RoleSpec = tuple[str, dict[str, Any], dict[str, dict[str, Any]]]


def control_plane_roles(plane: Any, template_path: Path | None = None) -> dict[str, RoleSpec]:
    """The orchestrator's and the deploy role's (name, trust policy, inline policies).

    Read from the control-plane template with its parameters' defaults, the local account and
    region, and the local resource names; the template's bucket names become local mode's.
    """
    path = template_path or Path(os.environ.get(TEMPLATE_ENV) or CONTROL_PLANE)
    template = load(path)
    region = plane.region
    names: dict[str, Any] = {name: spec.get("Default", "") for name, spec in template.get("Parameters", {}).items()}
    names.update(
        {
            "AWS::Region": region,
            "AWS::AccountId": ACCOUNT,
            "AWS::Partition": "aws",
            "AWS::StackName": "mlops-orchestrator",
            "AWS::URLSuffix": "amazonaws.com",
            "NotificationsTopic": plane.topic_arn,
            "PipelineRolesBoundary": f"arn:aws:iam::{ACCOUNT}:policy/{plane.boundary_name}",
            "SageMakerLayer": plane.layer_arn,
        }
    )
    deploy_arn = plane.env()["CFN_ROLE_ARN"]
    attributes = {
        (DEPLOY_ROLE, "Arn"): deploy_arn,
        (ORCHESTRATOR_ROLE, "Arn"): f"arn:aws:iam::{ACCOUNT}:role/{orchestrator_role_name(plane)}",
        ("ConfigEventsDeadLetters", "Arn"): f"arn:aws:sqs:{region}:{ACCOUNT}:mlops-config-events-failed",
    }
    resolve = Resolver(template, names, attributes=attributes, unresolved=_unresolved).resolve
    local_buckets = {
        resolve(template["Globals"]["Function"]["Environment"]["Variables"][variable]): plane.env()[variable]
        for variable in ("ASSETS_BUCKET", "BLUEPRINT_BUCKET", "CONFIG_BUCKET")
    }
    roles = {}
    wanted = ((ORCHESTRATOR_ROLE, orchestrator_role_name(plane)), (DEPLOY_ROLE, deploy_arn.rsplit("/", 1)[1]))
    for logical, name in wanted:
        properties = resolve(template["Resources"][logical]["Properties"])
        text = json.dumps(properties)
        for theirs, ours in local_buckets.items():
            text = text.replace(f":::{theirs}", f":::{ours}")
        properties = json.loads(text)
        policies = {p["PolicyName"]: p["PolicyDocument"] for p in properties.get("Policies", [])}
        roles[logical] = (name, properties["AssumeRolePolicyDocument"], policies)
    return roles


def orchestrator_role_name(plane: Any) -> str:
    return f"mlops-orchestrator-{ORCHESTRATOR_ROLE}"


# --- the identities ---------------------------------------------------------------------


class Identities:
    """Sessions for local mode's components, in the process that runs the emulator.

    ``enforcing`` False: every identity is the admin (the emulator checks nothing).
    """

    def __init__(self, region: str, stage_accounts: tuple[str, ...] = ()) -> None:
        self.region = region
        self.stage_accounts = stage_accounts
        self.enforcing = False
        self._lock = threading.Lock()

    # -- setup (before enforcement) --

    def create_admins(self, session: Any) -> None:
        """The admin user (keys ``local``/``local``) and an admin role in each stage account."""
        from moto.iam.models import iam_backends

        iam = session.client("iam", region_name=self.region)
        iam.create_user(UserName=ADMIN)
        iam.put_user_policy(UserName=ADMIN, PolicyName="everything", PolicyDocument=json.dumps(ALLOW_ALL))
        created = iam.create_access_key(UserName=ADMIN)["AccessKey"]["AccessKeyId"]
        # moto generates keys; the admin's are the ones local mode has always told users to use.
        backend = iam_backends[ACCOUNT]["aws"]
        key = backend.access_keys.pop(created)
        key.access_key_id, key.secret_access_key = ADMIN_KEY, ADMIN_SECRET
        backend.access_keys[ADMIN_KEY] = key
        for account in self.stage_accounts:
            stage = iam_backends[account]["aws"]
            home = {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
            trust = {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Principal": home, "Action": "sts:AssumeRole"}],
            }
            stage.create_role(
                role_name=ADMIN, assume_role_policy_document=json.dumps(trust), path="/",
                permissions_boundary=None, description="local mode's plumbing", tags=[],
                max_session_duration="3600", linked_service=None,
            )  # fmt: skip
            stage.put_role_policy(ADMIN, "everything", json.dumps(ALLOW_ALL))

    def create_roles(self, session: Any, roles: dict[str, RoleSpec]) -> None:
        iam = session.client("iam", region_name=self.region)
        for name, trust, policies in roles.values():
            iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
            for policy, document in policies.items():
                iam.put_role_policy(RoleName=name, PolicyName=policy, PolicyDocument=json.dumps(document))

    def enforce(self) -> None:
        """From now on the emulator authenticates and authorises every request."""
        from moto import settings
        from moto.core.authorization import ActionAuthenticatorMixin

        _sign_empty_bodies_as_empty()
        settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
        ActionAuthenticatorMixin.request_count = 0
        self.enforcing = True

    # -- sessions --

    def admin(self, account: str = ACCOUNT) -> Any:
        import boto3

        if account == ACCOUNT:
            return boto3.session.Session(
                aws_access_key_id=ADMIN_KEY, aws_secret_access_key=ADMIN_SECRET, region_name=self.region
            )
        return self._session(f"arn:aws:iam::{account}:role/{ADMIN}", "mlops-local")

    def role(self, role_arn: str, name: str = "mlops-local") -> Any:
        """A session with ``role_arn``'s credentials, its policies made checkable (:func:`action_level`).

        A stage account's role the emulator does not hold (its run role is created by the
        stage-account template, which local mode does not deploy) gives that account's admin.
        """
        account = role_arn.split(":")[4]
        if not self.enforcing:
            return self.admin(account)
        role = self._role(role_arn)
        if role is None:
            if account != ACCOUNT:
                return self.admin(account)
            raise AccessDenied(f"role {role_arn} does not exist in the emulator")
        with self._lock:
            for policy, document in list(role.policies.items()):
                # moto keeps a CloudFormation role's policies as dicts, which its own check
                # cannot read; it reads them as JSON text.
                role.policies[policy] = json.dumps(action_level(_document(document)))
        return self._session(role_arn, name)

    def function(self, account: str, name: str) -> dict[str, Any]:
        """A function's configuration and code location, as GetFunction answers, read from the
        emulator itself (plumbing: no identity involved)."""
        from moto.awslambda.models import lambda_backends

        found = lambda_backends[account][self.region].get_function(name)
        return {"Configuration": found.get_configuration(), "Code": found.get_code()["Code"]}

    def account_of(self, session: Any) -> str:
        return str(session.client("sts", region_name=self.region).get_caller_identity()["Account"])

    def check(self, session: Any, action: str, resource: str = "*") -> None:
        """Raise :class:`AccessDenied` unless ``session``'s role may ``action``, as moto would decide.

        For calls local mode makes itself instead of through the emulator's API (Step
        Functions invoking a function).
        """
        if not self.enforcing:
            return
        from moto.iam.access_control import IAMPolicy, PermissionResult

        caller = session.client("sts", region_name=self.region).get_caller_identity()["Arn"]
        if ":assumed-role/" not in caller:
            return  # the admin user
        account = caller.split(":")[4]
        role = self._role(f"arn:aws:iam::{account}:role/{caller.split('/')[1]}")
        documents = list(role.policies.values()) if role else []
        results = [IAMPolicy(json.dumps(action_level(_document(d)))).is_action_permitted(action) for d in documents]
        if PermissionResult.DENIED in results or PermissionResult.PERMITTED not in results:
            raise AccessDenied(f"User: {caller} is not authorized to perform: {action} on resource: {resource}")

    def _role(self, role_arn: str) -> Any:
        from moto.iam.models import iam_backends

        account, name = role_arn.split(":")[4], role_arn.rsplit("/", 1)[1]
        try:
            return iam_backends[account]["aws"].get_role(name)
        except Exception:
            return None

    def _session(self, role_arn: str, name: str) -> Any:
        """Credentials for ``role_arn`` from the emulator's STS, as a service assumes its role."""
        import boto3
        from moto.sts.models import sts_backends

        account = role_arn.split(":")[4]
        assumed = sts_backends[account]["aws"].assume_role(
            region_name=self.region, role_session_name=name, role_arn=role_arn,
            policy="", duration=43200, external_id="",
        )  # fmt: skip
        return boto3.session.Session(
            aws_access_key_id=assumed.access_key_id,
            aws_secret_access_key=assumed.secret_access_key,
            aws_session_token=assumed.session_token,
            region_name=self.region,
        )


def _document(stored: str | dict[str, Any]) -> dict[str, Any]:
    return dict(json.loads(stored)) if isinstance(stored, str) else dict(stored)


def deployed_policies(iam: Any, role_name: str) -> dict[str, dict[str, Any]]:
    """A role's inline policies as the emulator holds them (tests strip actions from copies);
    ``iam``: a client of the emulator."""
    return {
        name: iam.get_role_policy(RoleName=role_name, PolicyName=name)["PolicyDocument"]
        for name in iam.list_role_policies(RoleName=role_name)["PolicyNames"]
    }
