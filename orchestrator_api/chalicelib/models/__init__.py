"""Typed request models, one per pipeline type, and the shared field types."""
