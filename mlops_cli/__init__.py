"""The `mlops` CLI, and beside it local mode (the emulator), the demo and the developer tools.

Nothing in the orchestrator (``chalicelib``) imports this package. The CLI's own modules
(``main``, ``commands``, ``client``) never import the emulator, except that ``main`` starts
``mlops local`` through ``mlops_cli.local``; the rules are in ``.importlinter``.
"""
