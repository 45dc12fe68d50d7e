"""Typed request models, one per pipeline type, and the shared field types.

Imported by pipeline types, provisioning and the layers above it; it imports nothing of the
orchestrator but errors, settings and small helpers (naming, body, image URIs).
"""
