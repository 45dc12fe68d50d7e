"""The orchestrator's Chalice app: routes and the config-bucket handler, wired and nothing else.

``app.py`` (the Lambda handlers' module, as Chalice and the SAM template name it) and local mode
both take the app from here, so an installed package serves the same app a checkout does.
"""

from __future__ import annotations

from typing import Any

from chalice.app import Chalice

from chalicelib import config_trigger
from chalicelib.routes.api import routes
from chalicelib.routes.lifecycle import lifecycle
from chalicelib.settings import get_settings

app = Chalice(app_name="mlops-orchestrator")
app.register_blueprint(routes)
app.register_blueprint(lifecycle)


# A plain Lambda handler rather than @app.on_s3_event: Chalice's S3Event reads only the
# first record and fails on S3's s3:TestEvent, which has none. The SAM template subscribes
# this function to the config bucket (suffix mlops-config.json). The handler raises on any
# failure that is not the config's own fault, so Lambda retries the event (twice) and then
# sends it to the dead-letter queue; config_trigger says which failures those are.
@app.lambda_function(name="on_config_upload")
def on_config_upload(event: dict[str, Any], context: Any) -> list[dict[str, Any]]:
    return config_trigger.handle(event, get_settings())
