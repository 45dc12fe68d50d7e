"""The Lambda handlers' module: ``app.app`` serves the API, ``app.on_config_upload`` the config bucket."""

from chalicelib.application import app, on_config_upload

__all__ = ["app", "on_config_upload"]
