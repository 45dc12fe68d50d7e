"""A larger, generated variant of the hostile tables (``-m long``; ``make test`` leaves it out).

Valid bodies of every type, made dry runs so that even an accepted body writes nothing, get
one or more hostile edits: a JSON token the rules refuse spliced in as a member, a key given
twice, deep nesting, or hostile text in place of a field's value.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.hostile.conftest import Edge
from tests.support.events import load_event, valid_types

pytestmark = pytest.mark.long
REFUSED_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")

REFUSED_TOKENS = ["NaN", "Infinity", "-Infinity", "1e400", "-1e309", "9" * 310, "[" * 40 + "]" * 40]
HOSTILE_CHARACTERS = (
    [chr(c) for c in range(0x20)]
    + ["\x7f"]
    + [chr(c) for c in range(0x80, 0xA0)]
    + [chr(0x0660 + d) for d in range(10)]
    + [chr(0xFF10 + d) for d in range(10)]
    + ["\u200b", "\u2028", "\ufeff", "\u043e", "\ud800", "\udfff"]
)
hostile_text = st.lists(st.sampled_from(HOSTILE_CHARACTERS) | st.text(max_size=4), min_size=1, max_size=8).map("".join)
PROFILE = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def member(key: str, raw: str) -> str:
    return f"{json.dumps(key)}: {raw}"


def splice(body: dict[str, Any], fragment: str) -> bytes:
    text = json.dumps(body)
    return (text[: text.rindex("}")] + ", " + fragment + "}").encode()


@st.composite
def refused_bodies(draw: Any) -> tuple[bytes, str]:
    """A body with one member the JSON rules refuse, and the path a problem must name."""
    body = {**load_event(f"valid/{draw(st.sampled_from(valid_types()))}"), "dry_run": True}
    key = draw(st.sampled_from(sorted(body)))
    kind = draw(st.sampled_from(["token", "duplicate", "token inside an object"]))
    if kind == "duplicate":
        return splice(body, member(key, json.dumps(body[key]))), key
    token = draw(st.sampled_from(REFUSED_TOKENS))
    if token.startswith("["):
        return splice({k: v for k, v in body.items() if k != key}, member(key, token)), "body"
    if kind == "token":
        return splice({k: v for k, v in body.items() if k != key}, member(key, token)), key
    return splice({k: v for k, v in body.items() if k != key}, member(key, "{" + member("x", token) + "}")), f"{key}.x"


@PROFILE
@given(case=refused_bodies())
def test_generated_refused_bodies(edge: Edge, case: tuple[bytes, str]) -> None:
    raw, field = case
    before = edge.written()
    response = edge.api.http.post("/provisionpipeline", body=raw, headers={"Content-Type": "application/json"})
    answer = json.loads(response.body)
    assert response.status_code == 400, answer
    assert field in {p["field"] for p in answer["problems"]}, answer
    assert edge.written() == before


@PROFILE
@given(pipeline_type=st.sampled_from(valid_types()), data=st.data())
def test_generated_hostile_text(edge: Edge, pipeline_type: str, data: Any) -> None:
    body = {**load_event(f"valid/{pipeline_type}"), "dry_run": True}
    fields = data.draw(st.lists(st.sampled_from(sorted(set(body) - {"dry_run"})), min_size=1, max_size=3))
    for field in fields:
        body[field] = data.draw(hostile_text)
    raw = json.dumps(body).encode()
    before = edge.written()
    response = edge.api.http.post("/provisionpipeline", body=raw, headers={"Content-Type": "application/json"})
    answer = json.loads(response.body)
    assert response.status_code in (200, 400), answer
    if response.status_code == 400:
        assert all(p["field"] and p["problem"] for p in answer["problems"]), answer
    else:
        assert answer["dry_run"] is True
        # No field takes control characters or half a surrogate pair.
        assert not any(REFUSED_CHARACTERS.search(body[field]) for field in fields), answer
    assert edge.written() == before
