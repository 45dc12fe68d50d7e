"""Requests to an API Gateway URL are SigV4-signed for execute-api in the URL's region."""

from __future__ import annotations

import pytest

from mlops_cli.client import Api, ClientError


def test_requests_to_api_gateway_carry_a_sigv4_signature(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    url = "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/pipelines"
    headers = Api("https://abc123.execute-api.eu-west-1.amazonaws.com/prod")._signed_headers("GET", url, None)
    assert headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/eu-west-1/execute-api/aws4_request" in headers["Authorization"]
    assert "X-Amz-Date" in headers


def test_without_credentials_only_a_local_api_is_called_unsigned(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    local = Api("http://127.0.0.1:8000")._signed_headers("GET", "http://127.0.0.1:8000/pipelines", None)
    assert "Authorization" not in local
    with pytest.raises(ClientError) as refused:
        Api("https://x.execute-api.us-east-1.amazonaws.com/prod")._signed_headers("GET", "https://x/y", None)
    assert refused.value.exit_code == 2
