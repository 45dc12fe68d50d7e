"""Image builder: the build pushes the requested tag to the requested repository, a failed build
names its failed phase, and a new upload of the algorithm zip rebuilds."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
import yaml
from botocore.stub import Stubber

from chalicelib.models.base import parse
from chalicelib.pipelines.catalog import REGISTRY
from mlops_cfn import Resolver, load
from mlops_local.statemachine import ExecutionFailed, run
from tests.support.events import load_event
from tests.support.settings import SETTINGS
from tests.support.statemachines import Session, notice
from tests.support.templates import BLUEPRINTS

BLUEPRINT = BLUEPRINTS / "byom_custom_algorithm_image_builder.yaml"
TYPE = "byom_image_builder"
IMAGE_BUILDER_IN_MOTO = {
    "AWS::IAM::Role": "created",
    "AWS::CodeBuild::Project": "skipped: asserted on the template; local mode cannot build images (no Docker)",
    "AWS::StepFunctions::StateMachine": "created; its build runs only in AWS",
    "AWS::Events::Rule": "created",
}


def template() -> dict[str, Any]:
    return load(BLUEPRINT)


def rendered(**changes: Any) -> dict[str, str]:
    entry = REGISTRY.get(TYPE)
    return entry.render(parse(entry.model, {**load_event(f"valid/{TYPE}"), **changes}, SETTINGS), SETTINGS, None)


def test_the_resource_table_covers_the_blueprint() -> None:
    assert {r["Type"] for r in template()["Resources"].values()} == set(IMAGE_BUILDER_IN_MOTO)


@pytest.mark.parametrize(
    ("field", "value", "parameter"),
    [
        ("custom_algorithm_docker", "custom-algorithms/other.zip", "AlgorithmSource"),
        ("ecr_repo_name", "other-repo", "EcrRepoName"),
        ("image_tag", "scikit-forest-v2", "ImageTag"),
    ],
)
def test_each_field_reaches_its_parameter(field: str, value: str, parameter: str) -> None:
    assert rendered(**{field: value})[parameter] == value != rendered()[parameter]


def test_the_build_pushes_the_requested_tag_from_a_privileged_container() -> None:
    project = template()["Resources"]["BuildProject"]["Properties"]
    assert project["Environment"]["PrivilegedMode"] is True
    phases = yaml.safe_load(project["Source"]["BuildSpec"])["phases"]
    assert any('docker push "$REPOSITORY_URI:$IMAGE_TAG"' in c for c in phases["post_build"]["commands"])
    assert any("docker build" in c for c in phases["build"]["commands"])
    statements = template()["Resources"]["BuildRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    [push] = [s for s in statements if "ecr:PutImage" in s.get("Action", [])]
    assert "repository/${EcrRepoName}" in push["Resource"]["Fn::Sub"]


def test_a_new_zip_upload_rebuilds() -> None:
    rule = template()["Resources"]["SourceChangeRule"]["Properties"]
    assert rule["EventPattern"]["detail"]["object"]["key"] == [{"Ref": "AlgorithmSource"}]
    assert rule["Targets"][0]["Arn"] == {"Ref": "RunStateMachine"}


def test_a_failed_build_names_the_phase_and_tells_the_topic() -> None:
    params = rendered()
    text = template()["Resources"]["RunStateMachine"]["Properties"]["DefinitionString"]["Fn::Sub"]
    names = {**params, "AWS::Partition": "aws", "AWS::AccountId": "111122223333", "AWS::Region": "us-east-1",
             "AWS::URLSuffix": "amazonaws.com"}  # fmt: skip
    machine = json.loads(Resolver(names=names).resolve({"Fn::Sub": text}))
    codebuild, sns = boto3.client("codebuild", region_name="us-east-1"), boto3.client("sns", region_name="us-east-1")
    build_id = f"{params['BuildProjectName']}:1"
    with Stubber(codebuild) as cb, Stubber(sns) as topic:
        cb.add_response("start_build", {"build": {"id": build_id, "buildStatus": "IN_PROGRESS"}},
                        {"projectName": params["BuildProjectName"]})  # fmt: skip
        context = {
            "statusCode": "COMMAND_EXECUTION_ERROR",
            "message": "the algorithm zip has no Dockerfile at its root",
        }
        phase = {"phaseType": "PRE_BUILD", "phaseStatus": "FAILED", "contexts": [context]}
        failed_build = {"id": build_id, "buildStatus": "FAILED", "phases": [phase]}
        cb.add_response("batch_get_builds", {"builds": [failed_build]}, {"ids": [build_id]})
        notice(topic, "Image build failed")
        with pytest.raises(ExecutionFailed) as failed:
            run(Session({"codebuild": codebuild, "sns": sns}), machine, {})
        topic.assert_no_pending_responses()
    assert failed.value.error == "ImageBuildFailed"
    assert "FAILED: PRE_BUILD: the algorithm zip has no Dockerfile at its root" in failed.value.cause
