"""Helpers shared by the test tiers (imported by tests, never by the product)."""
