"""What a provision body asks for, whichever way it arrives (HTTP or a config upload): a
model-card operation, a dry run, or a pipeline to create or update."""

from __future__ import annotations

from typing import Any

from . import dryrun, model_card_operations, provisioning
from .body import switches
from .settings import Settings


def handle(body: dict[str, Any], settings: Settings, caller: str = "") -> dict[str, Any]:
    if model_card_operations.handles(body):
        return model_card_operations.handle(body, settings)
    asked = switches(body)
    if asked["dry_run"]:
        return dryrun.dry_run(body, settings, upgrade=asked["upgrade_blueprints"])
    return provisioning.provision(body, settings, caller=caller, upgrade=asked["upgrade_blueprints"])
