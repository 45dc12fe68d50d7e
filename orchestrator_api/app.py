"""The orchestrator's Chalice app: routes and the config-bucket handler, wired and nothing else."""

from __future__ import annotations

import os
from typing import Any

from chalice.app import Chalice, S3Event
from chalicelib import config_trigger
from chalicelib.routes.api import routes
from chalicelib.settings import CONFIG_BUCKET, CONFIG_FILE_NAME, get_settings

app = Chalice(app_name="mlops-orchestrator")
app.register_blueprint(routes)


@app.on_s3_event(
    bucket=os.environ.get(CONFIG_BUCKET, "mlops-config-bucket"),
    events=["s3:ObjectCreated:*"],
    suffix=CONFIG_FILE_NAME,
)
def on_config_upload(event: S3Event) -> list[dict[str, Any]]:
    return config_trigger.handle(event.to_dict(), get_settings())
