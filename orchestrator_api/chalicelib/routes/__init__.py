"""HTTP routes (Chalice blueprints) and the mapping from domain errors to responses."""
