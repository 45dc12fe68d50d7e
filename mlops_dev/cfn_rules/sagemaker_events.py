"""EventBridge rules on SageMaker events name only detail types SageMaker sends.

A rule with a detail type SageMaker never sends is accepted by EventBridge and simply never
fires: its notifications silently stop. There is, for instance, no AutoML job event.
"""

from __future__ import annotations

from typing import Any

from cfnlint.rules import CloudFormationLintRule, RuleMatch

# The detail types SageMaker sends to EventBridge, from the Amazon EventBridge events reference,
# "Amazon SageMaker AI events" (docs.aws.amazon.com/eventbridge/latest/ref/events-ref-sagemaker.html),
# plus the CloudTrail-delivered API calls every service has. The one list in this project.
SAGEMAKER_DETAIL_TYPES = frozenset(
    {
        "SageMaker Training Job State Change",
        "SageMaker HyperParameter Tuning Job State Change",
        "SageMaker Transform Job State Change",
        "SageMaker Endpoint Config State Change",
        "SageMaker Endpoint State Change",
        "SageMaker Model State Change",
        "SageMaker Notebook Instance State Change",
        "SageMaker Notebook Lifecycle Config State Change",
        "SageMaker Algorithm State Change",
        "SageMaker Model Package State Change",
        "SageMaker Processing Job State Change",
        "SageMaker Feature Group State Change",
        "SageMaker Image State Change",
        "SageMaker Image Version State Change",
        "SageMaker Endpoint Deployment State Change",
        "SageMaker Model Card State Change",
        "SageMaker Model Card Export Job State Change",
        "SageMaker Monitoring Schedule State Change",
        "SageMaker HyperPod Cluster State Change",
        "SageMaker HyperPod Cluster Node Health Event",
        "SageMaker HyperPod Cluster Event",
        "SageMaker A2I HumanLoop Status Change",
        "SageMaker Human Loop Finished",
        "SageMaker Human Loop Step Execution Finished",
        "SageMaker Human Task Accepted",
        "SageMaker Human Task Created",
        "SageMaker Human Task Declined",
        "SageMaker Human Task Expired",
        "SageMaker Human Task Returned",
        "SageMaker Human Task Submitted",
        "SageMaker Ground Truth Labeling Job Task Status Change",
        "SageMaker Model Building Pipeline Execution Status Change",
        "SageMaker Model Building Pipeline Execution Step Status Change",
        "AWS API Call via CloudTrail",
    }
)


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


class SageMakerEventDetailType(CloudFormationLintRule):
    """An EventBridge rule on aws.sagemaker matches a detail type SageMaker sends."""

    id = "E9012"
    shortdesc = "SageMaker event rules use documented detail types"
    description = (
        "Each AWS::Events::Rule whose EventPattern source includes aws.sagemaker names only "
        "detail-types from the EventBridge reference's list of SageMaker events."
    )
    tags = ["mlops", "events", "sagemaker"]

    def match(self, cfn: Any) -> list[RuleMatch]:
        found = []
        for name, rule in cfn.get_resources(["AWS::Events::Rule"]).items():
            pattern = rule.get("Properties", {}).get("EventPattern")
            if not isinstance(pattern, dict) or "aws.sagemaker" not in _listed(pattern.get("source", [])):
                continue
            for detail_type in _listed(pattern.get("detail-type", [])):
                if isinstance(detail_type, str) and detail_type not in SAGEMAKER_DETAIL_TYPES:
                    found.append(
                        RuleMatch(
                            ["Resources", name, "Properties", "EventPattern", "detail-type"],
                            f"{name} waits for {detail_type!r}, which SageMaker never sends: the rule never fires",
                        )
                    )
        return found
