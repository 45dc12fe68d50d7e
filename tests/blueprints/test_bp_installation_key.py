"""The installation's customer-managed key reaches every blueprint, in every stage, so the roles
that read its buckets or publish to its topic may use it (cfn-lint rule E9011 checks the roles)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from chalicelib.models.base import parse
from chalicelib.models.fields import STAGES
from tests.support.events import load_event
from tests.support.settings import MULTI, SETTINGS
from tests.support.templates import VARIANTS, template

KEY = "arn:aws:kms:us-east-1:111122223333:key/0a1b2c3d-4e5f-6789-abcd-ef0123456789"


@pytest.mark.parametrize(("entry", "engine"), VARIANTS, ids=lambda v: getattr(v, "name", v))
@pytest.mark.parametrize("multi", [False, True], ids=["single-account", "multi-account"])
def test_every_stage_of_every_blueprint_gets_the_installation_key(entry: Any, engine: str | None, multi: bool) -> None:
    body = load_event(f"valid/{entry.name}")
    if engine:
        body["monitor_engine"] = engine
    for key in ("", KEY):
        settings = replace(MULTI if multi else SETTINGS, installation_kms_key_arn=key)
        request = parse(entry.model, body, settings)
        for stage in STAGES if multi and entry.multi_account else (None,):
            assert entry.render(request, settings, stage)["InstallationKmsKeyArn"] == key


@pytest.mark.parametrize("name", ["single_account_codepipeline.yaml", "multi_account_codepipeline.yaml"])
def test_the_pipeline_roles_may_use_the_key_and_need_none_without_it(name: str) -> None:
    body = template(name)
    # A default, so a pipeline stack keeps updating before its parameters name the key.
    assert body["Parameters"]["InstallationKmsKeyArn"]["Default"] == ""
    statements = body["Resources"]["PipelineRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    [conditional] = [s for s in statements if "Fn::If" in s and s["Fn::If"][0] == "HasInstallationKey"]
    _, granted, otherwise = conditional["Fn::If"]
    assert set(granted["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey"}
    assert granted["Resource"] == {"Ref": "InstallationKmsKeyArn"}
    assert otherwise == {"Ref": "AWS::NoValue"}
