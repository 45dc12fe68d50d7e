"""The Lambda handlers' module: ``app.app`` serves the API, ``app.on_config_upload`` the config bucket,
``app.on_model_package_event`` the model registry's approvals."""

from chalicelib.application import app, on_config_upload, on_model_package_event

__all__ = ["app", "on_config_upload", "on_model_package_event"]
