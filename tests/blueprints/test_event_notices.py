"""The notices EventBridge sends straight to the topic (pipeline runs, training and tuning jobs)
read as the orchestrator's own: one line naming the pipeline and the stage."""

from __future__ import annotations

import json
import re

import pytest

from chalicelib import notices
from mlops_cfn import Resolver
from tests.support.templates import template

STACK = "mlops-pipeline-churn-modeltraining"
PIPELINE = f"{STACK}-codepipeline"
# (blueprint, rule, sample values of its input paths, the pipeline and stage the line names)
RULES = [
    ("single_account_codepipeline.yaml", "StateChangeRule",
     {"pipeline": PIPELINE, "state": "FAILED", "execution": "0a1b"}, PIPELINE, "pipeline run"),
    ("multi_account_codepipeline.yaml", "StateChangeRule",
     {"pipeline": PIPELINE, "state": "SUCCEEDED", "execution": "0a1b"}, PIPELINE, "pipeline run"),
    ("model_training_pipeline.yaml", "JobStateRule",
     {"job": "churn-20261201", "status": "Failed", "reason": "AlgorithmError: bad input"}, STACK, "training"),
    ("model_tuning_pipeline.yaml", "JobStateRule",
     {"job": "churn-tune", "status": "Completed", "best": "churn-tune-007", "reason": ""}, STACK, "tuning"),
]  # fmt: skip


@pytest.mark.parametrize(("blueprint", "rule", "values", "pipeline", "stage"), RULES)
def test_each_event_notice_is_one_line_naming_its_pipeline_and_stage(
    blueprint: str, rule: str, values: dict[str, str], pipeline: str, stage: str
) -> None:
    transformer = template(blueprint)["Resources"][rule]["Properties"]["Targets"][0]["InputTransformer"]
    assert set(transformer["InputPathsMap"]) == set(values)
    names = {"AWS::Region": "eu-west-1", "AWS::StackName": STACK}
    text = Resolver(names=names).resolve(transformer["InputTemplate"])
    for name, value in values.items():  # EventBridge puts each path's value where <name> stands
        text = text.replace(f"<{name}>", value)
    message = json.loads(text)
    assert isinstance(message, str) and "\n" not in message
    assert message.startswith(notices.line(pipeline, stage, ""))
    assert all(value in message for value in values.values())
    if stage == "pipeline run":
        assert re.search(
            r"https://eu-west-1\.console\.aws\.amazon\.com/codesuite/codepipeline/pipelines/\S+/executions/0a1b/",
            message,
        )
