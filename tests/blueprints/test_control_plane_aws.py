"""What AWS checks on the control plane that the emulator does not.

moto accepts what AWS refuses: a HEAD answered 403 instead of 404, a caller without
lambda:InvokeFunction, a key policy EventBridge cannot use. Each test here stands in for one
such behaviour (the README's table "What AWS checks that the emulator does not" names them).
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from mlops_dev.translate import load as load_sam
from mlops_dev.translate import translate
from tests.support.iam import ROOT, Resolver, allows, as_list, load
from tests.support.templates import RULES, cfn_lint_cli

BUNDLE = "mlops_provisioned_pipelines/mlops-pipeline-x/0123456789abcdef.zip"
KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
STAGES = {"DevAccountId": "111111111111", "StagingAccountId": "222222222222", "ProdAccountId": "333333333333"}


def _buckets_read(statements: list[dict[str, Any]]) -> set[str]:
    """Buckets whose objects the statements let the role read."""
    found = set()
    for statement in statements:
        actions = [a.lower() for a in as_list(statement["Action"])]
        if statement["Effect"] == "Allow" and "s3:getobject" in actions:
            found |= {
                m.group(1) for r in as_list(statement["Resource"]) if (m := re.match(r"arn:aws:s3:::([^/*]+)/", r))
            }
    return found


@pytest.mark.parametrize("role", ["OrchestratorFunctionRole", "BlueprintInstallerRole"])
def test_roles_that_take_a_missing_object_for_absent_may_list_its_bucket(role: str) -> None:
    # S3 answers a HEAD or GET of a missing key with 403 instead of 404 unless the caller has
    # s3:ListBucket on the bucket: "is the bundle there yet?" would fail on a fresh install.
    statements = Resolver(load()).role_statements(role)
    read = _buckets_read(statements)
    assert read, f"{role} reads no bucket: the check would pass on nothing"
    unlisted = sorted(b for b in read if not allows(statements, "s3:ListBucket", f"arn:aws:s3:::{b}"))
    assert unlisted == [], f"{role} cannot tell a missing object in {unlisted} from a denied one"


def test_api_callers_need_execute_api_invoke_and_nothing_else() -> None:
    # With SAM's default InvokeRole (CALLER_CREDENTIALS) API Gateway invokes the function as the
    # caller, who then also needs lambda:InvokeFunction, or gets a 500.
    translated = translate(load_sam(), "code-bucket")
    [api] = [r for r in translated["Resources"].values() if r["Type"] == "AWS::ApiGateway::RestApi"]
    methods = [(path, verb, op) for path, ops in api["Properties"]["Body"]["paths"].items() for verb, op in ops.items()]
    assert methods
    with_caller_credentials = [
        f"{verb.upper()} {path}" for path, verb, op in methods if "credentials" in op["x-amazon-apigateway-integration"]
    ]
    assert with_caller_credentials == []
    granted = {
        r["Properties"]["SourceArn"]["Fn::Sub"][0].split("/", 2)[2]
        for r in translated["Resources"].values()
        if r["Type"] == "AWS::Lambda::Permission" and r["Properties"]["Principal"] == "apigateway.amazonaws.com"
    }
    for path, verb, _ in methods:
        route = f"{verb.upper()}{re.sub(r'{[^}]+}', '*', path)}"
        assert route in granted, f"API Gateway may not invoke the function for {route}"


def test_only_the_orchestrator_writes_pipeline_bundles() -> None:
    # The deploy role deploys whatever bundle is there: whoever could replace one would run
    # code as that role. Users upload models and data to the same bucket.
    plane = Resolver(load())
    policy = plane.resolve(plane.resources["AssetsBucketPolicy"]["Properties"]["PolicyDocument"])
    bundle = f"<AssetsBucket.Arn>/{BUNDLE}"
    guards = [
        s
        for s in as_list(policy["Statement"])
        if s["Effect"] == "Deny"
        and s.get("Principal") == "*"
        and all(allows([{**s, "Effect": "Allow"}], a, bundle) for a in ("s3:PutObject", "s3:DeleteObject"))
        and s.get("Condition", {}).get("ArnNotEquals", {}).get("aws:PrincipalArn") == "<OrchestratorFunctionRole.Arn>"
    ]
    assert guards, "nothing keeps other principals from replacing a pipeline bundle"


def _blueprint_roles() -> list[tuple[str, str, list[dict[str, Any]]]]:
    roles = []
    for path in sorted((ROOT / "blueprints").glob("*.yaml")):
        template = Resolver(load(path))
        for logical, resource in template.resources.items():
            if resource["Type"] == "AWS::IAM::Role":
                roles.append((path.name, logical, template.role_statements(logical)))
    return roles


def test_no_pipeline_role_may_decide_an_approval() -> None:
    # A role a pipeline deploys could otherwise approve its own promotion to prod.
    plane = Resolver(load())
    boundary = plane.resolve(plane.resources["PipelineRolesBoundary"]["Properties"]["PolicyDocument"])
    assert not allows(as_list(boundary["Statement"]), "codepipeline:PutApprovalResult")
    deciders = [f"{f} {r}" for f, r, s in _blueprint_roles() if allows(s, "codepipeline:PutApprovalResult")]
    assert deciders == []


def test_the_repository_lets_the_image_builder_push_its_tag_again() -> None:
    # A new upload of the image builder's zip builds and pushes <repository>:<image_tag> again;
    # ECR refuses that push into an IMMUTABLE repository.
    builder = (ROOT / "blueprints" / "byom_custom_algorithm_image_builder.yaml").read_text()
    assert "docker push" in builder
    repository = load()["Resources"]["EcrRepository"]["Properties"]
    assert repository["ImageTagMutability"] == "MUTABLE"


def test_promotion_is_not_offered_from_a_delegated_administrator() -> None:
    # CodePipeline's StackSets actions run only from the Organizations management account (or,
    # for account targets, any account with the StackSets administration role).
    template = load()
    assert "DelegatedAdminAccount" not in template["Parameters"]
    assert "IS_DELEGATED_ADMIN" not in str(template["Globals"])
    assert "management account" in (ROOT / "README.md").read_text()


def _rule_failures(**values: str) -> list[str]:
    """The Rules whose assertions fail for these parameter values (as CloudFormation evaluates them)."""
    template = load()
    plane = Resolver(template, **values)

    failed = []
    for name, rule in template.get("Rules", {}).items():
        if "RuleCondition" in rule and not plane.truth(rule["RuleCondition"]):
            continue
        failed += [f"{name}: {a['AssertDescription']}" for a in rule["Assertions"] if not plane.truth(a["Assert"])]
    return failed


@pytest.mark.parametrize(
    ("values", "refused"),
    [
        ({}, False),
        (STAGES, False),
        ({"DevAccountId": "111111111111"}, True),
        ({"DevAccountId": "111111111111", "StagingAccountId": "222222222222"}, True),
        ({"StagingAccountId": "222222222222", "ProdAccountId": "333333333333"}, True),
        ({**STAGES, "DevOrgId": "ou-ab12-cdefgh34"}, False),
        ({"DevOrgId": "ou-ab12-cdefgh34"}, True),
    ],
)
def test_stage_accounts_are_given_together_or_not_at_all(values: dict[str, str], refused: bool) -> None:
    # A DevAccountId without staging and prod made principals like arn:aws:iam:::root, which
    # IAM refuses deep inside the install; CloudFormation's Rules refuse it before anything starts.
    failures = _rule_failures(**values)
    assert bool(failures) == refused, failures


def test_with_a_key_every_role_that_reads_or_writes_the_encrypted_buckets_may_use_it() -> None:
    plane = Resolver(load(), KmsKeyArn=KEY)
    encrypted = {"mlops-assets-123456789012-us-east-1", "mlops-blueprints-123456789012-us-east-1",
                 "mlops-config-123456789012-us-east-1"}  # fmt: skip
    lacking = []
    for logical, resource in plane.resources.items():
        if resource["Type"] != "AWS::IAM::Role" or not plane.present(logical):
            continue
        statements = plane.role_statements(logical)
        for bucket in encrypted:
            if allows(statements, "s3:GetObject", f"arn:aws:s3:::{bucket}/x") and not allows(
                statements, "kms:Decrypt", KEY
            ):
                lacking.append(f"{logical}: kms:Decrypt (reads {bucket})")
            if allows(statements, "s3:PutObject", f"arn:aws:s3:::{bucket}/x") and not allows(
                statements, "kms:GenerateDataKey", KEY
            ):
                lacking.append(f"{logical}: kms:GenerateDataKey (writes {bucket})")
        if allows(statements, "sns:Publish", "<NotificationsTopic>") and not allows(
            statements, "kms:GenerateDataKey", KEY
        ):
            lacking.append(f"{logical}: kms:GenerateDataKey (publishes to the topic)")
    assert sorted(set(lacking)) == []


def test_with_a_key_the_install_checks_its_policy_first() -> None:
    plane = Resolver(load(), KmsKeyArn=KEY, **STAGES)
    checks = [
        plane.resolve(r["Properties"])
        for n, r in plane.resources.items()
        if r["Type"] == "AWS::CloudFormation::CustomResource" and plane.present(n)
    ]
    [check] = [c for c in checks if c["Action"] == "check-key-policy"]
    assert check["KeyArn"] == KEY and check["StageAccounts"] == list(STAGES.values())
    installer = plane.role_statements("BlueprintInstallerRole")
    assert allows(installer, "kms:GetKeyPolicy", KEY)


def test_the_project_rules_pass_on_the_translated_control_plane_and_every_template(tmp_path: Any) -> None:
    # The rules stand in for AWS's own checks (X-Ray for traced functions, the installation key,
    # lower-case SageMaker names, ...): they run here as well as in make lint.
    import json

    control_plane = tmp_path / "control-plane.json"
    control_plane.write_text(json.dumps(translate(load_sam(), "code-bucket"), default=str))
    files = [str(control_plane), *sorted(str(p) for p in (ROOT / "blueprints").glob("*.yaml"))]
    run = cfn_lint_cli("--append-rules", str(RULES), "--ignore-checks", "W", "--", *files)
    assert run.returncode == 0, run.stdout + run.stderr


def test_every_checkov_suppression_gives_its_reason() -> None:
    # make lint runs checkov; a finding is either fixed or skipped in the template with a reason.
    files = [ROOT / "sam" / "template.yaml", *sorted((ROOT / "blueprints").glob("*.yaml"))]
    skips = [
        (path.name, logical, skip)
        for path in files
        for logical, resource in load(path)["Resources"].items()
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    ]
    assert skips
    unexplained = [f"{f} {r} {s.get('id')}" for f, r, s in skips if len(str(s.get("comment", "")).split()) < 5]
    assert unexplained == []


# Kept on uninstall under their names because they hold the users' models, data and images; a
# new install in the same account and region adopts them with these parameters (README, Uninstall).
KEPT_DATA = {"AssetsBucket": "ExistingAssetsBucket", "EcrRepository": "ExistingEcrRepo"}
NAME_PROPERTIES = ("BucketName", "RoleName", "ManagedPolicyName", "RepositoryName", "TopicName", "QueueName")


def test_only_data_is_kept_under_a_fixed_name_on_uninstall() -> None:
    # A kept resource with a fixed name makes the next install in the account fail ("already
    # exists"); the emulator has no such memory across installs.
    resources = load()["Resources"]
    kept = sorted(
        name
        for name, r in resources.items()
        if r.get("DeletionPolicy") == "Retain" and any(p in r.get("Properties", {}) for p in NAME_PROPERTIES)
    )
    assert kept == sorted(KEPT_DATA)
    # ... and each is created only when its parameter does not name an existing one to adopt.
    for name, parameter in KEPT_DATA.items():
        plane = Resolver(load(), **{parameter: "left-by-an-earlier-install"})
        assert not plane.present(name), f"{name} is created although {parameter} names one to adopt"


def test_the_uninstall_guard_goes_first() -> None:
    # CloudFormation deletes a resource only after everything that depends on it: the guard
    # depends on every other resource, so a refused uninstall removes nothing.
    resources = load()["Resources"]
    guard = resources["UninstallGuard"]
    needed_by_the_guard = {"BlueprintInstallerFunction", "BlueprintInstallerRole"}
    unconditional = {
        name
        for name, r in resources.items()
        if "Condition" not in r and name != "UninstallGuard" and not r["Type"].startswith("AWS::Serverless::Layer")
    }
    assert set(guard["DependsOn"]) == unconditional - needed_by_the_guard
    assert guard["Properties"]["Action"] == "guard-uninstall"


def test_a_promoted_async_endpoints_api_may_write_its_inputs_to_the_assets_bucket() -> None:
    """A cross-account PutObject needs the bucket policy too: a promoted asynchronous endpoint's
    inference API writes each request under async-inference/ from its stage account."""
    policy_of = lambda plane: plane.resolve(plane.resources["AssetsBucketPolicy"]["Properties"]["PolicyDocument"])  # noqa: E731
    key = "<AssetsBucket.Arn>/async-inference/churn-endpoint/0a1b2c3d"
    for account in STAGES.values():
        statements = [
            s for s in as_list(policy_of(Resolver(load(), **STAGES))["Statement"])
            if isinstance(s.get("Principal"), dict) and f"arn:aws:iam::{account}:root" in as_list(s["Principal"]["AWS"])
        ]  # fmt: skip
        assert allows(statements, "s3:PutObject", key) and allows(statements, "s3:DeleteObject", key), account
        assert not allows(statements, "s3:PutObject", f"<AssetsBucket.Arn>/{BUNDLE}"), account
    single = as_list(policy_of(Resolver(load()))["Statement"])
    assert not any(s.get("Sid") == "StageAccountsAsyncInputs" for s in single)
