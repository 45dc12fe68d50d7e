"""Property: no request body makes the application answer 5xx.

Bodies are drawn from three sources: arbitrary bytes, arbitrary JSON, and valid bodies of
every type with fields dropped, replaced by arbitrary JSON values, or added.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.events import load_event, valid_types
from tests.support.plane import Plane

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=80),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=20), inner, max_size=4),
    max_leaves=12,
)


@st.composite
def mutated_bodies(draw: Any) -> str:
    body = load_event(f"valid/{draw(st.sampled_from(valid_types()))}")
    keys = sorted(body)
    for key in draw(st.lists(st.sampled_from(keys), max_size=3, unique=True)):
        if draw(st.booleans()):
            body.pop(key, None)
        else:
            body[key] = draw(json_values)
    for key in draw(st.lists(st.text(max_size=12), max_size=2)):
        body[key] = draw(json_values)
    return json.dumps(body)


bodies = st.binary(max_size=300) | st.text(max_size=300) | json_values.map(json.dumps) | mutated_bodies()
content_types = st.sampled_from(
    ["application/json", "application/x-www-form-urlencoded", "text/plain", "application/octet-stream", "*/*"]
)
PROFILE = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@PROFILE
@given(body=bodies, content_type=content_types)
def test_provision_never_answers_5xx(api: Any, body: Any, content_type: str) -> None:
    response = api.http.post("/provisionpipeline", body=body, headers={"Content-Type": content_type})
    assert response.status_code < 500, response.body
    assert "message" in json.loads(response.body) or response.status_code == 200


@PROFILE
@given(body=bodies | json_values.map(lambda v: json.dumps({"pipeline_id": v})), content_type=content_types)
def test_status_never_answers_5xx(api: Any, body: Any, content_type: str) -> None:
    response = api.http.post("/pipelinestatus", body=body, headers={"Content-Type": content_type})
    assert response.status_code < 500, response.body


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies)
def test_any_config_upload_gets_a_result_object(api: Any, plane: Plane, body: Any) -> None:
    s3 = plane.client("s3")
    data = body if isinstance(body, bytes) else body.encode()
    s3.put_object(Bucket=plane.config.config_bucket, Key="fuzz/mlops-config.json", Body=data)
    event = api.events.generate_s3_event(bucket=plane.config.config_bucket, key="fuzz/mlops-config.json")
    [result] = api.lambda_.invoke("on_config_upload", event).payload
    assert result["outcome"] in ("provisioned", "unchanged", "failed", "dry run")
    if result["outcome"] == "failed":
        assert result["status"] < 500 or result["status"] == 501


path_parts = st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=126, blacklist_characters="/?#%"), max_size=40
)


@PROFILE
@given(
    name=path_parts,
    query=st.dictionaries(st.sampled_from(["type", "status", "next_token", "max_results", "x"]), path_parts),
    body=bodies,
)
def test_lifecycle_routes_never_answer_5xx(api: Any, name: str, query: dict[str, str], body: Any) -> None:
    from urllib.parse import quote, urlencode

    pipeline = quote(name or "x", safe="")
    answers = [
        api.http.get(f"/pipelines?{urlencode(query)}"),
        api.http.get(f"/pipelines/{pipeline}"),
        api.http.delete(f"/pipelines/{pipeline}"),
        api.http.post(f"/pipelines/{pipeline}/approval", body=body, headers={"Content-Type": "application/json"}),
    ]
    assert [a.status_code for a in answers if a.status_code >= 500] == [], [a.body for a in answers]
