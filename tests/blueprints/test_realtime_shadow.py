"""The real-time blueprint's shadow variant: the template, what the emulator keeps, the status and the dry run.

CloudFormation's ``AWS::SageMaker::EndpointConfig`` takes ``ShadowProductionVariants``
(ProductionVariant objects) beside ``ProductionVariants``; moto's CloudFormation creates the
shadow variant's model but drops ``ShadowProductionVariants`` from the endpoint config and the
endpoint, so the variant itself is asserted on the template as CloudFormation would resolve it,
its live form (DescribeEndpoint ``ShadowProductionVariants``) through botocore's Stubber, and
local mode's status document says the variant is missing rather than showing it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from botocore.stub import Stubber

from chalicelib import endpoint_status
from chalicelib.models.base import parse
from chalicelib.pipelines.catalog import REGISTRY
from mlops_cfn import load
from tests.support.events import load_event
from tests.support.plane import Plane, post
from tests.support.realtime import T0, described, properties, rendered
from tests.support.settings import MULTI, SETTINGS
from tests.support.templates import CONTROL_PLANE, grants, statements


def example() -> dict[str, Any]:
    return load_event("valid/realtime/shadow")


# --- the template -------------------------------------------------------------------------


def test_the_endpoint_config_carries_one_shadow_variant_beside_the_production_variant() -> None:
    resolver = rendered(example())
    config = properties(resolver, "EndpointConfig")
    [production] = config["ProductionVariants"]
    assert (production["VariantName"], production["ModelName"], production["InitialVariantWeight"]) == (
        "AllTraffic", "<Model.ModelName>", 1)  # fmt: skip
    assert config["ShadowProductionVariants"] == [
        {
            "VariantName": "Candidate",
            "ModelName": "<ShadowModel.ModelName>",
            "InstanceType": "ml.m5.large",
            "InitialInstanceCount": "1",
            # 25% of the requests: the shadow's weight beside the production variant's 1.
            "InitialVariantWeight": "0.25",
        }
    ]
    assert "DataCaptureConfig" in config  # SageMaker captures the shadow variant's requests and answers too


def test_the_shadow_model_serves_the_candidate_as_the_models_role_in_the_models_network() -> None:
    resolver = rendered({**example(), "enable_network_isolation": True})
    model, shadow = properties(resolver, "Model"), properties(resolver, "ShadowModel")
    assert shadow["ModelName"] == resolver.names["ShadowSageMakerModelName"]
    assert shadow["ModelName"].startswith("churn-xgboost-shadow-") and shadow["ModelName"] != model["ModelName"]
    assert shadow["PrimaryContainer"] == {
        "Image": model["PrimaryContainer"]["Image"],
        "ModelDataUrl": "s3://mlops-assets/models/churn/candidate/model.tar.gz",
    }
    assert shadow["ExecutionRoleArn"] == model["ExecutionRoleArn"] == "<ModelExecutionRole.Arn>"
    assert shadow["EnableNetworkIsolation"] is True
    # The model's role reads the candidate's artifact (it reads every key of the assets bucket).
    role = properties(resolver, "ModelExecutionRole")["Policies"][0]["PolicyDocument"]
    reads = [s["Resource"] for s in statements(role) if s.get("Action") == "s3:GetObject"]
    assert "arn:aws:s3:::mlops-assets/*" in reads


def test_a_custom_candidate_runs_its_own_image_in_the_models_vpc() -> None:
    body = {**load_event("valid/realtime/vpc"), "shadow": {
        "model_artifact_location": "models/churn/candidate/model.tar.gz",
        "custom_image_uri": "111122223333.dkr.ecr.us-east-1.amazonaws.com/churn-serving:2.0"}}  # fmt: skip
    resolver = rendered(body)
    shadow = properties(resolver, "ShadowModel")
    assert shadow["PrimaryContainer"]["Image"] == "111122223333.dkr.ecr.us-east-1.amazonaws.com/churn-serving:2.0"
    assert shadow["VpcConfig"] == properties(resolver, "Model")["VpcConfig"]
    assert shadow["EnableNetworkIsolation"] is True


def test_without_a_shadow_there_is_no_shadow_model_nor_variant() -> None:
    resolver = rendered(load_event("valid/byom_realtime_builtin"))
    assert not resolver.present("ShadowModel")
    assert "ShadowProductionVariants" not in properties(resolver, "EndpointConfig")
    output = resolver.template["Outputs"]["ShadowSageMakerModelName"]
    assert not resolver.condition(output["Condition"])


def test_in_a_multi_account_installation_only_the_named_stage_gets_it() -> None:
    body = {**example(), "shadow": {**example()["shadow"], "stage": "prod"}}
    assert rendered(body, MULTI, "prod").present("ShadowModel")
    for stage in ("dev", "staging"):
        resolver = rendered(body, MULTI, stage)
        assert not resolver.present("ShadowModel")
        assert "ShadowProductionVariants" not in properties(resolver, "EndpointConfig")


def test_the_deploy_role_may_create_the_shadow_model_and_pass_it_the_models_role() -> None:
    """The same handler permissions as the model's (AWS::SageMaker::Model create: iam:PassRole, CreateModel)."""
    import cfnlint

    schemas = Path(cfnlint.__file__).parent / "data" / "schemas"
    index = json.loads((schemas / "providers" / "us-east-1.json").read_text())
    handlers = json.loads((schemas / "resources" / f"{index['AWS::SageMaker::Model']}.json").read_text())["handlers"]
    deploy = load(CONTROL_PLANE)["Resources"]["PipelineDeployRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    granted = grants(deploy)
    assert [a for h in ("create", "delete") for a in handlers[h]["permissions"] if not granted(a)] == []


# --- the emulator -------------------------------------------------------------------------


def provisioned(api: Any, plane: Plane) -> dict[str, Any]:
    from mlops_local.executor import Store, execute

    _, body = post(api, "/provisionpipeline", example())
    run = execute(plane.session, body["stack_name"], Store())
    assert run.status == "Succeeded", run.actions
    return body


def test_the_emulator_creates_the_shadow_model_and_drops_the_shadow_variant(api: Any, plane: Plane) -> None:
    provisioned(api, plane)
    sagemaker = plane.client("sagemaker")
    models = [sagemaker.describe_model(ModelName=m["ModelName"]) for m in sagemaker.list_models()["Models"]]
    assets = plane.config.assets_bucket
    assert sorted(m["PrimaryContainer"]["ModelDataUrl"] for m in models) == [
        f"s3://{assets}/models/churn/candidate/model.tar.gz",
        f"s3://{assets}/models/churn/model.tar.gz",
    ]
    [config] = sagemaker.list_endpoint_configs()["EndpointConfigs"]
    described = sagemaker.describe_endpoint_config(EndpointConfigName=config["EndpointConfigName"])
    assert [v["VariantName"] for v in described["ProductionVariants"]] == ["AllTraffic"]
    # moto keeps no ShadowProductionVariants: the template tests above stand in for it.
    assert not described.get("ShadowProductionVariants")


def test_local_status_says_the_shadow_variant_is_missing_rather_than_showing_it(api: Any, plane: Plane) -> None:
    body = provisioned(api, plane)
    _, doc = post(api, "/pipelinestatus", {"pipeline_id": body["pipeline_id"]})
    shadow = doc["endpoint"]["shadow"]
    assert shadow["requested"].startswith("shadow variant Candidate: model churn-xgboost-shadow-")
    assert shadow["requested"].endswith("on 1 x ml.m5.large, sent a copy of 25% of the requests (its answers are "
                                        "not returned to callers)")  # fmt: skip
    assert shadow["variants"] == []
    assert "the endpoint has no shadow variant Candidate: DescribeEndpoint lists none" in shadow["note"]


# --- the live endpoint (DescribeEndpoint's shape, checked by botocore's Stubber) -------------


def params_of(body: dict[str, Any]) -> dict[str, str]:
    entry = REGISTRY.get(body["pipeline_type"])
    return entry.render(parse(entry.model, body, SETTINGS), SETTINGS, None)


def test_the_status_document_shows_the_live_shadow_variant(stubbed_sagemaker: Stubber) -> None:
    shadow = {"VariantName": "Candidate", "CurrentWeight": 0.25, "CurrentInstanceCount": 1, "DesiredInstanceCount": 1,
              "VariantStatus": [{"Status": "Creating", "StartTime": T0}]}  # fmt: skip
    stubbed_sagemaker.add_response(
        "describe_endpoint", described(ShadowProductionVariants=[shadow]), {"EndpointName": "churn-endpoint"}
    )
    found = endpoint_status.describe("churn-endpoint", params_of(example()))
    assert [v["name"] for v in found["variants"]] == ["AllTraffic"]
    assert found["shadow"]["variants"] == [
        {"name": "Candidate", "weight": 0.25, "instances": {"current": 1, "desired": 1},
         "status": {"phase": "Creating", "message": None, "since": T0.isoformat()}}
    ]  # fmt: skip
    assert "note" not in found["shadow"]


def test_an_endpoint_without_a_shadow_variant_has_no_shadow_section(stubbed_sagemaker: Stubber) -> None:
    stubbed_sagemaker.add_response("describe_endpoint", described(), {"EndpointName": "churn-endpoint"})
    plain = params_of(load_event("valid/byom_realtime_builtin"))
    assert "shadow" not in endpoint_status.describe("churn-endpoint", plain)


def test_a_shadow_variant_the_stack_did_not_ask_for_is_still_shown(stubbed_sagemaker: Stubber) -> None:
    """A shadow test started from the console adds a variant to the endpoint; the document shows it."""
    shadow = {"VariantName": "console-test", "CurrentWeight": 1.0, "CurrentInstanceCount": 1}
    stubbed_sagemaker.add_response(
        "describe_endpoint", described(ShadowProductionVariants=[shadow]), {"EndpointName": "churn-endpoint"}
    )
    found = endpoint_status.describe("churn-endpoint", params_of(load_event("valid/byom_realtime_builtin")))
    assert found["shadow"]["requested"] is None
    assert [v["name"] for v in found["shadow"]["variants"]] == ["console-test"]


# --- the dry run ----------------------------------------------------------------------------


def preview(api: Any, body: dict[str, Any]) -> dict[str, Any]:
    status, answer = post(api, "/provisionpipeline", {**body, "dry_run": True})
    assert status == 200, answer
    return answer


def test_the_dry_run_says_a_shadow_variant_is_added_and_removed(api: Any, plane: Plane) -> None:
    with_shadow = example()
    without = {k: v for k, v in with_shadow.items() if k != "shadow"}
    post(api, "/provisionpipeline", without)
    answer = preview(api, with_shadow)
    notes = answer["endpoint_update"]["all"]
    assert notes[0].startswith("replaces the endpoint config; ")
    assert notes[-1].startswith("adds a shadow variant Candidate: model churn-xgboost-shadow-")
    assert "sent a copy of 25% of the requests" in notes[-1]
    [row] = [r for r in answer["parameter_diff"]["all"] if r["parameter"] == "ShadowSageMakerModelName"]
    assert row["old"] == "" and "replaces" not in row  # a new model, nothing replaced

    post(api, "/provisionpipeline", with_shadow)
    notes = preview(api, without)["endpoint_update"]["all"]
    assert notes[-1].startswith("removes the shadow variant Candidate: model churn-xgboost-shadow-")
    assert notes[-1].endswith("the production variant keeps all the traffic")

    bigger = {**with_shadow, "shadow": {**with_shadow["shadow"], "sampling_percent": 100}}
    notes = preview(api, bigger)["endpoint_update"]["all"]
    assert notes[-1].startswith("replaces the shadow variant Candidate with a shadow variant Candidate: ")
    assert "sent a copy of 100% of the requests" in notes[-1]
