"""Blueprint templates: cfn-lint clean, registered, in contract with the renderers, deployable."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from chalicelib.models.base import parse
from chalicelib.models.fields import STAGES
from chalicelib.pipelines.catalog import PIPELINE_BLUEPRINTS, REGISTRY
from mlops_cfn import load
from tests.support.events import load_event
from tests.support.plane import Plane, post
from tests.support.settings import MULTI, SETTINGS
from tests.support.templates import BLUEPRINTS, CONTROL_PLANE, VARIANTS, actions, grants, statements, template


def shipped_files() -> set[str]:
    return {p.name for p in BLUEPRINTS.glob("*.yaml")}


def test_cfn_lint_passes_on_every_template() -> None:
    files = sorted(str(p) for p in BLUEPRINTS.glob("*.yaml"))
    assert files
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    run = subprocess.run([str(cfn_lint), *files], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_templates_use_no_transform() -> None:
    # Service-managed stack sets cannot run macros; blueprints stay plain CloudFormation.
    for name in shipped_files():
        assert "Transform" not in template(name), name


def test_every_blueprint_is_registered_and_every_shipped_entry_has_its_file() -> None:
    registered = {name for entry in REGISTRY for name in entry.blueprints()}
    pipelines = set(PIPELINE_BLUEPRINTS)
    assert registered | pipelines == shipped_files()


@pytest.mark.parametrize(("entry", "engine"), VARIANTS, ids=lambda v: getattr(v, "name", v))
@pytest.mark.parametrize("multi", [False, True], ids=["single-account", "multi-account"])
def test_rendered_parameters_equal_the_blueprint_parameters(entry: Any, engine: str | None, multi: bool) -> None:
    settings = MULTI if multi else SETTINGS
    body = load_event(f"valid/{entry.name}")
    if engine:
        body["monitor_engine"] = engine
    request = parse(entry.model, body, settings)
    blueprint = entry.blueprint_for(request, settings)
    assert engine is None or blueprint == dict(entry.engine_blueprints)[engine]
    declared = set(template(blueprint)["Parameters"])
    for stage in STAGES if multi else (None,):
        assert set(entry.render(request, settings, stage)) == declared


@pytest.mark.parametrize("pipeline_type", ["byom_realtime_builtin", "byom_data_quality_monitor"])
def test_pipeline_parameters_equal_the_pipeline_blueprint(api: Any, plane: Plane, pipeline_type: str) -> None:
    from dataclasses import replace

    from chalicelib.provisioning import plan

    single = plan(load_event(f"valid/{pipeline_type}"), plane.settings())
    assert single.pipeline_template == "single_account_codepipeline.yaml"
    assert set(single.pipeline_params) == set(template(single.pipeline_template)["Parameters"])
    multi_settings = replace(plane.settings(), multi_account=True, stage_accounts=MULTI.stage_accounts)
    multi = plan(load_event(f"valid/{pipeline_type}"), multi_settings)
    assert multi.pipeline_template == "multi_account_codepipeline.yaml"
    assert set(multi.pipeline_params) == set(template(multi.pipeline_template)["Parameters"])


def test_pipeline_is_codepipeline_v2_in_queued_mode() -> None:
    pipeline = template("single_account_codepipeline.yaml")["Resources"]["Pipeline"]["Properties"]
    assert pipeline["PipelineType"] == "V2" and pipeline["ExecutionMode"] == "QUEUED"


@pytest.mark.parametrize("name", PIPELINE_BLUEPRINTS)
def test_a_pipeline_runs_when_its_stack_names_a_new_bundle_and_on_nothing_else(name: str) -> None:
    """Bundles are named by content and written before the stack names them: the stack update
    that names one is what runs the pipeline. Nothing watches the bucket (no S3 polling, no
    event rule on the key), so no run starts on a bundle the stack does not name yet."""
    resources = template(name)["Resources"]
    pipeline = resources["Pipeline"]["Properties"]
    assert pipeline["RestartExecutionOnUpdate"] is True
    [source] = [a for stage in pipeline["Stages"] if isinstance(stage, dict) for a in stage.get("Actions", [])
                if "ActionTypeId" in a and a["ActionTypeId"]["Category"] == "Source"]  # fmt: skip
    assert source["Configuration"]["S3ObjectKey"] == {"Ref": "TemplateZipFileName"}
    assert source["Configuration"]["PollForSourceChanges"] is False
    patterns = [r["Properties"]["EventPattern"] for r in resources.values() if r["Type"] == "AWS::Events::Rule"]
    assert [p["source"] for p in patterns] == [["aws.codepipeline"]]  # only the notifications


def test_inference_api_methods_are_iam_authorised() -> None:
    resources = template("byom_realtime_inference_pipeline.yaml")["Resources"]
    methods = [r for r in resources.values() if r["Type"] == "AWS::ApiGateway::Method"]
    assert methods and all(m["Properties"]["AuthorizationType"] == "AWS_IAM" for m in methods)


def test_pass_role_always_names_the_service() -> None:
    for name in shipped_files():
        for resource in template(name)["Resources"].values():
            for policy in resource.get("Properties", {}).get("Policies", []):
                for statement in policy["PolicyDocument"]["Statement"]:
                    if isinstance(statement, dict) and "iam:PassRole" in str(statement.get("Action")):
                        assert "iam:PassedToService" in str(statement.get("Condition")), name


# Resource types of the real-time blueprint and what moto does with them: created (asserted
# after a moto deploy below) or skipped (asserted on the template only, above).
REALTIME_IN_MOTO = {
    "AWS::IAM::Role": "created",
    "AWS::SageMaker::Model": "created",
    "AWS::SageMaker::EndpointConfig": "created",
    "AWS::SageMaker::Endpoint": "created",
    "AWS::Lambda::Function": "created",
    "AWS::Lambda::Permission": "created",
    "AWS::ApiGateway::RestApi": "created",
    "AWS::ApiGateway::Resource": "created",
    "AWS::ApiGateway::Method": "created",
    "AWS::ApiGateway::Deployment": "created",
    "AWS::ApiGateway::Stage": "skipped",
    # Only with autoscaling or deployment alarms; moto's CloudFormation has no model of these.
    "AWS::ApplicationAutoScaling::ScalableTarget": "skipped",
    "AWS::ApplicationAutoScaling::ScalingPolicy": "skipped",
    "AWS::CloudWatch::Alarm": "skipped",
    # The scaling guard: moto's CloudFormation runs no custom resource's function (no Docker).
    "AWS::CloudFormation::CustomResource": "skipped",
    # Only with a smoke test.
    "AWS::StepFunctions::StateMachine": "created with a smoke test (test_realtime_deployments.py)",
}


def test_the_table_covers_every_resource_type() -> None:
    types = {r["Type"] for r in template("byom_realtime_inference_pipeline.yaml")["Resources"].values()}
    assert types == set(REALTIME_IN_MOTO)


def test_a_provisioned_realtime_pipeline_deploys_its_endpoint(api: Any, plane: Plane) -> None:
    from mlops_local.executor import Store, execute

    _, body = post(api, "/provisionpipeline", load_event("valid/byom_realtime_builtin"))
    run = execute(plane.session, body["stack_name"], Store())
    assert run.status == "Succeeded", run.actions
    assert run.stage_status == {"Source": "Succeeded", "Deploy": "Succeeded"}
    sagemaker = plane.client("sagemaker")
    assert [e["EndpointStatus"] for e in sagemaker.list_endpoints()["Endpoints"]] == ["InService"]
    assert len(sagemaker.list_endpoint_configs()["EndpointConfigs"]) == 1
    model = sagemaker.describe_model(ModelName=sagemaker.list_models()["Models"][0]["ModelName"])
    assert model["PrimaryContainer"]["Image"].endswith("/sagemaker-xgboost:1.7-1")
    assert model["PrimaryContainer"]["ModelDataUrl"] == (f"s3://{plane.config.assets_bucket}/models/churn/model.tar.gz")
    functions = plane.client("lambda").list_functions()["Functions"]
    assert {f["Runtime"] for f in functions} == {"python3.12"}
    [inference] = [f for f in functions if f.get("Environment")]  # the scaling guard has no environment
    assert inference["Environment"]["Variables"]["ENDPOINT_NAME"] == "churn-endpoint"
    deployed = {
        r["ResourceType"]
        for r in plane.client("cloudformation").list_stack_resources(StackName=body["blueprint_stack_name"])[
            "StackResourceSummaries"
        ]
    }
    assert deployed >= {t for t, fate in REALTIME_IN_MOTO.items() if fate == "created"}
    status, doc = post(api, "/pipelinestatus", {"pipeline_id": body["pipeline_id"]})
    assert status == 200
    assert doc["deployed_stack"]["status"] == "CREATE_COMPLETE"
    assert doc["deployed_stack"]["outputs"]["InferenceApiUrl"].endswith("/prod/inference")


# The pipeline templates in moto: CodePipeline is skipped, so local mode runs the pipeline from
# the template itself (mlops_local.executor); the rest is created.
PIPELINE_IN_MOTO = {
    "AWS::IAM::Role": "created",
    "AWS::CodePipeline::Pipeline": "skipped: local mode runs it from the template",
    "AWS::Events::Rule": "created",
}


@pytest.mark.parametrize("name", PIPELINE_BLUEPRINTS)
def test_the_pipeline_tables_cover_the_pipeline_templates(name: str) -> None:
    assert {r["Type"] for r in template(name)["Resources"].values()} == set(PIPELINE_IN_MOTO)


def multi_account_stages(org_units: dict[str, str], run: str = "", schedule: str = "false") -> list[Any]:
    from mlops_cfn import Resolver

    body = template("multi_account_codepipeline.yaml")
    names = {
        "StackName": "mlops-pipeline-x", "TemplateFileName": "t.yaml", "RunStateMachineName": run,
        "RunRoleName": "mlops-pipeline-x-run", "ScheduleAfterRun": schedule, "NotificationsSNSTopicArn": "",
        "AWS::Partition": "aws", "AWS::Region": "us-east-1", "AWS::AccountId": "111122223333",
        **{f"{s.title()}AccountId": a for s, a in MULTI.stage_accounts},
        **{f"{s.title()}OrgId": org_units.get(s, "") for s in ("dev", "staging", "prod")},
    }  # fmt: skip
    return list(Resolver(body, names).resolve(body["Resources"]["Pipeline"]["Properties"]["Stages"]))


def test_each_stage_promotes_with_its_own_stack_set_and_parameter_file() -> None:
    stages = multi_account_stages({"prod": "ou-ab12-prod0001"}, run="m", schedule="true")
    assert [s["Name"] for s in stages] == [
        "Source", "DeployDev", "ApproveStaging", "DeployStaging", "ApproveProd", "DeployProd"]  # fmt: skip
    deploys = {s["Name"]: {a["Name"]: a for a in s["Actions"]} for s in stages if s["Name"].startswith("Deploy")}
    sets = [deploys[f"Deploy{s}"][f"StackSet{s}"]["Configuration"] for s in ("Dev", "Staging", "Prod")]
    assert [c["StackSetName"] for c in sets] == [f"mlops-pipeline-x-{s}" for s in ("dev", "staging", "prod")]
    assert [c["Parameters"] for c in sets] == [f"bundle::{s}_template_params.json" for s in ("dev", "staging", "prod")]
    assert [c["PermissionModel"] for c in sets] == ["SELF_MANAGED", "SELF_MANAGED", "SERVICE_MANAGED"]
    assert [c["DeploymentTargets"] for c in sets] == ["222233334444", "333344445555", "ou-ab12-prod0001"]
    run = deploys["DeployProd"]["RunProd"]
    assert run["RoleArn"] == "arn:aws:iam::444455556666:role/mlops-pipeline-x-run"
    assert run["Configuration"]["StateMachineArn"] == "arn:aws:states:us-east-1:444455556666:stateMachine:m"
    schedule = deploys["DeployProd"]["ScheduleProd"]["Configuration"]
    assert schedule["Parameters"] == "bundle::prod_scheduled_template_params.json"
    assert [a["RunOrder"] for a in deploys["DeployProd"].values()] == [1, 2, 3]


def test_stages_without_a_job_have_only_their_stack_set() -> None:
    stages = multi_account_stages({})
    assert all(len(s["Actions"]) == 1 for s in stages)


def test_the_multi_account_pipeline_queues_runs_and_uses_no_transform() -> None:
    body = template("multi_account_codepipeline.yaml")
    assert body["Resources"]["Pipeline"]["Properties"]["ExecutionMode"] == "QUEUED"
    assert body["Resources"]["Pipeline"]["Properties"]["PipelineType"] == "V2"
    assert "Transform" not in body


def test_every_action_a_blueprint_role_is_given_is_within_the_roles_boundary() -> None:
    control_plane = load(CONTROL_PLANE)
    within = grants(control_plane["Resources"]["PipelineRolesBoundary"]["Properties"]["PolicyDocument"])
    outside = []
    for name in sorted(shipped_files()):
        for logical, resource in template(name)["Resources"].items():
            if resource["Type"] != "AWS::IAM::Role" or "PermissionsBoundary" not in resource["Properties"]:
                continue
            for policy in resource["Properties"].get("Policies", []):
                for statement in statements(policy["PolicyDocument"]):
                    for action in actions(statement):
                        if statement["Effect"] == "Allow" and not within(action):
                            outside.append(f"{name} {logical}: {action}")
    # An action outside the boundary is silently denied in AWS: the pipeline would fail there.
    assert outside == [], "\n".join(outside)


# The IAM prefix of each service whose resources the blueprints and pipeline templates create.
SERVICE_PREFIX = {
    "ApiGateway": "apigateway", "CodeBuild": "codebuild", "CodePipeline": "codepipeline", "Events": "events",
    "IAM": "iam", "Lambda": "lambda", "SageMaker": "sagemaker", "Scheduler": "scheduler",
    "StepFunctions": "states", "SNS": "sns", "Logs": "logs", "S3": "s3",
    "ApplicationAutoScaling": "application-autoscaling", "CloudWatch": "cloudwatch",
}  # fmt: skip
# Handler permissions the deploy role leaves out, and why: each serves a property no template sets.
NOT_USED = {
    "iam:DeleteGroupPolicy": "policies attach to roles only", "iam:DeleteUserPolicy": "policies attach to roles only",
    "iam:GetGroupPolicy": "policies attach to roles only", "iam:GetUserPolicy": "policies attach to roles only",
    "iam:PutGroupPolicy": "policies attach to roles only", "iam:PutUserPolicy": "policies attach to roles only",
    "iam:DeleteRolePermissionsBoundary": "the boundary is never removed, and the deploy role must not remove it",
    "lambda:PutFunctionCodeSigningConfig": "no CodeSigningConfigArn",
    "lambda:GetCodeSigningConfig": "no CodeSigningConfigArn",
    "lambda:DeleteFunctionCodeSigningConfig": "no CodeSigningConfigArn",
    "lambda:PutRuntimeManagementConfig": "no RuntimeManagementConfig",
    "lambda:PutFunctionRecursionConfig": "no RecursiveLoop", "lambda:PutFunctionScalingConfig": "no scaling config",
    "lambda:PassCapacityProvider": "no capacity provider", "lambda:AssociateRuntimeAlias": "no runtime alias",
    "lambda:PublishVersion": "no SnapStart or versions",
}  # fmt: skip
# Types whose schema lists no handler permissions (not on the registry yet): granted by hand.
NO_HANDLERS = {
    "AWS::CodeBuild::Project": "ImageBuildProjects: Create/Update/DeleteProject, BatchGetProjects",
    "AWS::CloudFormation::CustomResource": "CloudFormation invokes its function: lambda:InvokeFunction "
    "(test_the_scaling_guard_runs_traced_as_its_own_role_and_the_deploy_role_may_invoke_it)",
}


def test_the_deploy_role_may_do_what_cloudformation_does_for_each_resource_type() -> None:
    """CloudFormation's own resource schemas (as cfn-lint ships them) list the permissions its
    create, update and delete handlers use; the stacks are deployed with PipelineDeployRole, so
    it must hold those of each type's own service, else the stack fails in AWS (the emulator
    does not check)."""
    import json

    import cfnlint

    schemas = Path(cfnlint.__file__).parent / "data" / "schemas"
    index = json.loads((schemas / "providers" / "us-east-1.json").read_text())
    control_plane = load(CONTROL_PLANE)
    granted = grants(control_plane["Resources"]["PipelineDeployRole"]["Properties"]["Policies"][0]["PolicyDocument"])
    types = {r["Type"] for name in shipped_files() for r in template(name)["Resources"].values()}
    missing, unlisted = [], set()
    for type_name in sorted(types):
        handlers = json.loads((schemas / "resources" / f"{index[type_name]}.json").read_text()).get("handlers")
        if handlers is None:
            unlisted.add(type_name)
            continue
        prefix = SERVICE_PREFIX[type_name.split("::")[1]]
        used = {p for h in ("create", "update", "delete") for p in handlers.get(h, {}).get("permissions", [])}
        for action in sorted(used):
            if action.split(":")[0] != prefix or action in NOT_USED:
                continue
            if not granted(action):
                missing.append(f"{type_name}: {action}")
    assert missing == [], "\n".join(missing)
    assert unlisted == set(NO_HANDLERS)


# IAM actions a Step Functions service integration needs, as its documentation lists them.
SYNC_JOB_ACTIONS = {
    "sagemaker:createTrainingJob.sync": ["sagemaker:CreateTrainingJob", "sagemaker:DescribeTrainingJob",
                                         "sagemaker:StopTrainingJob"],
    "sagemaker:createTransformJob.sync": ["sagemaker:CreateTransformJob", "sagemaker:DescribeTransformJob",
                                          "sagemaker:StopTransformJob"],
    "sagemaker:createProcessingJob.sync": ["sagemaker:CreateProcessingJob", "sagemaker:DescribeProcessingJob",
                                           "sagemaker:StopProcessingJob"],
    "sagemaker:createHyperParameterTuningJob.sync": [
        "sagemaker:CreateHyperParameterTuningJob", "sagemaker:DescribeHyperParameterTuningJob",
        "sagemaker:StopHyperParameterTuningJob", "sagemaker:ListTrainingJobsForHyperParameterTuningJob",
    ],
    "codebuild:startBuild.sync": ["codebuild:StartBuild", "codebuild:StopBuild", "codebuild:BatchGetBuilds"],
    "lambda:invoke": ["lambda:InvokeFunction"],
    "sns:publish": ["sns:Publish"],
    "s3:getObject": ["s3:GetObject"],  # a Distributed Map's ItemReader
}  # fmt: skip
SYNC_RULE_ACTIONS = ["events:PutTargets", "events:PutRule", "events:DescribeRule"]


def _needed_by(definition: str) -> set[str]:
    import re

    needed = set()
    for integration in re.findall(r'"Resource": "arn:\$\{AWS::Partition\}:states:::([^"]+)"', definition):
        if integration.startswith("aws-sdk:"):
            _, service, action = integration.split(":")
            needed.add(f"{service}:{action[0].upper()}{action[1:]}")
        else:
            needed.update(SYNC_JOB_ACTIONS[integration])
            if integration.endswith(".sync"):
                needed.update(SYNC_RULE_ACTIONS)
    return needed


def test_each_state_machine_role_allows_every_integration_its_definition_uses() -> None:
    checked, missing = 0, []
    for name in sorted(shipped_files()):
        resources = template(name)["Resources"]
        for logical, resource in resources.items():
            if resource["Type"] != "AWS::StepFunctions::StateMachine":
                continue
            definition = resource["Properties"]["DefinitionString"]["Fn::Sub"][0]
            role = resources[resource["Properties"]["RoleArn"]["Fn::GetAtt"][0]]["Properties"]
            granted = grants(*(policy["PolicyDocument"] for policy in role["Policies"]))
            for action in sorted(_needed_by(definition)):
                checked += 1
                if not granted(action):
                    missing.append(f"{name} {logical}: {action}")
    assert checked > 20
    assert missing == [], "\n".join(missing)


def test_every_role_a_blueprint_role_passes_is_one_the_boundary_lets_it_pass() -> None:
    """The boundary caps iam:PassRole by role and service: a role outside it fails in AWS only."""
    import fnmatch

    control_plane = load(CONTROL_PLANE)
    boundary = control_plane["Resources"]["PipelineRolesBoundary"]["Properties"]["PolicyDocument"]
    (cap,) = [s for s in statements(boundary) if "iam:PassRole" in actions(s)]
    listed = cap["Resource"] if isinstance(cap["Resource"], list) else [cap["Resource"]]
    names = [r["Fn::Sub"].split(":role/")[1].replace("${PipelinePrefix}", "*") for r in listed]
    services = set(cap["Condition"]["StringEquals"]["iam:PassedToService"])
    outside, checked = [], 0
    for name in sorted(shipped_files()):
        resources = template(name)["Resources"]
        for logical, resource in resources.items():
            if resource["Type"] != "AWS::IAM::Role" or "PermissionsBoundary" not in resource["Properties"]:
                continue
            for policy in resource["Properties"].get("Policies", []):
                for statement in statements(policy["PolicyDocument"]):
                    if "iam:PassRole" not in actions(statement):
                        continue
                    checked += 1
                    passed = statement["Condition"]["StringEquals"]["iam:PassedToService"]
                    for service in [passed] if isinstance(passed, str) else passed:
                        if service not in services:
                            outside.append(f"{name} {logical}: to {service}")
                    role = statement["Resource"]
                    # Roles of the same stack and the deploy role carry the pipeline prefix.
                    if "Fn::Sub" in role and not any(fnmatch.fnmatchcase(role["Fn::Sub"].split(":role/")[1], n)
                                                     for n in names):  # fmt: skip
                        outside.append(f"{name} {logical}: {role['Fn::Sub']}")
    assert checked >= 5
    assert outside == [], "\n".join(outside)
