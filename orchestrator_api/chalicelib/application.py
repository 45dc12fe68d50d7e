"""The orchestrator's Chalice app: routes and the config-bucket handler, wired and nothing else.

``app.py`` (the Lambda handlers' module, as Chalice and the SAM template name it) and local mode
both take the app from here, so an installed package serves the same app a checkout does.
"""

from __future__ import annotations

from typing import Any

from chalice.app import Chalice

from chalicelib import config_trigger, model_events, retraining
from chalicelib.routes.api import routes
from chalicelib.routes.lifecycle import lifecycle
from chalicelib.routes.models import models
from chalicelib.settings import get_settings

app = Chalice(app_name="mlops-orchestrator")
app.register_blueprint(routes)
app.register_blueprint(lifecycle)
app.register_blueprint(models)


# A plain Lambda handler rather than @app.on_s3_event: Chalice's S3Event reads only the
# first record and fails on S3's s3:TestEvent, which has none. The SAM template subscribes
# this function to the config bucket (suffix mlops-config.json). The handler raises on any
# failure that is not the config's own fault, so Lambda retries the event (twice) and then
# sends it to the dead-letter queue; config_trigger says which failures those are.
@app.lambda_function(name="on_config_upload")
def on_config_upload(event: dict[str, Any], context: Any) -> list[dict[str, Any]]:
    return config_trigger.handle(event, get_settings())


# A plain Lambda handler for the EventBridge rule on SageMaker's "Model Package State Change":
# pipelines that follow a model package group move to its latest Approved package. It raises
# when a pipeline could not be moved, so Lambda retries the event (see model_events).
@app.lambda_function(name="on_model_package_event")
def on_model_package_event(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return model_events.handle(event, get_settings())


# A plain Lambda handler for monitors' violations: the serverless engine's report, published to
# the notifications topic (the subscription's filter policy passes only those), and SageMaker
# Model Monitor's executions (an EventBridge rule). A monitor with "retraining" starts its
# training pipeline again (see retraining).
@app.lambda_function(name="on_monitor_signal")
def on_monitor_signal(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return retraining.handle(event, get_settings())
