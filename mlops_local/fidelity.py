"""Where the emulator answers differently from AWS in ways a user notices, local mode corrects it.

- Names: moto's CloudFormation gives SageMaker endpoints, endpoint configurations and models
  generated names (``<stack>-Endpoint-85EAH4RI3ASA``) even when the template names them, as
  AWS never does. :func:`honour_template_names` makes it take the template's name property, so
  a monitor of ``churn-endpoint`` finds the endpoint a real-time pipeline named so.
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
    BaseClient._make_api_call = _make_api_call  # type: ignore[method-assign]


def apply() -> None:
    honour_template_names()
    name_resources_in_errors()
