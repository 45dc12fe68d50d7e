"""The hostile bodies and config uploads, as one table each.

A case names what the answer must say: the status, the field a problem names and words of
that problem. Accepted cases are dry runs, so even they write nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tests.support.events import EVENTS, load_event

HOSTILE_EVENTS = EVENTS / "bad" / "hostile"
MAX_BODY = 256 * 1024
ARABIC_INDIC, FULL_WIDTH = 0x0660, 0xFF10  # each script's digit zero


@dataclass(frozen=True)
class Case:
    name: str
    body: bytes
    status: int = 400
    field: str | None = None  # the field one of the problems must name (None: an accepted case)
    words: str = ""  # words that problem must hold
    path: str = "/provisionpipeline"
    content_type: str = "application/json"


def digits_in(zero: int, text: str) -> str:
    return "".join(chr(zero + int(c)) if c in "0123456789" else c for c in text)


def body(event: str = "byom_realtime_builtin", **changes: Any) -> bytes:
    """A valid body of ``event`` with ``changes`` (None removes a key), JSON-encoded."""
    value = load_event(f"valid/{event}")
    for key, change in changes.items():
        if change is None:
            value.pop(key, None)
        else:
            value[key] = change
    return json.dumps(value).encode()


def spliced(fragment: str, event: str = "byom_realtime_builtin", **changes: Any) -> bytes:
    """A valid body with raw JSON text ``fragment`` added as its last members (what json.dumps cannot write)."""
    text = body(event, **changes).decode()
    return (text[: text.rindex("}")] + ", " + fragment + "}").encode()


def file(name: str) -> bytes:
    return (HOSTILE_EVENTS / f"{name}.json").read_bytes()


def nested(levels: int, inner: str = "1") -> str:
    return "[" * levels + inner + "]" * levels


BIAS_STRING = '{"label_values_or_threshold": [1], "facet_name": "age"}'

# fmt: off
HTTP_CASES: list[Case] = [
    # framing and encoding
    Case("empty", b"", field="body", words="empty"),
    Case("whitespace only", b" \r\n\t ", field="body", words="empty"),
    Case("empty object", b"{}", field="body", words="empty object"),
    Case("null", b"null", field="body", words="must be a JSON object"),
    Case("list", b"[]", field="body", words="must be a JSON object"),
    Case("string", b'"byom_realtime_builtin"', field="body", words="must be a JSON object"),
    Case("number", b"42", field="body", words="must be a JSON object"),
    Case("boolean", b"true", field="body", words="must be a JSON object"),
    Case("truncated", b'{"pipeline_type": ', field="body", words="not valid JSON"),
    Case("trailing garbage", body() + b" x", field="body", words="not valid JSON"),
    Case("two objects", body() + body(), field="body", words="not valid JSON"),
    Case("single quotes", b"{'pipeline_type': 'byom_realtime_builtin'}", field="body", words="not valid JSON"),
    Case("comment", body()[:-1] + b" /* note */}", field="body", words="not valid JSON"),
    Case("raw control character in a string", body(model_name="churn").replace(b"churn", b"ch\x01urn", 1),
         field="body", words="not valid JSON"),
    Case("invalid UTF-8", b'{"pipeline_type": "\xff\xfe"}', field="body", words="not UTF-8"),
    Case("UTF-16 with its byte order mark", "\ufeff".encode("utf-16-le") + body().decode().encode("utf-16-le"),
         field="body", words="not UTF-8"),
    Case("UTF-8 byte order mark, dry run", b"\xef\xbb\xbf" + body(dry_run=True), status=200),
    Case("form encoded", b"pipeline_type=byom_realtime_builtin&model_name=churn", field="body",
         words="not valid JSON", content_type="application/x-www-form-urlencoded"),
    Case("JSON sent as a form (curl -d), dry run", body(dry_run=True), status=200,
         content_type="application/x-www-form-urlencoded"),
    Case("larger than the limit", body(model_name="m" * (MAX_BODY + 1)), field="body", words="larger than"),
    # depth and size
    Case("100000 nested lists", nested(100_000).encode(), field="body", words="levels deep"),
    Case("40 nested lists in a field", spliced(f'"x": {nested(40)}'), field="body", words="levels deep"),
    Case("deep JSON inside a bias_config string",
         body("byom_model_bias_monitor", bias_config='{"facet_name": ' + nested(50_000) + "}"),
         field="bias_config", words="levels deep"),
    Case("deep JSON inside a shap_config string",
         body("byom_model_explainability_monitor", shap_config='{"baseline": ' + nested(5_000) + "}"),
         field="shap_config", words="levels deep"),
    Case("an enormous model_name", body(model_name="m" * 200_000), field="model_name", words="at most 54"),
    Case("an enormous unknown key", spliced(f'"{"k" * 100_000}": 1'), field="k" * 100_000, words="not a field"),
    Case("2000 unknown keys", spliced(", ".join(f'"extra{i}": {i}' for i in range(2000))),
         field="extra1999", words="not a field"),
    # numbers
    Case("NaN", spliced('"instance_count": NaN', "byom_batch_builtin"), field="instance_count", words="NaN"),
    Case("Infinity", spliced('"instance_count": Infinity', "byom_batch_builtin"), field="instance_count",
         words="Infinity"),
    Case("-Infinity", spliced('"instance_count": -Infinity', "byom_batch_builtin"), field="instance_count",
         words="Infinity"),
    Case("a hyperparameter 1e400", file("overflowing_hyperparameter"), field="algo_hyperparamaters.eta",
         words="too large"),
    Case("a 400-digit integer", spliced('"instance_count": ' + "9" * 400, "byom_batch_builtin"),
         field="instance_count", words="too large"),
    Case("a 5000-digit integer", spliced('"instance_count": ' + "9" * 5000, "byom_batch_builtin"),
         field="instance_count", words="too large"),
    Case("NaN inside a bias_config string", file("nan_in_bias_config_string"), field="bias_config", words="NaN"),
    Case("a count of 1e308", spliced('"instance_count": 1e308', "byom_batch_builtin"), field="instance_count",
         words="between 1 and 100"),
    Case("a fractional count", body("byom_batch_builtin", instance_count=2.5), field="instance_count",
         words="whole number"),
    Case("a negative count", body("byom_batch_builtin", instance_count=-1), field="instance_count",
         words="between 1 and 100"),
    # duplicate keys
    Case("dry_run true then false", file("duplicate_dry_run"), field="dry_run", words="more than once"),
    Case("pipeline_type twice", spliced('"pipeline_type": "byom_batch_builtin"'), field="pipeline_type",
         words="more than once"),
    Case("the same key twice with the same value",
         spliced('"model_framework": "xgboost"'), field="model_framework", words="more than once"),
    Case("a key twice in a nested object",
         body("byom_model_bias_monitor").replace(b'"facet_name": "age"', b'"facet_name": "age", "facet_name": "sex"'),
         field="bias_config.facet_name", words="more than once"),
    Case("a key twice inside a bias_config string",
         body("byom_model_bias_monitor", bias_config=BIAS_STRING[:-1] + ', "facet_name": "sex"}'),
         field="bias_config", words="facet_name: is given more than once"),
    # Unicode
    Case("Arabic-Indic digits as the account id", file("arabic_indic_account_id"), field="custom_image_uri",
         words="ECR image URI"),
    Case("full-width digits as the account id",
         body("byom_realtime_custom",
              custom_image_uri=digits_in(FULL_WIDTH, "111122223333") + ".dkr.ecr.us-east-1.amazonaws.com/r:v1"),
         field="custom_image_uri", words="ECR image URI"),
    Case("Arabic-Indic digits as a count", body("byom_batch_builtin", instance_count=digits_in(ARABIC_INDIC, "2")),
         field="instance_count", words="whole number"),
    Case("Arabic-Indic digits in a rate schedule",
         body("byom_data_quality_monitor", monitor_engine="serverless",
              schedule_expression=f"rate(1{digits_in(ARABIC_INDIC, '5')} minutes)"),
         field="schedule_expression", words="not valid"),
    Case("a lone surrogate", b'{"pipeline_type": "byom_realtime_builtin", "model_name": "churn\\ud800"}',
         field="model_name", words="surrogate"),
    Case("a Cyrillic letter in model_name", body(model_name="churn-xgb\u043eost"), field="model_name",
         words="letters, digits and hyphens"),
    Case("full-width letters in pipeline_type", body(pipeline_type="\uff42yom_realtime_builtin"),
         field="pipeline_type", words="byom_realtime_builtin"),
    Case("a zero-width space in model_name", body(model_name="churn\u200bxgboost"), field="model_name",
         words="letters, digits and hyphens"),
    # control characters
    Case("C1 control in a text field", file("c1_control_in_target_attribute"), field="target_attribute",
         words="U+0085"),
    Case("DEL in a text field", body("byom_batch_builtin", content_type="text/csv\x7f"), field="content_type",
         words="U+007F"),
    Case("NUL in a hyperparameter", body("model_training_builtin",
                                         algo_hyperparamaters={"objective": "binary:logistic\x00"}),
         field="algo_hyperparamaters", words="U+0000"),
    Case("a line feed in a text field", body("model_autopilot_training", target_attribute="churn\nflag"),
         field="target_attribute", words="U+000A"),
    Case("ESC in a model card description",
         json.dumps({"pipeline_type": "create_model_card", "name": "churn-card",
                     "model_overview": {"model_description": "\x1b[31mred"}}).encode(),
         field="model_overview.model_description", words="U+001B"),
    # wrong types and missing keys
    Case("pipeline_type missing", body(pipeline_type=None), field="pipeline_type", words="byom_realtime_builtin"),
    Case("pipeline_type a number", body(pipeline_type=7), field="pipeline_type", words="byom_realtime_builtin"),
    Case("model_name a list", body(model_name=["churn"]), field="model_name", words="must be a string"),
    Case("bias_config a number", body("byom_model_bias_monitor", bias_config=3), field="bias_config",
         words="JSON object"),
    Case("bias_config a string that is not JSON", body("byom_model_bias_monitor", bias_config="age > 40"),
         field="bias_config", words="JSON object"),
    Case("dry_run neither true nor false", body(dry_run="maybe"), field="dry_run", words="true or false"),
    Case("hyperparameters a list", body("model_training_builtin", algo_hyperparamaters=["eta", 0.3]),
         field="algo_hyperparamaters", words="JSON object"),
    Case("inference_instance null", body(inference_instance=None)[:-1] + b', "inference_instance": null}',
         field="inference_instance", words="is required"),
    # the other routes that read a body
    Case("status: pipeline_id twice", b'{"pipeline_id": "a", "pipeline_id": "b"}', path="/pipelinestatus",
         field="pipeline_id", words="more than once"),
    Case("status: NaN", b'{"pipeline_id": NaN}', path="/pipelinestatus", field="pipeline_id", words="NaN"),
    Case("approval: deep nesting", nested(10_000).encode(), path="/pipelines/p/approval", field="body",
         words="levels deep"),
]
# fmt: on


# fmt: off
# Config uploads: the handler must record a failed result naming the problem (or the dry run
# it was asked for) and return normally, so the event is neither lost nor redelivered.
UPLOAD_CASES: list[Case] = [
    Case("deep JSON inside a bias_config string",
         body("byom_model_bias_monitor", bias_config='{"facet_name": ' + nested(50_000) + "}"),
         field="bias_config", words="levels deep"),
    Case("100000 nested lists", nested(100_000).encode(), field="body", words="levels deep"),
    Case("dry_run true then false", file("duplicate_dry_run"), field="dry_run", words="more than once"),
    Case("NaN inside a bias_config string", file("nan_in_bias_config_string"), field="bias_config", words="NaN"),
    Case("a hyperparameter 1e400", file("overflowing_hyperparameter"), field="algo_hyperparamaters.eta",
         words="too large"),
    Case("Arabic-Indic digits as the account id", file("arabic_indic_account_id"), field="custom_image_uri",
         words="ECR image URI"),
    Case("C1 control in a text field", file("c1_control_in_target_attribute"), field="target_attribute",
         words="U+0085"),
    Case("invalid UTF-8", b'{"pipeline_type": "\xc3\x28"}', field="body", words="not UTF-8"),
    Case("empty", b"", field="body", words="empty"),
    Case("a list", b'[{"pipeline_type": "byom_realtime_builtin"}]', field="body", words="must be a JSON object"),
    Case("larger than the limit", body(model_name="m" * (MAX_BODY + 1)), field="body", words="larger than"),
    Case("a lone surrogate", b'{"pipeline_type": "byom_realtime_builtin", "model_name": "\\udfff"}',
         field="model_name", words="surrogate"),
    Case("UTF-8 byte order mark, dry run", b"\xef\xbb\xbf" + body(dry_run=True), status=200),
]
# fmt: on
