"""Monitor blueprints: the schedule exists only after its baseline, a failed baseline says why
(and what to do without Model Monitor access), and the request's fields reach the jobs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from chalicelib.models.base import parse
from chalicelib.pipelines.catalog import REGISTRY
from chalicelib.pipelines.monitors import render_model_monitor
from mlops_cfn import Resolver, load, loads
from mlops_local.executor import give_functions_their_layers
from mlops_local.statemachine import ExecutionFailed, run
from tests.support.events import load_event
from tests.support.settings import SETTINGS
from tests.support.statemachines import Session, no_job_yet, notice
from tests.support.templates import BLUEPRINTS, template

# Resource types of each monitor blueprint and what moto's CloudFormation does with them:
# created (asserted after a local-mode deploy in tests/e2e), skipped (asserted on the template
# here), or run by local mode (the Lambda, in-process).
MODEL_MONITOR_IN_MOTO = {
    "AWS::IAM::Role": "created",
    "AWS::Lambda::Function": "created (bias, explainability); local mode runs it with the layer's venv",
    "AWS::StepFunctions::StateMachine": "created; local mode runs it",
    "AWS::SageMaker::DataQualityJobDefinition": "skipped: asserted on the template",
    "AWS::SageMaker::ModelQualityJobDefinition": "skipped: asserted on the template",
    "AWS::SageMaker::ModelBiasJobDefinition": "skipped: asserted on the template",
    "AWS::SageMaker::ModelExplainabilityJobDefinition": "skipped: asserted on the template",
    "AWS::SageMaker::MonitoringSchedule": "skipped: asserted on the template",
    "AWS::CloudWatch::Dashboard": "created (tests/e2e/test_monitor_dashboards.py)",
}
SERVERLESS_IN_MOTO = {
    "AWS::IAM::Role": "created",
    "AWS::Lambda::Function": "created; local mode invokes it in-process",
    "AWS::StepFunctions::StateMachine": "created; local mode runs it",
    "AWS::Scheduler::Schedule": "skipped: asserted on the template",
    "AWS::CloudWatch::Dashboard": "created (tests/e2e/test_monitor_dashboards.py)",
}


def types_of(name: str) -> set[str]:
    return {r["Type"] for r in template(name)["Resources"].values()}


def test_the_resource_tables_cover_the_blueprints() -> None:
    assert types_of("model_monitor_pipeline.yaml") == set(MODEL_MONITOR_IN_MOTO)
    assert types_of("serverless_monitor_pipeline.yaml") == set(SERVERLESS_IN_MOTO)


def rendered(kind: str, engine: str | None, **changes: Any) -> dict[str, str]:
    body = {**load_event(f"valid/{kind}"), **({"monitor_engine": engine} if engine else {}), **changes}
    entry = REGISTRY.get(kind)
    return entry.render(parse(entry.model, body, SETTINGS), SETTINGS, None)


def present(blueprint: str, params: dict[str, str]) -> dict[str, dict[str, Any]]:
    """The resources CloudFormation would create for ``params``, with their properties resolved."""
    template = load(BLUEPRINTS / blueprint)
    names = {**params, "AWS::Partition": "aws", "AWS::Region": "us-east-1", "AWS::AccountId": "111122223333"}
    resolver = Resolver(template, names)
    return {
        name: resolver.resolve(r.get("Properties", {}))
        for name, r in template["Resources"].items()
        if resolver.present(name)
    }


@pytest.mark.parametrize(
    ("blueprint", "kind", "engine", "schedule"),
    [
        ("model_monitor_pipeline.yaml", "byom_data_quality_monitor", "sagemaker", "MonitoringSchedule"),
        ("model_monitor_pipeline.yaml", "byom_model_quality_monitor", "sagemaker", "MonitoringSchedule"),
        ("model_monitor_pipeline.yaml", "byom_model_bias_monitor", None, "ModelBiasJobDefinition"),
        ("model_monitor_pipeline.yaml", "byom_model_explainability_monitor", None, "ModelExplainabilityJobDefinition"),
        ("serverless_monitor_pipeline.yaml", "byom_data_quality_monitor", "serverless", "Schedule"),
        ("serverless_monitor_pipeline.yaml", "byom_model_quality_monitor", "serverless", "Schedule"),
    ],
)
def test_no_schedule_exists_until_the_baseline_is_ready(
    blueprint: str, kind: str, engine: str | None, schedule: str
) -> None:
    params = rendered(kind, engine)
    assert params["BaselineReady"] == "false"  # what the Deploy stage deploys
    first = present(blueprint, params)
    assert schedule not in first and "RunStateMachine" in first
    second = present(blueprint, {**params, "BaselineReady": "true"})  # the Schedule stage's override
    assert schedule in second


def test_the_pipeline_schedules_only_after_the_run_stage() -> None:
    template = load(BLUEPRINTS / "single_account_codepipeline.yaml")
    names = {"RunStateMachineName": "m", "ScheduleAfterRun": "true", "NotificationsSNSTopicArn": ""}
    stages = Resolver(template, names).resolve(template["Resources"]["Pipeline"]["Properties"]["Stages"])
    assert [s["Name"] for s in stages] == ["Source", "Deploy", "Run", "Schedule"]
    [action] = stages[-1]["Actions"]
    assert json.loads(action["Configuration"]["ParameterOverrides"]) == {"BaselineReady": "true"}


def test_the_model_quality_job_definition_is_what_the_request_asked_for() -> None:
    params = {**rendered("byom_model_quality_monitor", "sagemaker"), "BaselineReady": "true"}
    definition = present("model_monitor_pipeline.yaml", params)["ModelQualityJobDefinition"]
    endpoint = definition["ModelQualityJobInput"]["EndpointInput"]
    assert endpoint["EndpointName"] == "churn-endpoint"
    assert (endpoint["InferenceAttribute"], endpoint["ProbabilityAttribute"]) == ("0", "0")
    assert endpoint["ProbabilityThresholdAttribute"] == "0.5"
    assert definition["ModelQualityJobInput"]["GroundTruthS3Input"]["S3Uri"] == "s3://my-data-bucket/churn/ground-truth"
    assert definition["ModelQualityAppSpecification"]["ProblemType"] == "BinaryClassification"
    assert json.loads(params["BaselineEnvironment"])["analysis_type"] == "MODEL_QUALITY"
    schedule = present("model_monitor_pipeline.yaml", params)["MonitoringSchedule"]["MonitoringScheduleConfig"]
    assert schedule["ScheduleConfig"]["ScheduleExpression"] == "cron(0 0/2 ? * * *)"


@pytest.mark.parametrize(
    ("field", "value", "parameter"),
    [
        ("schedule_expression", "cron(0 0 ? * * *)", "ScheduleExpression"),
        ("instance_type", "ml.c5.xlarge", "InstanceType"),
        ("monitor_max_runtime_seconds", 900, "MonitorMaxRuntime"),
        ("baseline_max_runtime_seconds", 600, "BaselineMaxRuntime"),
        ("instance_volume_size", 50, "InstanceVolumeSize"),
        ("monitoring_output_location", "s3://my-data-bucket/other", "MonitoringOutputLocation"),
    ],
)
def test_job_definition_fields_rename_the_definition(field: str, value: Any, parameter: str) -> None:
    before = rendered("byom_data_quality_monitor", "sagemaker")
    after = rendered("byom_data_quality_monitor", "sagemaker", **{field: value})
    assert before[parameter] != after[parameter]
    # The schedule updates in place and the baseline's runtime belongs to the baseline job;
    # every other field is a property of the job definition, which is replaced under a new name.
    renamed = (
        "BaselineJobName" if field in ("schedule_expression", "baseline_max_runtime_seconds") else ("JobDefinitionName")
    )
    assert before[renamed] != after[renamed] or field == "schedule_expression"
    assert len(after["JobDefinitionName"]) <= 63 and len(after["BaselineJobName"]) <= 63


def test_a_failed_baseline_job_names_its_reason_and_the_serverless_way_out() -> None:
    params = {
        **rendered("byom_data_quality_monitor", "sagemaker"),
        "NotificationsSNSTopicArn": "arn:aws:sns:us-east-1:1:t",
    }
    machine = baseline_machine(params)
    job, reason = params["BaselineJobName"], "AccessDeniedException: Model Monitor is not enabled for this account"
    sagemaker, sns = boto3.client("sagemaker", region_name="us-east-1"), boto3.client("sns", region_name="us-east-1")
    arn = f"arn:aws:sagemaker:us-east-1:1:processing-job/{job}"
    with Stubber(sagemaker) as sm, Stubber(sns) as topic:
        no_job_yet(sm, "describe_processing_job", "ProcessingJobName", job)
        sm.add_response("create_processing_job", {"ProcessingJobArn": arn})
        sm.add_response("describe_processing_job", {
            "ProcessingJobName": job, "ProcessingJobArn": arn, "ProcessingJobStatus": "Failed", "FailureReason": reason,
            "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large",
                                                      "VolumeSizeInGB": 20}},
            "AppSpecification": {"ImageUri": params["ImageUri"]}, "CreationTime": "2026-11-22T10:00:00Z",
            "StoppingCondition": {"MaxRuntimeInSeconds": 3600}}, {"ProcessingJobName": job})  # fmt: skip
        notice(topic, "Monitor baseline failed")
        with pytest.raises(ExecutionFailed) as failed:
            run(Session({"sagemaker": sagemaker, "sns": sns}), machine, {})
        topic.assert_no_pending_responses()
    assert failed.value.error == "BaselineJobFailed"
    assert reason in failed.value.cause and "monitor_engine serverless" in failed.value.cause


def baseline_machine(params: dict[str, str]) -> dict[str, Any]:
    template = load(BLUEPRINTS / "model_monitor_pipeline.yaml")
    text, _ = template["Resources"]["RunStateMachine"]["Properties"]["DefinitionString"]["Fn::Sub"]
    names = {**params, "AWS::Partition": "aws", "MonitorRoleArn": "arn:aws:iam::111122223333:role/monitor"}
    resolver = Resolver(names={**names, "IsClarify": "false", "ClarifyFunction": "none"})
    return dict(json.loads(resolver.resolve({"Fn::Sub": text})))


SDK_REPORT = {"report": {"name": "report", "title": "Analysis Report"}}
PREDICTOR = {"endpoint_name": "credit-endpoint", "content_type": "text/csv", "accept_type": "text/csv"}
BIAS = {
    "label_values_or_threshold": [1],
    "facet": [{"name_or_index": "age", "value_or_threshold": [40]}],
    "group_variable": "personal_status_sex",
}
SHAP = {
    "shap": {"baseline": [[0.5, 1, 35, 0, 2]], "num_samples": 100, "agg_method": "mean_abs", "use_logit": False,
             "save_local_shap_values": True},
}  # fmt: skip
CLUSTERS = {"shap": {"num_clusters": 3, "agg_method": "mean_abs", "use_logit": False, "save_local_shap_values": True}}
# What the SageMaker SDK's ModelBiasMonitor / ModelExplainabilityMonitor make of the example
# requests (and one with a computed SHAP baseline and named scores): (baseline job's analysis
# config, monitoring job definition's analysis config).
SDK_CONFIGS: dict[str, tuple[dict[str, Any], dict[str, Any], dict[str, Any]]] = {
    "byom_model_bias_monitor": (
        {},
        {
            "dataset_type": "text/csv", "label": 0, **BIAS, "probability_threshold": 0.5, "predictor": PREDICTOR,
            "methods": {**SDK_REPORT, "pre_training_bias": {"methods": "all"},
                        "post_training_bias": {"methods": "all"}},
        },
        {**BIAS, "label": 0},
    ),
    "byom_model_explainability_monitor": (
        {},
        {"dataset_type": "text/csv", "label": 0, "predictor": PREDICTOR, "methods": {**SDK_REPORT, **SHAP}},
        {"methods": SHAP, "predictor": PREDICTOR},
    ),
    "byom_model_explainability_monitor computing its baseline": (
        {"shap_config": {"num_clusters": 3}, "model_scores": "score"},
        {
            "dataset_type": "text/csv", "label": 0, "predictor": {**PREDICTOR, "label": "score"},
            "methods": {**SDK_REPORT, **CLUSTERS},
        },
        {"methods": CLUSTERS, "predictor": PREDICTOR},
    ),
}  # fmt: skip


def deployed_baseline(
    plane: Any, kind: str, request: dict[str, Any] | None = None, **clarify: Any
) -> tuple[dict[str, str], dict[str, Any]]:
    """The monitor blueprint deployed into the emulator for ``kind``: its parameters and state machine.

    ``request`` changes the example request; ``clarify`` replaces keys of the Clarify function's
    event after the orchestrator rendered it.
    """
    settings = plane.settings()
    entry = REGISTRY.get(kind)
    body = {**load_event(f"valid/{kind}"), **(request or {})}
    params = entry.render(parse(entry.model, body, settings), settings, None)
    params["ClarifyRequest"] = json.dumps({**json.loads(params["ClarifyRequest"]), **clarify})
    plane.client("s3").create_bucket(Bucket="my-data-bucket")
    cfn, template = plane.client("cloudformation"), (BLUEPRINTS / "model_monitor_pipeline.yaml").read_text()
    cfn.create_stack(
        StackName="mlops-pipeline-credit-monitor",
        TemplateBody=template,
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in params.items()],
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    # As local mode deploys: the emulator's CloudFormation drops the function's Layers.
    give_functions_their_layers(plane.session, "us-east-1", "mlops-pipeline-credit-monitor", loads(template), params)
    stack = cfn.describe_stacks(StackName="mlops-pipeline-credit-monitor")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack
    outputs = stack["Outputs"]
    arn = next(o["OutputValue"] for o in outputs if o["OutputKey"] == "StateMachineArn")
    definition = plane.client("stepfunctions").describe_state_machine(stateMachineArn=arn)["definition"]
    return params, json.loads(definition)


@pytest.mark.server
@pytest.mark.parametrize("case", sorted(SDK_CONFIGS))
def test_the_sdk_layer_writes_clarifys_configs_before_the_baseline_runs_clarify(plane: Any, case: str) -> None:
    kind = case.split()[0]
    request, *configs = SDK_CONFIGS[case]
    params, machine = deployed_baseline(plane, kind, request)
    function = plane.client("lambda").get_function(FunctionName=params["FunctionName"])["Configuration"]
    assert [layer["Arn"] for layer in function["Layers"]] == [plane.config.layer_arn]

    run(plane.session, machine, {})

    out = params["BaselineOutputLocation"].split("/", 1)[1]
    s3 = plane.client("s3")
    written = [
        json.loads(s3.get_object(Bucket="my-data-bucket", Key=f"{out}/{name}")["Body"].read())
        for name in ("analysis_config.json", "monitoring_analysis_config.json")
    ]
    assert written == configs
    job = plane.client("sagemaker").describe_processing_job(ProcessingJobName=params["BaselineJobName"])
    assert job["AppSpecification"]["ImageUri"].endswith("/sagemaker-clarify-processing:1.0")
    assert [(i["InputName"], i["S3Input"]["S3Uri"]) for i in job["ProcessingInputs"]] == [
        ("dataset", "s3://mlops-assets-123456789012/monitoring/credit/training-dataset-with-header.csv"),
        ("analysis_config", f"s3://my-data-bucket/{out}/analysis_config.json"),
    ]
    schedule = present("model_monitor_pipeline.yaml", {**params, "BaselineReady": "true"})
    name = "ModelBiasJobDefinition" if "bias" in kind else "ModelExplainabilityJobDefinition"
    spec = schedule[name][f"{name.removesuffix('JobDefinition')}AppSpecification"]
    assert spec["ConfigUri"] == f"s3://my-data-bucket/{out}/monitoring_analysis_config.json"


@pytest.mark.server
def test_settings_the_sdk_refuses_fail_the_baseline_with_its_words_and_run_no_job(plane: Any) -> None:
    # The orchestrator refuses this pair when a request arrives; the SDK checks it again.
    shap = {"baseline": [[1, 2]], "num_clusters": 2}
    params, machine = deployed_baseline(plane, "byom_model_explainability_monitor", shap_config=shap)
    with pytest.raises(ExecutionFailed) as failed:
        run(plane.session, machine, {})
    assert failed.value.error == "BaselineJobFailed"
    assert "The SageMaker SDK refused the monitor's Clarify settings" in failed.value.cause
    assert "num_clusters" in failed.value.cause
    jobs = plane.client("sagemaker").list_processing_jobs()["ProcessingJobSummaries"]
    assert params["BaselineJobName"] not in [j["ProcessingJobName"] for j in jobs]


def test_dq_and_mq_monitors_have_no_clarify_function() -> None:
    for kind in ("byom_data_quality_monitor", "byom_model_quality_monitor"):
        params = rendered(kind, "sagemaker")
        assert params["ClarifyRequest"] == "{}"
        assert "ClarifyConfigFunction" not in present("model_monitor_pipeline.yaml", params)


@pytest.mark.parametrize(
    ("kind", "change", "field", "words"),
    [
        (
            "byom_model_bias_monitor",
            {"bias_config": {"facet_name": "age"}},
            "bias_config.label_values_or_threshold",
            "required",
        ),
        (
            "byom_model_bias_monitor",
            {"bias_config": {"label_values_or_threshold": [1], "facet_name": "age", "facet_value": [3]}},
            "bias_config.facet_value",
            "not accepted",
        ),
        (
            "byom_model_explainability_monitor",
            {"shap_config": {"baseline": [[1]], "agg_method": "max"}},
            "shap_config.agg_method",
            "mean_abs",
        ),
        (
            "byom_model_explainability_monitor",
            {"shap_config": {"baseline": [[1]], "num_clusters": 4}},
            "shap_config",
            "one of them",
        ),
        (
            "byom_model_explainability_monitor",
            {"model_scores": {"label": 0, "probabilty": 1}},
            "model_scores.probabilty",
            "not accepted",
        ),
        (
            "byom_model_explainability_monitor",
            {"model_scores": [0]},
            "model_scores",
            "an index, a JMESPath expression or an object",
        ),
        (
            "byom_model_bias_monitor",
            {"model_predicted_label_config": '{"probability_threshold": 2}'},
            "model_predicted_label_config.probability_threshold",
            "",
        ),
    ],
)
def test_clarify_settings_are_checked_when_the_request_arrives(
    kind: str, change: dict[str, Any], field: str, words: str
) -> None:
    from chalicelib.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as refused:
        rendered(kind, None, **change)
    problems = {p.field: p.problem for p in refused.value.problems}
    assert field in problems and words in problems[field], problems


@pytest.mark.parametrize(
    ("kind", "default"),
    [
        ("byom_data_quality_monitor", "3600"),
        ("byom_model_quality_monitor", "3600"),
        ("byom_model_bias_monitor", "7200"),
        ("byom_model_explainability_monitor", "10800"),
    ],
)
def test_each_monitor_type_has_its_own_baseline_runtime_default(kind: str, default: str) -> None:
    body = {k: v for k, v in load_event(f"valid/{kind}").items() if k != "baseline_max_runtime_seconds"}
    entry = REGISTRY.get(kind)
    params = render_model_monitor(request := parse(entry.model, body, SETTINGS), entry.context(request, SETTINGS, None))
    assert params["BaselineMaxRuntime"] == default


@pytest.mark.server
def test_local_mode_without_the_layers_packages_says_how_to_get_them(
    plane: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MLOPS_LAYER_PYTHON", str(tmp_path / "no-python"))
    _, machine = deployed_baseline(plane, "byom_model_bias_monitor")
    with pytest.raises(ExecutionFailed) as failed:
        run(plane.session, machine, {})
    assert "uses the SageMaker SDK layer" in failed.value.cause and "make layer-venv" in failed.value.cause


def dashboard(blueprint: str, kind: str, engine: str | None) -> dict[str, Any]:
    params = {**rendered(kind, engine), "BaselineReady": "true"}
    resolved = present(blueprint, {**params, "AWS::StackName": "mlops-pipeline-churn-monitor"})["Dashboard"]
    assert resolved["DashboardName"] == "mlops-pipeline-churn-monitor-us-east-1"  # global names: region in it
    return {"params": params, "body": json.loads(resolved["DashboardBody"])}


def searches(body: dict[str, Any]) -> list[str]:
    return [
        entry["expression"]
        for widget in body["widgets"]
        for line in widget["properties"].get("metrics", [])
        for entry in line
        if isinstance(entry, dict) and "expression" in entry
    ]


@pytest.mark.parametrize(
    ("blueprint", "kind", "engine"),
    [
        ("serverless_monitor_pipeline.yaml", "byom_data_quality_monitor", "serverless"),
        ("serverless_monitor_pipeline.yaml", "byom_model_quality_monitor", "serverless"),
        ("model_monitor_pipeline.yaml", "byom_data_quality_monitor", "sagemaker"),
        ("model_monitor_pipeline.yaml", "byom_model_bias_monitor", None),
    ],
)
def test_the_dashboard_shows_the_endpoint_s_traffic_latency_and_errors(
    blueprint: str, kind: str, engine: str | None
) -> None:
    found = dashboard(blueprint, kind, engine)
    endpoint = found["params"]["EndpointName"]
    wanted = {"Invocations", "ModelLatency", "Invocation4XXErrors", "Invocation5XXErrors"}
    shown = {e.split('MetricName="')[1].split('"')[0] for e in searches(found["body"]) if "AWS/SageMaker" in e}
    assert shown == wanted
    assert all(f'EndpointName="{endpoint}"' in e for e in searches(found["body"]) if "AWS/SageMaker" in e)
    for widget in found["body"]["widgets"]:
        if widget["type"] == "metric":
            assert widget["properties"]["region"] == "us-east-1" and widget["properties"]["title"]


def test_the_serverless_dashboard_graphs_every_metric_the_monitor_publishes() -> None:
    """The dashboard and the function agree on metric names and dimensions: a renamed metric
    would leave a widget empty without any error."""
    from blueprints.functions.serverless_monitor import handler

    found = dashboard("serverless_monitor_pipeline.yaml", "byom_data_quality_monitor", "serverless")
    endpoint = found["params"]["EndpointName"]
    report = {
        "violations": [], "records": 10,
        "features": {"x0": {"completeness": 1.0, "drift": {"p_value": 0.5, "statistic": 0.1}}},
        "model_quality": {"metrics": {"accuracy": 0.9}},
    }  # fmt: skip
    published = {
        (m["MetricName"], tuple(sorted(d["Name"] for d in m["Dimensions"]))) for m in handler._metrics(report, endpoint)
    }
    graphed = set()
    for widget in found["body"]["widgets"]:
        for line in widget["properties"].get("metrics", []):
            if isinstance(line[0], str) and line[0] == handler.NAMESPACE:
                assert line[2:4] == ["Endpoint", endpoint]
                graphed.add((line[1], ("Endpoint",)))
    for expression in searches(found["body"]):
        if handler.NAMESPACE in expression:
            dimensions = expression.split("{")[1].split("}")[0].split(",")[1:]
            assert f'Endpoint="{endpoint}"' in expression
            graphed.add((expression.split('MetricName="')[1].split('"')[0], tuple(sorted(dimensions))))
    assert graphed == published


def test_the_model_monitor_dashboard_searches_by_its_schedule() -> None:
    found = dashboard("model_monitor_pipeline.yaml", "byom_data_quality_monitor", "sagemaker")
    schedule = found["params"]["ScheduleName"]
    monitor = [e for e in searches(found["body"]) if "MonitoringSchedule" in e]
    assert len(monitor) == 3 and all(f'MonitoringSchedule="{schedule}"' in e for e in monitor)
    assert any("feature_baseline_drift" in e for e in monitor)


def test_only_data_quality_fans_out_and_its_roles_hold_what_a_distributed_map_needs() -> None:
    """Step Functions runs a Distributed Map's items as child executions of the same machine, so its
    role needs StartExecution on itself and Describe/StopExecution on those children, and GetObject
    on the manifest its ItemReader reads; the emulator checks none of it."""
    quality = present("serverless_monitor_pipeline.yaml", rendered("byom_model_quality_monitor", "serverless"))
    assert not {"ScaleOutStateMachine", "ScaleOutRole"} & set(quality)
    params = rendered("byom_data_quality_monitor", "serverless")
    found = present("serverless_monitor_pipeline.yaml", params)
    name = f"{params['FunctionName']}-scale-out"
    assert found["ScaleOutStateMachine"]["StateMachineName"] == name and len(name) <= 80
    statements = found["ScaleOutRole"]["Policies"][0]["PolicyDocument"]["Statement"]
    machine_arn = f"arn:aws:states:us-east-1:111122223333:stateMachine:{name}"
    assert {"Effect": "Allow", "Action": "states:StartExecution", "Resource": machine_arn} in statements
    # Child executions are named <machine>/<map run>:<id>: the grant covers them, not other machines'.
    children = f"arn:aws:states:us-east-1:111122223333:execution:{name}/*"
    assert {"Effect": "Allow", "Action": ["states:DescribeExecution", "states:StopExecution"],
            "Resource": children} in statements  # fmt: skip
    function_arn = f"arn:aws:lambda:us-east-1:111122223333:function:{params['FunctionName']}"
    assert {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": function_arn} in statements
    output = f"arn:aws:s3:::{params['MonitoringOutputLocation']}/*"
    assert {"Effect": "Allow", "Action": "s3:GetObject", "Resource": output} in statements
    own = found["MonitorFunctionRole"]["Policies"][0]["PolicyDocument"]["Statement"]
    assert {"Effect": "Allow", "Action": "states:StartExecution", "Resource": "ScaleOutStateMachine"} in own
    machine = json.loads(found["ScaleOutStateMachine"]["DefinitionString"])
    fan = machine["States"][machine["StartAt"]]
    assert fan["Type"] == "Map" and fan["ItemProcessor"]["ProcessorConfig"]["Mode"] == "DISTRIBUTED"
    assert fan["ItemReader"]["Resource"] == "arn:aws:states:::s3:getObject"
    assert fan["ToleratedFailurePercentage"] == 0  # a lost slice would change the report
