"""Bodies written for the original solution, through the API and the config bucket: the keys a
type ignores come back as warnings, a model package is looked up when the request arrives, and
the original's lenient forms provision."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest

from tests.support.events import load_event
from tests.support.plane import Plane, post

CONFIG = "team-a/mlops-config.json"
LEFTOVERS = {"tuner_configs": {"objective_metric_name": "validation:auc"}, "baseline_inference_attribute": "0"}


def upload(plane: Plane, body: dict[str, Any]) -> None:
    plane.client("s3").put_object(Bucket=plane.config.config_bucket, Key=CONFIG, Body=json.dumps(body).encode())


def deliver(api: Any, plane: Plane) -> None:
    api.lambda_.invoke("on_config_upload", api.events.generate_s3_event(bucket=plane.config.config_bucket, key=CONFIG))


def result(plane: Plane) -> dict[str, Any]:
    key = CONFIG.replace(".json", ".result.json")
    return dict(json.loads(plane.client("s3").get_object(Bucket=plane.config.config_bucket, Key=key)["Body"].read()))


def bundle_params(plane: Plane, answer: dict[str, Any]) -> dict[str, str]:
    """The blueprint parameters of the bundle the pipeline stack names."""
    stack = plane.client("cloudformation").describe_stacks(StackName=answer["pipeline_id"])["Stacks"][0]
    params = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
    body = plane.client("s3").get_object(Bucket=params["AssetsBucket"], Key=params["TemplateZipFileName"])["Body"]
    with zipfile.ZipFile(io.BytesIO(body.read())) as bundle:
        name = next(n for n in bundle.namelist() if n.endswith(".json") and "param" in n)
        document = json.loads(bundle.read(name))
    found = document.get("Parameters", document)
    return {str(k): str(v) for k, v in found.items()}


def test_a_provision_answer_lists_the_keys_it_ignored(api: Any, plane: Plane) -> None:
    body = {**load_event("valid/model_training_builtin"), **LEFTOVERS}
    status, answer = post(api, "/provisionpipeline", body)
    assert status == 200, answer
    assert [w["field"] for w in answer["warnings"]] == ["baseline_inference_attribute", "tuner_configs"]
    assert "a field of model_tuner_builtin" in answer["warnings"][1]["warning"]
    # Ignored keys are not part of the request: without them it is the same pipeline.
    status, again = post(api, "/provisionpipeline", load_event("valid/model_training_builtin"))
    assert (status, again["action"], "warnings" in again) == (200, "unchanged", False)


def test_a_dry_run_lists_them_and_a_refusal_too(api: Any, plane: Plane) -> None:
    body = {**load_event("valid/model_training_builtin"), **LEFTOVERS, "dry_run": True}
    status, answer = post(api, "/provisionpipeline", body)
    assert (status, answer["action"]) == (200, "create")
    assert {w["field"] for w in answer["warnings"]} == set(LEFTOVERS)
    status, refused = post(api, "/provisionpipeline", {**body, "instance_count": 0, "colour": "blue"})
    assert status == 400
    assert {p["field"] for p in refused["problems"]} == {"instance_count", "colour"}
    assert {w["field"] for w in refused["warnings"]} == set(LEFTOVERS)
    assert plane.stacks() == []


def test_the_config_result_file_lists_them(api: Any, plane: Plane) -> None:
    upload(plane, {**load_event("valid/model_training_builtin"), **LEFTOVERS})
    deliver(api, plane)
    recorded = result(plane)
    assert recorded["outcome"] == "provisioned"
    assert {w["field"] for w in recorded["warnings"]} == set(LEFTOVERS)
    upload(plane, {**load_event("valid/model_training_builtin"), **LEFTOVERS, "instance_count": 0})
    deliver(api, plane)
    recorded = result(plane)
    assert recorded["outcome"] == "failed" and {w["field"] for w in recorded["warnings"]} == set(LEFTOVERS)


def test_a_tuner_with_only_its_metric_provisions(api: Any, plane: Plane) -> None:
    body = {**load_event("valid/model_tuner_builtin"), "tuner_configs": {"objective_metric_name": "validation:auc"}}
    status, answer = post(api, "/provisionpipeline", body)
    assert status == 200, answer
    config = json.loads(bundle_params(plane, answer)["TuningJobConfig"])
    assert config["HyperParameterTuningJobObjective"]["Type"] == "Maximize"
    assert config["ResourceLimits"]["MaxNumberOfTrainingJobs"] == 1


def _package(plane: Plane) -> str:
    sagemaker = plane.client("sagemaker")
    sagemaker.create_model_package_group(ModelPackageGroupName="churn")
    created = sagemaker.create_model_package(
        ModelPackageGroupName="churn",
        InferenceSpecification={
            "Containers": [
                {
                    "Image": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
                    "ModelDataUrl": "s3://my-data-bucket/churn/model.tar.gz",
                }
            ],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
    )
    return str(created["ModelPackageArn"])


def test_a_model_package_builds_the_model_in_an_installation_without_the_registry(api: Any, plane: Plane) -> None:
    arn = _package(plane)
    # The original's fixture gives the model keys and the package; the package wins.
    body = {**load_event("valid/byom_realtime_builtin"), "model_package_name": arn}
    status, answer = post(api, "/provisionpipeline", body)
    assert status == 200, answer
    assert {w["field"] for w in answer["warnings"]} == {
        "model_framework", "model_framework_version", "model_artifact_location"}  # fmt: skip
    params = bundle_params(plane, answer)
    assert (params["ModelPackageName"], params["ImageUri"], params["ModelArtifactLocation"]) == (arn, "", "")


def test_a_model_package_that_does_not_exist_is_a_400(api: Any, plane: Plane) -> None:
    body = load_event("valid/byom_realtime_builtin")
    body["model_package_name"] = "arn:aws:sagemaker:us-east-1:123456789012:model-package/churn/7"
    status, answer = post(api, "/provisionpipeline", body)
    assert status == 400, answer
    assert answer["problems"][0]["field"] == "model_package_name"
    assert "names no model package" in answer["problems"][0]["problem"]
    # The original's fixture named a package with wildcards: no package has such a name.
    body["model_package_name"] = "arn:aws:sagemaker:*:*:model-package/xgboost/1"
    status, answer = post(api, "/provisionpipeline", body)
    assert status == 400 and "versioned model package ARN" in answer["problems"][0]["problem"]
    assert plane.stacks() == []


def test_an_unversioned_package_named_by_name_is_kept_as_its_arn(api: Any, plane: Plane) -> None:
    plane.client("sagemaker").create_model_package(
        ModelPackageName="churn-solo",
        InferenceSpecification={
            "Containers": [{"Image": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
    )
    body = load_event("valid/byom_batch_builtin")
    for key in ("model_framework", "model_framework_version", "model_artifact_location"):
        del body[key]
    status, answer = post(api, "/provisionpipeline", {**body, "model_package_name": "churn-solo"})
    assert status == 200, answer
    assert bundle_params(plane, answer)["ModelPackageName"].endswith(":model-package/churn-solo")


def test_a_card_with_the_originals_extra_fields_is_created_with_warnings(api: Any, plane: Plane) -> None:
    body = {"pipeline_type": "create_model_card", "name": "test-card", "version": 1, "created_by": "DS",
            "model_overview": {"model_description": "model-description"}}  # fmt: skip
    status, answer = post(api, "/provisionpipeline", body)
    assert (status, answer["action"]) == (200, "created"), answer
    assert [w["field"] for w in answer["warnings"]] == ["created_by", "version"]
    described = plane.client("sagemaker").describe_model_card(ModelCardName="test-card")
    assert json.loads(described["Content"]) == {"model_overview": {"model_description": "model-description"}}


@pytest.mark.parametrize(
    ("package", "status"),
    [
        # AWS Marketplace's form: unversioned, of the seller's account; IAM refuses the lookup.
        ("arn:aws:sagemaker:us-east-1:865070037744:model-package/churn-classifier-0123456789", 400),
        # A central registry's version: a refusal there is the installation's roles (retry later).
        ("arn:aws:sagemaker:us-east-1:865070037744:model-package/churn-models/3", 503),
    ],
)
def test_a_foreign_package_the_installation_may_not_read_says_why(
    api: Any, plane: Plane, package: str, status: int
) -> None:
    from tests.support.faults import ACCESS_DENIED, fault

    body = {**load_event("valid/byom_realtime_builtin"), "model_package_name": package}
    with fault("sagemaker", "DescribeModelPackage", "865070037744", ACCESS_DENIED) as tap:
        got, answer = post(api, "/provisionpipeline", body)
    assert tap.fired and got == status, answer
    if status == 400:
        [problem] = answer["problems"]
        assert problem["field"] == "model_package_name"
        assert "the form AWS Marketplace models take" in problem["problem"]
