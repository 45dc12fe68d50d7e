"""Pipeline types: one module per family and one registry (``catalog``) that lists them all."""
