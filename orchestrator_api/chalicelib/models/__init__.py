"""Typed request models, one per pipeline type, and the shared field types.

Imported by pipeline types, provisioning and the layers above it; it imports nothing of the
orchestrator but errors, settings and small helpers (naming, body, image URIs). Importing the
package defines every family's models, so the set of fields any type takes (which decides
whether an unknown key is a leftover of another type or a mistake) never depends on which
modules a caller happened to import.
"""

from . import image_builder, inference, model_cards, monitors, training  # noqa: F401  (registers every type)
