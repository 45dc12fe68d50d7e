"""The orchestrator: everything its Lambda runs; ``application`` wires it to Chalice.

Imported by ``app.py`` (the Lambda handlers' module), by local mode (``mlops_local``), the
developer tools (``mlops_dev``) and the tests; it never imports them. Inside, modules import
downwards only: routes, then intake, then provisioning and its neighbours, then pipeline types,
models, stacks, bundles, and at the bottom the AWS clients and settings (the layers in
``.importlinter``, checked by ``make lint``).
"""
