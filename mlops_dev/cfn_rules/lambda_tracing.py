"""Lambda refuses CreateFunction with active tracing unless the execution role may send traces.

AWS Lambda Developer Guide, "Visualize Lambda function invocations using AWS X-Ray": the
function needs permission to upload trace data; attach AWSXRayDaemonWriteAccess (or allow
xray:PutTraceSegments and xray:PutTelemetryRecords). SAM adds them only to roles it
generates, and the emulator creates the function either way.
"""

from __future__ import annotations

from typing import Any

from cfnlint.rules import CloudFormationLintRule, RuleMatch

from mlops_dev.cfn_rules._common import allows, role_statements

TRACE_ACTIONS = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")
MANAGED_POLICY = "AWSXRayDaemonWriteAccess"


def _role_name(value: Any) -> str | None:
    """The logical id of ``!GetAtt Name.Arn`` (either spelling), else None."""
    if isinstance(value, dict) and list(value) == ["Fn::GetAtt"]:
        target = value["Fn::GetAtt"]
        name, _, attribute = target.partition(".") if isinstance(target, str) else (target[0], ".", target[1])
        return name if attribute == "Arn" else None
    return None


def _active(function: dict[str, Any]) -> bool:
    tracing = function.get("Properties", {}).get("TracingConfig", {})
    return isinstance(tracing, dict) and "Active" in str(tracing.get("Mode"))


class LambdaTracingPermissions(CloudFormationLintRule):
    """A function with active tracing has a role that may put trace segments and telemetry."""

    id = "E9008"
    shortdesc = "Actively traced functions may send traces"
    description = (
        "Each AWS::Lambda::Function with TracingConfig Mode Active whose Role is the Arn of a role "
        f"in the template: that role attaches {MANAGED_POLICY} or allows {' and '.join(TRACE_ACTIONS)}."
    )
    tags = ["mlops", "iam", "lambda", "xray"]

    def match(self, cfn: Any) -> list[RuleMatch]:
        template = cfn.template
        found = []
        for name, function in cfn.get_resources(["AWS::Lambda::Function"]).items():
            role = _role_name(function.get("Properties", {}).get("Role"))
            if not _active(function) or role is None:
                continue
            if template.get("Resources", {}).get(role, {}).get("Type") != "AWS::IAM::Role":
                continue
            managed = template["Resources"][role].get("Properties", {}).get("ManagedPolicyArns", []) or []
            if any(f"policy/{MANAGED_POLICY}" in str(arn) for arn in managed):
                continue
            statements = role_statements(template, role)
            missing = [a for a in TRACE_ACTIONS if not allows(statements, a)]
            if missing:
                found.append(
                    RuleMatch(
                        ["Resources", name, "Properties", "TracingConfig"],
                        f"{name} traces actively but its role {role} lacks {', '.join(missing)}: "
                        "Lambda refuses to create it",
                    )
                )
        return found
