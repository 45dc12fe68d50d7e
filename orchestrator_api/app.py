"""The Lambda handlers' module: ``app.app`` serves the API, ``app.on_config_upload`` the config bucket,
``app.on_model_package_event`` the model registry's approvals, ``app.on_monitor_signal`` monitors' violations."""

from chalicelib.application import app, on_config_upload, on_model_package_event, on_monitor_signal

__all__ = ["app", "on_config_upload", "on_model_package_event", "on_monitor_signal"]
