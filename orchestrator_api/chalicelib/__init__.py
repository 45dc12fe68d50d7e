"""Everything the orchestrator Lambda runs; ``app.py`` only wires it to Chalice."""
