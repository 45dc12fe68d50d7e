"""Multi-account promotion against the emulator: one stack set per stage, each stage's stack in
its own account, jobs run in the stage account, and the status names every instance."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest

from mlops_cfn import loads
from mlops_local.executor import Store, execute
from tests.support.events import load_event
from tests.support.plane import Plane, post

ACCOUNTS = {"dev": "222233334444", "staging": "333344445555", "prod": "444455556666"}


@pytest.fixture
def multi(plane: Plane, monkeypatch: pytest.MonkeyPatch) -> Plane:
    monkeypatch.setenv("IS_MULTI_ACCOUNT", "True")
    for stage, account in ACCOUNTS.items():
        monkeypatch.setenv(f"{stage.upper()}_ACCOUNT_ID", account)
    return plane


def named_bundle(plane: Plane, stack: str) -> str:
    """The bundle key the pipeline stack names."""
    described = plane.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
    return next(p["ParameterValue"] for p in described["Parameters"] if p["ParameterKey"] == "TemplateZipFileName")


def bundle_files(plane: Plane, key: str) -> dict[str, Any]:
    data = plane.client("s3").get_object(Bucket=plane.config.assets_bucket, Key=key)["Body"].read()
    archive = zipfile.ZipFile(io.BytesIO(data))
    return {name: archive.read(name) for name in archive.namelist()}


def test_the_bundle_holds_one_parameter_file_per_stage(api: Any, multi: Plane) -> None:
    body = load_event("valid/byom_data_quality_monitor")
    body.update({"monitor_engine": "sagemaker", "instance_type": {"dev": "ml.m5.large", "staging": "ml.m5.large",
                                                                   "prod": "ml.m5.xlarge"}})  # fmt: skip
    status, answer = post(api, "/provisionpipeline", body)
    assert status == 200, answer
    files = bundle_files(multi, named_bundle(multi, answer["stack_name"]))
    stage_params = {
        stage: {p["ParameterKey"]: p["ParameterValue"] for p in json.loads(files[f"{stage}_template_params.json"])}
        for stage in ACCOUNTS
    }
    assert [stage_params[s]["InstanceType"] for s in ACCOUNTS] == ["ml.m5.large", "ml.m5.large", "ml.m5.xlarge"]
    assert {stage_params[s]["PipelineAccountId"] for s in ACCOUNTS} == {"123456789012"}
    assert stage_params["prod"]["PermissionsBoundaryArn"].startswith("arn:aws:iam::444455556666:policy/")
    scheduled = json.loads(files["prod_scheduled_template_params.json"])
    assert {"ParameterKey": "BaselineReady", "ParameterValue": "true"} in scheduled


def test_the_pipeline_promotes_through_approvals_with_a_stack_set_per_stage(api: Any, multi: Plane) -> None:
    _, answer = post(api, "/provisionpipeline", load_event("valid/byom_realtime_builtin"))
    stack = multi.client("cloudformation").describe_stacks(StackName=answer["stack_name"])["Stacks"][0]
    template = loads(multi.client("cloudformation").get_template(StackName=answer["stack_name"])["TemplateBody"])
    assert template["Resources"]["Pipeline"]["Properties"]["ExecutionMode"] == "QUEUED"
    run = execute(multi.session, answer["stack_name"], Store())
    assert run.status == "Succeeded", [v.error for v in run.actions.values() if v.error]
    assert [name for name, _ in run.definition.stages] == [
        "Source", "DeployDev", "ApproveStaging", "DeployStaging", "ApproveProd", "DeployProd"]  # fmt: skip
    cfn = multi.client("cloudformation")
    names = sorted(s["StackSetName"] for s in cfn.list_stack_sets()["Summaries"])
    assert names == sorted(f"{answer['blueprint_stack_name']}-{stage}" for stage in ACCOUNTS)
    for stage, account in ACCOUNTS.items():
        [instance] = cfn.list_stack_instances(StackSetName=f"{answer['blueprint_stack_name']}-{stage}")["Summaries"]
        assert instance["Account"] == account
    assert stack["StackStatus"] == "CREATE_COMPLETE"


def sagemaker_in(plane: Plane, account: str) -> Any:
    import boto3

    credentials = plane.client("sts").assume_role(RoleArn=f"arn:aws:iam::{account}:role/x", RoleSessionName="check")[
        "Credentials"
    ]
    return boto3.client(
        "sagemaker", region_name="us-east-1", aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"], aws_session_token=credentials["SessionToken"],
    )  # fmt: skip


def test_a_batch_job_runs_in_each_stage_account(api: Any, multi: Plane) -> None:
    _, answer = post(api, "/provisionpipeline", load_event("valid/byom_batch_builtin"))
    run = execute(multi.session, answer["stack_name"], Store())
    assert run.status == "Succeeded", [v.error for v in run.actions.values() if v.error]
    runs = [action for (_, action) in run.actions if action.startswith("Run")]
    assert runs == ["RunDev", "RunStaging", "RunProd"]
    for account in ACCOUNTS.values():
        jobs = sagemaker_in(multi, account).list_transform_jobs()["TransformJobSummaries"]
        assert [j["TransformJobStatus"] for j in jobs] == ["Completed"], account


def test_the_status_reports_every_instance_and_the_first_failure(api: Any, multi: Plane) -> None:
    from botocore.stub import Stubber

    from chalicelib import aws

    _, answer = post(api, "/provisionpipeline", load_event("valid/byom_realtime_builtin"))
    execute(multi.session, answer["stack_name"], Store())
    status, doc = post(api, "/pipelinestatus", {"pipeline_id": answer["pipeline_id"]})
    assert status == 200
    assert [doc["stages"][s]["instances"][0]["account"] for s in ACCOUNTS] == list(ACCOUNTS.values())
    assert {doc["stages"][s]["status"] for s in ACCOUNTS} == {"current"}
    assert doc["latest_failure"] is None

    # A prod instance that failed: moto never fails one, so the answer is stubbed (shape-checked).
    cfn = aws.client("cloudformation")
    real = cfn.list_stack_instances
    reason = "ResourceLogicalId:Endpoint, ResourceStatusReason:ResourceLimitExceeded for ml.m5.xlarge"

    def instances(**kwargs: Any) -> Any:
        if not kwargs["StackSetName"].endswith("-prod"):
            return real(**kwargs)
        with Stubber(cfn) as stub:
            stub.add_response("list_stack_instances", {"Summaries": [{
                "StackSetId": "x", "Region": "us-east-1", "Account": ACCOUNTS["prod"], "Status": "OUTDATED",
                "StatusReason": reason, "StackInstanceStatus": {"DetailedStatus": "FAILED"}}]}, kwargs)  # fmt: skip
            return real(**kwargs)

    cfn.list_stack_instances = instances
    try:
        _, doc = post(api, "/pipelinestatus", {"pipeline_id": answer["pipeline_id"]})
    finally:
        del cfn.list_stack_instances
    assert doc["stages"]["prod"]["status"] == "failed"
    assert doc["latest_failure"] == f"{ACCOUNTS['prod']}/us-east-1: {reason}"


def test_deleting_a_promoted_pipeline_removes_every_stage(api: Any, multi: Plane) -> None:
    _, answer = post(api, "/provisionpipeline", load_event("valid/byom_realtime_builtin"))
    execute(multi.session, answer["stack_name"], Store())
    cfn = multi.client("cloudformation")
    assert {s["Status"] for s in cfn.list_stack_sets()["Summaries"]} == {"ACTIVE"}
    assert sagemaker_in(multi, ACCOUNTS["dev"]).list_endpoints()["Endpoints"]
    response = api.http.delete(f"/pipelines/{answer['stack_name']}")
    assert response.status_code == 200, response.body
    removed = json.loads(response.body)["stacks"]
    assert [removed[f"{answer['blueprint_stack_name']}-{s}"] for s in ACCOUNTS] == ["deleted"] * 3
    assert {s["Status"] for s in cfn.list_stack_sets()["Summaries"]} == {"DELETED"}
    assert multi.stacks() == []
    assert sagemaker_in(multi, ACCOUNTS["dev"]).list_endpoints()["Endpoints"] == []  # went with its instance


def test_sam_stage_account_json_is_generated_from_the_control_plane() -> None:
    from mlops_dev.gen_stage_template import OUT, text

    assert OUT.read_text() == text(), "run: .venv/bin/python -m mlops_dev.gen_stage_template"


def test_a_stage_account_deploys_the_boundary_promoted_roles_carry(api: Any, multi: Plane) -> None:
    from mlops_dev.gen_stage_template import OUT
    from mlops_local.bootstrap import assumed_session

    dev = assumed_session(multi.session, "us-east-1", f"arn:aws:iam::{ACCOUNTS['dev']}:role/admin", "setup")
    cfn = dev.client("cloudformation", region_name="us-east-1")
    cfn.create_stack(
        StackName="mlops-stage",
        TemplateBody=OUT.read_text(),
        Parameters=[{"ParameterKey": "OrchestratorAccountId", "ParameterValue": "123456789012"}],
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    outputs = {
        o["OutputKey"]: o["OutputValue"] for o in cfn.describe_stacks(StackName="mlops-stage")["Stacks"][0]["Outputs"]
    }
    status, answer = post(api, "/provisionpipeline", load_event("valid/byom_realtime_builtin"))
    assert status == 200, answer
    files = bundle_files(multi, named_bundle(multi, answer["stack_name"]))
    dev_params = {p["ParameterKey"]: p["ParameterValue"] for p in json.loads(files["dev_template_params.json"])}
    # The boundary the dev stage's roles name is the one the stage template created there.
    assert dev_params["PermissionsBoundaryArn"] == outputs["PermissionsBoundaryArn"]
    iam = dev.client("iam")
    trusted = iam.get_role(RoleName="AWSCloudFormationStackSetExecutionRole")["Role"]["AssumeRolePolicyDocument"]
    assert trusted["Statement"][0]["Principal"]["AWS"] == "arn:aws:iam::123456789012:root"


def stub_for(cfn: Any, stack_set: str, calls: list[tuple[str, Any, dict[str, Any] | None]]) -> list[str]:
    """Answer the next calls about ``stack_set`` from ``calls`` (method, response or error code,
    expected parameters) through botocore's Stubber, which checks both against the service model;
    calls about other stack sets reach the emulator. Returns the methods called, in order."""
    from botocore.stub import Stubber

    called: list[str] = []
    methods = {method for method, _, _ in calls}
    real = {method: getattr(cfn, method) for method in methods}

    def wrap(method: str) -> Any:
        def call(**kwargs: Any) -> Any:
            if kwargs.get("StackSetName") != stack_set:
                return real[method](**kwargs)
            called.append(method)
            expected_method, answer, params = calls.pop(0)
            assert expected_method == method, f"called {method}, expected {expected_method}"
            with Stubber(cfn) as stub:
                if isinstance(answer, str):
                    stub.add_client_error(method, service_error_code=answer, expected_params=params)
                else:
                    stub.add_response(method, answer, params)
                return real[method](**kwargs)

        return call

    for method in methods:
        setattr(cfn, method, wrap(method))
    return called


def unstub(cfn: Any) -> None:
    for method in ("list_stack_instances", "delete_stack_instances", "delete_stack_set"):
        cfn.__dict__.pop(method, None)


def test_deleting_a_promoted_pipeline_is_resumed_until_every_stack_set_is_gone(api: Any, multi: Plane) -> None:
    """DeleteStackInstances only starts an operation, and DeleteStackSet fails until the set is empty:
    the DELETE answers 202 and keeps the pipeline until a repeated DELETE finds every set gone."""
    from chalicelib import aws

    _, answer = post(api, "/provisionpipeline", load_event("valid/byom_realtime_builtin"))
    execute(multi.session, answer["stack_name"], Store())
    prod = f"{answer['blueprint_stack_name']}-prod"
    instance = {"StackSetId": f"{prod}:1", "Region": "us-east-1", "Account": ACCOUNTS["prod"],
                "Status": "CURRENT", "OrganizationalUnitId": "ou-ab12-prod0001"}  # fmt: skip
    deleting = {**instance, "Status": "OUTDATED", "StackInstanceStatus": {"DetailedStatus": "RUNNING"}}
    page = {"StackSetName": prod}
    cfn = aws.client("cloudformation")
    called = stub_for(cfn, prod, [
        ("list_stack_instances", {"Summaries": [instance]}, page),
        # A service-managed stage (deployed to an organizational unit) is addressed by its unit.
        ("delete_stack_instances", {"OperationId": "op-1"}, {
            "StackSetName": prod, "RetainStacks": False, "Regions": ["us-east-1"],
            "DeploymentTargets": {"OrganizationalUnitIds": ["ou-ab12-prod0001"]}}),
        ("list_stack_instances", {"Summaries": [deleting]}, page),
    ])  # fmt: skip
    try:
        response = api.http.delete(f"/pipelines/{answer['stack_name']}")
    finally:
        unstub(cfn)
    body = json.loads(response.body)
    assert response.status_code == 202, body
    assert response.headers["Retry-After"] == str(body["retry_after_seconds"])
    assert called == ["list_stack_instances", "delete_stack_instances", "list_stack_instances"]  # no DeleteStackSet
    sets = {s: body["stacks"][f"{answer['blueprint_stack_name']}-{s}"] for s in ACCOUNTS}
    assert sets == {"dev": "deleted", "staging": "deleted", "prod": "instances deleting"}
    assert body["done"] is False and prod in body["message"]
    pipeline = multi.client("cloudformation").describe_stacks(StackName=answer["stack_name"])["Stacks"][0]
    assert pipeline["StackStatus"] == "CREATE_COMPLETE"  # kept while a stack set remains
    bundle = f"mlops_provisioned_pipelines/{answer['blueprint_stack_name']}/"
    assert multi.client("s3").list_objects_v2(Bucket=multi.config.assets_bucket, Prefix=bundle)["KeyCount"] == 2

    # The instances are gone but their operation is still finishing: DeleteStackSet refuses.
    called = stub_for(cfn, prod, [
        ("list_stack_instances", {"Summaries": []}, page),
        ("delete_stack_set", "OperationInProgressException", {"StackSetName": prod}),
    ])  # fmt: skip
    try:
        response = api.http.delete(f"/pipelines/{answer['stack_name']}")
    finally:
        unstub(cfn)
    assert response.status_code == 202
    assert json.loads(response.body)["stacks"] == {**body["stacks"], f"{answer['blueprint_stack_name']}-dev": "absent",
                                                   f"{answer['blueprint_stack_name']}-staging": "absent"}  # fmt: skip

    # Later the same DELETE finds the last stack set empty and finishes.
    response = api.http.delete(f"/pipelines/{answer['stack_name']}")
    finished = json.loads(response.body)
    assert response.status_code == 200, finished
    assert finished["done"] is True and finished["stacks"][prod] == "deleted"
    assert multi.stacks() == []
    assert multi.client("s3").list_objects_v2(Bucket=multi.config.assets_bucket, Prefix=bundle)["KeyCount"] == 0
