"""HTTP routes (Chalice's ``Blueprint`` route groups) and the mapping from domain errors to responses.

The top layer: imported only by ``app.py`` (and ``routes.responses`` by the config-upload
handler); it may import any other part of the orchestrator.
"""
