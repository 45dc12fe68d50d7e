"""Where the emulator answers differently from AWS in ways a user notices, local mode corrects it.

- Names: moto's CloudFormation gives SageMaker endpoints, endpoint configurations and models
  generated names (``<stack>-Endpoint-85EAH4RI3ASA``) even when the template names them, as
  AWS never does. :func:`honour_template_names` makes it take the template's name property, so
  a monitor of ``churn-endpoint`` finds the endpoint a real-time pipeline named so.
- Roles: moto's CloudFormation keeps a role's inline policies as they were created when a
  stack update changes them, and keeps ``!Ref AWS::NoValue`` as a null resource that its IAM
  check then fails on (a 500). :func:`update_role_policies` makes an update replace them, as
  CloudFormation does, and leaves the removed values out; so an updated pipeline runs with the
  permissions its new template gives.
- Parameters: moto's DescribeStacks answers a list parameter (``CommaDelimitedList``) with the
  Python text of a list (``['a', '']``), where AWS answers the value as given (``a,``).
  :func:`join_list_parameters` makes it answer as AWS does, so what reads a deployed stack's
  parameters (the status document's rollback alarms) reads the same values in both.
- Errors: an AWS error message often names no resource ("The specified bucket does not
  exist"); the service puts the name in another field, or only the request has it.
  :func:`name_resources_in_errors` appends the request's resource names (``Bucket``, ``Key``,
  ``EndpointName``, an ARN, ...) to the message of every error a client of this process gets,
  so a failure shown by local mode says which bucket or endpoint it concerns.

Both change this process only (the emulator runs in it); both are idempotent.
"""

from __future__ import annotations

from typing import Any

# CloudFormation resource type -> the property that names it, where moto ignores the property.
TEMPLATE_NAMES = {
    "AWS::SageMaker::Endpoint": "EndpointName",
    "AWS::SageMaker::EndpointConfig": "EndpointConfigName",
    "AWS::SageMaker::Model": "ModelName",
}

# Request parameters that name a resource: a name, an ARN, an id, a bucket or an object key.
_NAMING_SUFFIXES = ("Name", "Arn", "Bucket", "Key", "Id", "Url")
_LOWER_SUFFIXES = tuple(s.lower() for s in _NAMING_SUFFIXES)
_NOT_NAMES = {"ClientRequestToken", "IdempotencyToken", "VersionId", "ContinuationToken", "NextToken", "TemplateBody"}


def honour_template_names() -> None:
    """moto's models of :data:`TEMPLATE_NAMES` take their name from the template's property."""
    from moto.cloudformation.parsing import get_model_list

    for model in get_model_list():
        wanted = TEMPLATE_NAMES.get(model.cloudformation_type())
        if wanted and model.cloudformation_name_type() != wanted:
            model.cloudformation_name_type = staticmethod(lambda name=wanted: name)  # type: ignore[method-assign]


def _without_nulls(value: Any) -> Any:
    """``value`` without the nulls ``!Ref AWS::NoValue`` leaves in the emulator's documents."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value if v is not None]
    return value


def update_role_policies() -> None:
    """moto's CloudFormation role: inline policies without nulls, and replaced on a stack update;
    a resource that names a changed parameter only in ``Fn::Sub`` is updated too."""
    import re

    from moto.cloudformation import parsing
    from moto.iam.models import Role

    if getattr(Role, _PATCHED, False):
        return
    create = Role.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]
    update = Role.update_from_cloudformation_json.__func__  # type: ignore[attr-defined]
    references = parsing.get_references_from_template
    substituted = re.compile(r"\$\{([A-Za-z0-9_:]+)\}")

    def created(
        cls: Any, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str,
        **kwargs: Any,
    ) -> Any:  # fmt: skip
        return create(cls, resource_name, _without_nulls(cloudformation_json), account_id, region_name, **kwargs)

    def updated(
        cls: Any, original_resource: Any, new_resource_name: str, cloudformation_json: dict[str, Any],
        account_id: str, region_name: str,
    ) -> Any:  # fmt: skip
        template = _without_nulls(cloudformation_json)
        role = update(cls, original_resource, new_resource_name, template, account_id, region_name)
        wanted = {p["PolicyName"]: p["PolicyDocument"] for p in template.get("Properties", {}).get("Policies", [])}
        for name in [n for n in role.policies if n not in wanted]:
            role.delete_policy(name)
        for name, document in wanted.items():
            role.put_policy(name, document)
        return role

    def referenced(template: Any) -> list[str]:
        found = list(references(template))
        if isinstance(template, dict) and "Fn::Sub" in template:
            sub = template["Fn::Sub"]
            text = sub[0] if isinstance(sub, list) and sub else sub
            if isinstance(text, str):
                found += [name for name in substituted.findall(text) if "." not in name]
        if isinstance(template, dict):
            for value in template.values():
                if isinstance(value, dict | list):
                    found += [n for n in referenced(value) if n not in found]
        elif isinstance(template, list):
            for item in template:
                found += [n for n in referenced(item) if n not in found]
        return found

    Role.create_from_cloudformation_json = classmethod(created)  # type: ignore[assignment,method-assign]
    Role.update_from_cloudformation_json = classmethod(updated)  # type: ignore[assignment,method-assign]
    parsing.get_references_from_template = referenced
    setattr(Role, _PATCHED, True)


def resource_names(params: dict[str, Any]) -> list[str]:
    """``Param=value`` for each top-level request parameter that names a resource."""
    named = []
    for key, value in params.items():
        if key in _NOT_NAMES or not isinstance(value, str) or not value or len(value) > 512:
            continue
        if key.lower() == "name" or key.lower().endswith(_LOWER_SUFFIXES):
            named.append(f"{key}={value}")
    return named


def with_names(message: str, params: dict[str, Any]) -> str:
    """``message`` followed by the resource names of ``params`` it does not already hold."""
    missing = [pair for pair in resource_names(params) if pair.split("=", 1)[1] not in message]
    return f"{message} ({', '.join(missing)})" if missing else message


_PATCHED = "_mlops_names_resources"


def name_resources_in_errors() -> None:
    """Every botocore client of this process reports errors with the resources they concern."""
    from botocore.client import BaseClient
    from botocore.exceptions import ClientError

    original = BaseClient._make_api_call
    if getattr(original, _PATCHED, False):
        return

    def _make_api_call(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        try:
            return original(self, operation_name, api_params)
        except ClientError as exc:
            error = exc.response.get("Error") or {}
            message = str(error.get("Message") or "")
            named = with_names(message, api_params)
            if named == message:
                raise
            response = {**exc.response, "Error": {**error, "Message": named}}
            raise type(exc)(response, operation_name) from exc

    setattr(_make_api_call, _PATCHED, True)
    BaseClient._make_api_call = _make_api_call


def join_list_parameters() -> None:
    """moto's DescribeStacks gives list parameters as AWS does: their values joined by commas."""
    from moto.cloudformation.models import Stack

    listed: Any = Stack.parameter_list
    if getattr(listed.fget, _PATCHED, False):
        return

    def parameter_list(self: Any) -> list[dict[str, Any]]:
        return [
            {**p, "ParameterValue": ",".join(map(str, p["ParameterValue"]))}
            if isinstance(p["ParameterValue"], list)
            else p
            for p in listed.fget(self)
        ]

    setattr(parameter_list, _PATCHED, True)
    Stack.parameter_list = property(parameter_list)  # type: ignore[method-assign,assignment]


def apply() -> None:
    honour_template_names()
    join_list_parameters()
    update_role_policies()
    name_resources_in_errors()
