"""CodePipeline's Step Functions invoke action describes the state machine before it starts it.

AWS CodePipeline User Guide, "AWS Step Functions invoke action reference" and the service role
policy it lists: states:StartExecution, states:DescribeStateMachine and
states:DescribeExecution (AWS CDK's StepFunctionInvokeAction grants the same three). A role
with StartExecution alone starts nothing: the action fails on DescribeStateMachine.
"""

from __future__ import annotations

from typing import Any

from cfnlint.rules import CloudFormationLintRule, RuleMatch

from mlops_dev.cfn_rules._common import allows, resource_values, role_statements, trusted

PIPELINE_SERVICE = "codepipeline.amazonaws.com"


class StepFunctionsActionPermissions(CloudFormationLintRule):
    """A role the pipeline's Step Functions action runs as may describe what it starts."""

    id = "E9009"
    shortdesc = "Pipeline roles that start executions may describe them"
    description = (
        "Each AWS::IAM::Role trusted by CodePipeline or by an account (a stage account's Run role) "
        "that allows states:StartExecution also allows states:DescribeStateMachine on the same state "
        "machines, and states:DescribeExecution."
    )
    tags = ["mlops", "iam", "codepipeline", "stepfunctions"]

    def match(self, cfn: Any) -> list[RuleMatch]:
        found = []
        for name, role in cfn.get_resources(["AWS::IAM::Role"]).items():
            services, accounts = trusted(role)
            if PIPELINE_SERVICE not in services and not accounts:
                continue
            statements = role_statements(cfn.template, name)
            starts = allows(statements, "states:StartExecution")
            if not starts:
                continue
            started = [r for s in starts for r in resource_values(s.get("Resource"))]
            describes = allows(statements, "states:DescribeStateMachine")
            described = [r for s in describes for r in resource_values(s.get("Resource"))]
            problems = []
            if "*" not in described and any(r not in described for r in started):
                problems.append("states:DescribeStateMachine on the state machines it starts")
            if not allows(statements, "states:DescribeExecution"):
                problems.append("states:DescribeExecution")
            if problems:
                found.append(
                    RuleMatch(
                        ["Resources", name, "Properties", "Policies"],
                        f"{name} may start executions for a pipeline action but lacks {' and '.join(problems)}",
                    )
                )
        return found
