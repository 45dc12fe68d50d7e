"""The orchestrator: everything its Lambda runs; ``app.py`` only wires it to Chalice.

Imported by ``app.py``, by local mode and the tools in ``mlops_cli``, and by the tests; it
never imports them. Inside, modules import downwards only: routes, then intake, then
provisioning and its neighbours, then pipeline types, models, bundles, and at the bottom the
AWS clients and settings (the layers in ``.importlinter``, checked by ``make lint``).
"""
